"""The remote codec for the Temporal web UI: it decrypts what the workers' converter encrypted
(old keys included) for auditors of every state and operators (admins with the codec scope)
only, writes each decode to the disclosure log, encrypts nothing, and answers with the CORS
headers the browser needs on every answer."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from factories import person
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from adapters.keys import payload_keyring
from adapters.settings import Settings
from adapters.temporal.codec import ENCODING, EncryptionCodec, Keyring, data_converter
from api.app import create_app
from api.auth import issue_dev_token
from domain.values import Person

pytestmark = pytest.mark.temporal

SECRET = "test-secret-for-the-codec-tests-only-0123456789"
UI = "http://localhost:8080"
OLD, NEW = Keyring.new_key(), Keyring.new_key()
SETTINGS = Settings(
    jwt_secret=SECRET,
    payload_keys={"k1": OLD, "k2": NEW},
    payload_key_id="k2",
    master_keys={"m1": Keyring.new_key()},  # never the dev keys under ./.readmit
    database_url=None,
)


@pytest.fixture
async def http(time_env: WorkflowEnvironment, schema_dsn: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS, database_url=schema_dsn, client=time_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as client:
            yield client


def as_(
    role: str, state: str | None = None, states: tuple[str, ...] = (), scopes: tuple[str, ...] = ()
) -> dict[str, str]:
    token = issue_dev_token(
        SECRET,
        user=f"{role}.x",
        role=role,  # type: ignore[arg-type]
        state=state,
        states=states,
        scopes=scopes,
    )
    return {"Authorization": f"Bearer {token}", "Origin": UI, "X-Namespace": "default"}


AUDITOR = ("auditor", None, ("*",))  # an auditor of every state
OPERATOR = ("admin", "PL", (), ("codec:decode",))
ADMIN = ("admin", "PL")


def to_json(payloads: list[Payload]) -> dict[str, Any]:
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return {
        "payloads": [
            {"metadata": {k: b64(v) for k, v in p.metadata.items()}, "data": b64(p.data)}
            for p in payloads
        ]
    }


def from_json(body: dict[str, Any]) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in p["metadata"].items()},
            data=base64.b64decode(p.get("data", "")),
        )
        for p in body["payloads"]
    ]


async def test_decode_shows_what_the_worker_encrypted(http: httpx.AsyncClient) -> None:
    worker = data_converter(payload_keyring(SETTINGS))  # what `connect_client` gives workers
    before_rotation = data_converter(Keyring.from_encoded({"k1": OLD}, "k1"))
    [fresh] = await worker.encode([person()])
    [old] = await before_rotation.encode([person().model_copy(update={"surname": "Bondar"})])
    assert fresh.metadata["encoding"] == ENCODING and b"Shevchenko" not in fresh.data

    answer = await http.post("/codec/decode", json=to_json([fresh, old]), headers=as_(*AUDITOR))

    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == UI
    plain = from_json(answer.json())
    assert all(p.metadata["encoding"] == b"json/plain" for p in plain)
    people = await pydantic_data_converter.decode(plain, [Person, Person])
    assert people == [person(), person().model_copy(update={"surname": "Bondar"})]


async def test_there_is_no_encoding_for_anyone(http: httpx.AsyncClient) -> None:
    """The UI only reads histories: nobody makes ciphertext with the production key by HTTP."""
    plain = await pydantic_data_converter.encode([person()])
    for who in (ADMIN, OPERATOR, AUDITOR):
        answer = await http.post("/codec/encode", json=to_json(plain), headers=as_(*who))
        assert answer.status_code in (404, 405), (who, answer.text)
        assert "encryption-key-id" not in answer.text


async def test_operators_decode_and_other_admins_and_one_states_auditors_do_not(
    http: httpx.AsyncClient,
) -> None:
    [encrypted] = await data_converter(payload_keyring(SETTINGS)).encode([person()])
    body = to_json([encrypted])
    answer = await http.post("/codec/decode", json=body, headers=as_(*OPERATOR))
    assert answer.status_code == 200, answer.text
    assert await pydantic_data_converter.decode(from_json(answer.json()), [Person]) == [person()]
    for refused in (ADMIN, ("auditor", None, ("PL",)), ("auditor", None, ("PL", "UA"))):
        answer = await http.post("/codec/decode", json=body, headers=as_(*refused))
        assert answer.status_code == 403, (refused, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "Shevchenko" not in answer.text


async def test_each_decode_is_in_the_disclosure_log_with_the_cases_it_names(
    http: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    case_id = "PL-UA-2027-000042"
    codec = data_converter(payload_keyring(SETTINGS))
    [naming, anonymous] = await codec.encode([{"case_id": case_id, "person": "x"}, person()])

    for who in (AUDITOR, OPERATOR):
        answer = await http.post(
            "/codec/decode", json=to_json([naming, anonymous]), headers=as_(*who)
        )
        assert answer.status_code == 200, answer.text
    refused = await http.post("/codec/decode", json=to_json([naming]), headers=as_(*ADMIN))
    assert refused.status_code == 403

    rows = await pool.fetch(
        "SELECT user_id, role, case_id, case_ids, purpose, endpoint, fields FROM disclosure_log"
        " ORDER BY id"
    )
    assert [dict(r) for r in rows] == [
        {
            "user_id": f"{role}.x",
            "role": role,
            "case_id": None,
            "case_ids": [case_id],
            "purpose": "Temporal payloads decoded (namespace default)",
            "endpoint": "POST /codec/decode",
            "fields": ["payloads"],
        }
        for role in ("auditor", "admin")
    ]
    # an auditor finds the decodes among the case's disclosures
    listed = await http.get(
        "/audit/disclosures", params={"case_id": case_id}, headers=as_(*AUDITOR)
    )
    assert listed.status_code == 200, listed.text
    assert [i["endpoint"] for i in listed.json()["items"]] == ["POST /codec/decode"] * 2


@pytest.mark.parametrize("role", [("officer", "PL"), ("supervisor", "UA")])
async def test_officers_and_supervisors_are_refused(
    http: httpx.AsyncClient, role: tuple[str, str]
) -> None:
    [encrypted] = await data_converter(payload_keyring(SETTINGS)).encode([person()])
    for path in ("/codec/decode",):
        answer = await http.post(path, json=to_json([encrypted]), headers=as_(*role))
        assert answer.status_code == 403
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.headers["access-control-allow-origin"] == UI  # the UI can say why
        assert "Shevchenko" not in answer.text


async def test_no_token_is_401(http: httpx.AsyncClient) -> None:
    [encrypted] = await data_converter(payload_keyring(SETTINGS)).encode([person()])
    answer = await http.post("/codec/decode", json=to_json([encrypted]), headers={"Origin": UI})
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["access-control-allow-origin"] == UI


async def test_preflight_allows_the_ui_origin_only(http: httpx.AsyncClient) -> None:
    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    answer = await http.options("/codec/decode", headers={"Origin": UI, **asked})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == UI
    assert "X-Namespace" in answer.headers["access-control-allow-headers"]
    foreign = await http.options("/codec/decode", headers={"Origin": "https://evil.test", **asked})
    assert "access-control-allow-origin" not in foreign.headers


async def test_foreign_or_altered_payloads_are_422(http: httpx.AsyncClient) -> None:
    foreign = EncryptionCodec(Keyring({"k9": os.urandom(32)}, "k9"))
    [unknown_key] = await foreign.encode(await pydantic_data_converter.encode([person()]))
    [genuine] = await data_converter(payload_keyring(SETTINGS)).encode([person()])
    altered = Payload(
        metadata=genuine.metadata, data=genuine.data[:-1] + bytes([genuine.data[-1] ^ 1])
    )
    for bad in (unknown_key, altered):
        answer = await http.post("/codec/decode", json=to_json([bad]), headers=as_(*AUDITOR))
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"].endswith("/undecodable-payload")
    not_base64 = {"payloads": [{"metadata": {"encoding": "***"}, "data": "!!"}]}
    answer = await http.post("/codec/decode", json=not_base64, headers=as_(*AUDITOR))
    assert answer.status_code == 422
