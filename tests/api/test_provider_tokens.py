"""The identity provider's tokens (RS256, ES256) at the API: keys generated here, their JWKS
served by a real HTTP server on 127.0.0.1. A token must name the configured issuer and audience;
an unknown key id refetches the key set at most once per interval, awaited off the event loop,
so a flood of forged key ids neither hammers the provider nor stalls other requests."""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import jwt
import pytest
from api_harness import SECRET
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from api.app import create_app, verifier_from
from api.auth import AuthError, issue_dev_token

pytestmark = pytest.mark.temporal

ISSUER = "https://idp.readmit.test/realms/ministry"
AUDIENCE = "readmit-api"


@dataclass
class JwksServer:
    """A JWKS endpoint that counts its requests and may answer slowly."""

    document: dict[str, Any]
    delay: float = 0.0
    requests: int = 0
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def keys() -> dict[str, Any]:
    return {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
    }


@pytest.fixture
def jwks_server(keys: dict[str, Any]) -> Iterator[JwksServer]:
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys["rsa"].public_key()))
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(keys["ec"].public_key()))
    state = JwksServer(
        {
            "keys": [
                {**rsa_jwk, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
                {**ec_jwk, "kid": "ec-1", "alg": "ES256", "use": "sig"},
            ]
        }
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with state.lock:
                state.requests += 1
            time.sleep(state.delay)
            body = json.dumps(state.document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/jwks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
async def http(
    time_env: WorkflowEnvironment, schema_dsn: str, pool: asyncpg.Pool, jwks_server: JwksServer
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        jwt_algorithms=("HS256", "RS256", "ES256"),
        jwt_secret=SECRET,
        jwks_url=jwks_server.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwks_min_refresh_seconds=60,
        queue_prefix=f"t{secrets.token_hex(4)}",
        database_url=None,
    )
    app = create_app(settings, database_url=schema_dsn, client=time_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as client:
            yield client


def provider_token(key: Any, algorithm: str, kid: str, **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "anna.pl",
        "role": "officer",
        "state": "PL",
        "iat": now,
        "exp": now + 600,
        **changes,
    }
    present = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(present, key, algorithm, {"kid": kid})


async def status(http: httpx.AsyncClient, token: str) -> int:
    answer = await http.get("/inbox", headers={"Authorization": f"Bearer {token}"})
    return answer.status_code


async def test_provider_tokens_must_name_the_issuer_and_audience(
    http: httpx.AsyncClient, keys: dict[str, Any]
) -> None:
    rsa_key, ec_key = keys["rsa"], keys["ec"]
    assert await status(http, provider_token(rsa_key, "RS256", "rsa-1")) == 200
    assert await status(http, provider_token(ec_key, "ES256", "ec-1")) == 200
    refused = {
        "wrong aud": provider_token(rsa_key, "RS256", "rsa-1", aud="another-app"),
        "wrong iss": provider_token(rsa_key, "RS256", "rsa-1", iss="https://evil.test/realms/x"),
        "no aud": provider_token(rsa_key, "RS256", "rsa-1", aud=None),
        "no iss": provider_token(rsa_key, "RS256", "rsa-1", iss=None),
        "ES256 wrong aud": provider_token(ec_key, "ES256", "ec-1", aud="another-app"),
        "signed by another key": provider_token(
            rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", "rsa-1"
        ),
        "RS256 header on the EC key": provider_token(rsa_key, "RS256", "ec-1"),
    }
    for name, token in refused.items():
        answer = await http.get("/inbox", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, name
        assert answer.headers["content-type"].startswith("application/problem+json"), name
    # the service tokens of machine clients (HS256, the shared secret) still work
    service = issue_dev_token(SECRET, user="batch.pl", role="officer", state="PL")
    assert await status(http, service) == 200


async def test_a_flood_of_unknown_key_ids_neither_hammers_the_provider_nor_stalls_the_loop(
    http: httpx.AsyncClient, keys: dict[str, Any], jwks_server: JwksServer
) -> None:
    assert await status(http, provider_token(keys["rsa"], "RS256", "rsa-1")) == 200
    fetched = jwks_server.requests
    assert fetched == 1
    jwks_server.delay = 2.0  # a slow provider: a fetch inside the loop would stall it 2 s
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    forged = [
        provider_token(keys["rsa"], "RS256", f"random-{secrets.token_hex(6)}") for _ in range(40)
    ]
    answers = await asyncio.gather(*(status(http, token) for token in forged))
    stop.set()
    await ticking
    assert answers == [401] * len(forged)
    assert jwks_server.requests - fetched <= 1, "an unknown kid refetched more than once"
    # (a margin for a busy machine: a blocking fetch would stall the loop the full 2 s)
    assert max(gaps) < 1.0, f"the event loop stalled for {max(gaps):.2f} s"
    # the known key still answers from memory while the refetch interval runs
    assert await status(http, provider_token(keys["rsa"], "RS256", "rsa-1")) == 200
    assert jwks_server.requests - fetched <= 1


async def test_provider_claims_map_to_a_role_and_state(
    time_env: WorkflowEnvironment,
    schema_dsn: str,
    pool: asyncpg.Pool,
    jwks_server: JwksServer,
    keys: dict[str, Any],
) -> None:
    """A provider's own token (Keycloak realm roles, a state attribute) for a machine client."""
    settings = Settings(
        jwt_algorithms=("RS256",),
        jwks_url=jwks_server.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        oidc_role_map={"readmit-officer": "officer"},
        queue_prefix=f"t{secrets.token_hex(4)}",
        database_url=None,
    )
    app = create_app(settings, database_url=schema_dsn, client=time_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as client:
            mapped = provider_token(
                keys["rsa"],
                "RS256",
                "rsa-1",
                role=None,
                state=None,
                preferred_username="anna.pl",
                realm_access={"roles": ["readmit-officer", "offline_access"]},
                readmit_state="PL",
            )
            assert await status(client, mapped) == 200
            no_role = provider_token(
                keys["rsa"], "RS256", "rsa-1", role=None, realm_access={"roles": ["x"]}
            )
            assert await status(client, no_role) == 401
            hs256 = issue_dev_token(SECRET, user="anna.pl", role="officer", state="PL")
            assert await status(client, hs256) == 401  # HS256 is not accepted here
            # the provider's token names a Readmit role itself (a user-attribute mapper): with a
            # mapping configured it is never read, so it makes no all-states auditor
            forged = provider_token(
                keys["rsa"],
                "RS256",
                "rsa-1",
                role="auditor",
                state=None,
                states=["*"],
                realm_access={"roles": ["offline_access"]},
            )
            assert await status(client, forged) == 401


async def test_a_provider_token_with_a_mapping_never_reads_its_own_role_claims(
    jwks_server: JwksServer, keys: dict[str, Any]
) -> None:
    """`role`, `state` and `states` in a provider token are the provider's user attributes, not
    Readmit's: the configured mapping alone says who the caller is."""
    settings = Settings(
        jwt_algorithms=("RS256", "ES256"),
        jwks_url=jwks_server.url,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        oidc_role_map={"readmit-officer": "officer"},
        database_url=None,
    )
    verifier = verifier_from(settings)
    mapped = await verifier.verify(
        provider_token(
            keys["ec"],
            "ES256",
            "ec-1",
            role="auditor",
            state="DE",
            states=["*"],
            realm_access={"roles": ["readmit-officer"]},
            readmit_state="PL",
        )
    )
    assert (mapped.user_id, mapped.role, mapped.state) == ("anna.pl", "officer", "PL")
    assert not mapped.sees_state("DE")
    with pytest.raises(AuthError):
        await verifier.verify(
            provider_token(keys["rsa"], "RS256", "rsa-1", role="auditor", states=["*"])
        )
