"""What production refuses to run without: the one check of its secrets and addresses.

In production (`READMIT_ENV=production`) nothing is generated or guessed: every key comes from
the settings, and a process that would need a missing or weak one stops before it starts, with
one line naming every such setting (never a value). The API, the workers and each CLI command
that uses a key ask here, each for what it uses (`API`, `worker_needs`, or one part);
`adapters.keys` asks too before it hands out a key, so no code path reaches the development
keyring.

Weak means: a key that does not decode to 32 bytes (AES-256, an Ed25519 seed) or is one byte
repeated, a development key id (`dev-1`, `dev-master-1`, any `dev-...`), the same key serving
as payload key and master key, an active key id naming no key, an HS256 secret shorter than
32 bytes or of fewer than 8 different characters, and a JWKS fetched over plain http from
anywhere but this machine.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Literal

import structlog

from adapters import encoding
from adapters.settings import ConfigurationError, Settings
from adapters.urls import https_or_loopback, is_loopback_host
from adapters.webhooks import url_problem

Part = Literal[
    "payload",
    "master",
    "tokens",
    "audit",
    "commands",
    "verify",
    "services",
    "node",
    "search",
    "metrics",
]
"""What a process may need: the payload keyring, the master keyring, what verifies tokens, the
audit signing key, the command signing key, where PostgreSQL and Temporal are, and a federated
node's own address (docs/federation.md), the person search's key (asked for by
`adapters.keys.search_key`, by the processes that project cases or search), and the API's
scrape secret for `GET /metrics` (issue 18)."""

API: frozenset[Part] = frozenset(
    ("payload", "master", "tokens", "audit", "commands", "services", "node", "search", "metrics")
)
WORKER: frozenset[Part] = frozenset(("payload", "master", "audit", "verify", "services", "search"))
"""The most a worker needs (the case queue and checkpoints); `worker_needs` says what one does."""

KEY_BYTES = 32
HS256_MIN_BYTES = 32
HS256_MIN_DISTINCT = 8
DEV_KEY_IDS = frozenset(("dev-1", "dev-master-1"))


class ProductionSettingsError(ConfigurationError):
    """Production settings missing or weak; the message is one line naming each of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "production needs these settings (missing or weak): "
            + "; ".join(problems)
            + " (`readmit keys init` prints a fresh set)"
        )


def production_by_default(settings: Settings) -> Settings:
    """`settings` in production unless READMIT_ENV says otherwise (`readmit api`, `readmit
    worker` and the image: a deployment is production unless it asks to be a laptop)."""
    if "env" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"env": "production"})


def worker_needs(settings: Settings, *, serves_cases: bool) -> frozenset[Part]:
    """What a worker process uses, so that each holds no more than that: every worker reads
    payloads and case data (payload and master keys) and needs PostgreSQL and Temporal; only
    one serving the case queue checks command signatures (`verify`: the signing key or its
    public half), keeps the person search's index (`search`, its projector), and signs audit
    checkpoints (`audit`) when a checkpoint sink is configured."""
    needs: set[Part] = {"payload", "master", "services"}
    if serves_cases:
        needs.add("verify")
        needs.add("search")  # its projector keeps the person search's index
        if settings.node_state is not None:
            needs.add("node")  # a federated node's case queue sends its messages
        if settings.audit_checkpoint_dir is not None or settings.audit_checkpoint_webhook_url:
            needs.add("audit")
    return frozenset(needs)


def require_production(settings: Settings, needs: Collection[Part] = API) -> None:
    """Raise `ProductionSettingsError` when `settings` is production and any setting of the
    parts in `needs` is missing or weak; in development, nothing to check."""
    if not settings.production:
        return
    found = problems(settings, needs)
    if found:
        raise ProductionSettingsError(found)


def problems(settings: Settings, needs: Collection[Part] = API) -> list[str]:
    """One `VARIABLE (why)` per missing or weak setting of `needs`, in a fixed order."""
    return [problem for part in _ORDER if part in needs for problem in _RULES[part](settings)]


# --- the rules, one per part ---------------------------------------------------------------


def _keyring(keys: Mapping[str, str], active: str | None, name: str) -> Iterator[str]:
    variable = f"READMIT_{name}_KEYS"
    if not keys:
        yield f"{variable} (unset)"
    for key_id, text in keys.items():
        if key_id in DEV_KEY_IDS or key_id.startswith("dev-"):
            yield f"{variable} (development key id {key_id!r})"
        why = _weak_key(text)
        if why:
            yield f"{variable} (key {key_id!r} {why})"
    if active is None:
        yield f"READMIT_{name}_KEY_ID (unset)"
    elif keys and active not in keys:
        yield f"READMIT_{name}_KEY_ID (names no key of {variable})"


def _payload(settings: Settings) -> Iterator[str]:
    yield from _keyring(settings.payload_keys, settings.payload_key_id, "PAYLOAD")


def _master(settings: Settings) -> Iterator[str]:
    yield from _keyring(settings.master_keys, settings.master_key_id, "MASTER")
    payload = {_decoded(text) for text in settings.payload_keys.values()} - {None}
    if any(_decoded(text) in payload for text in settings.master_keys.values()):
        yield "READMIT_MASTER_KEYS (a key also in READMIT_PAYLOAD_KEYS)"


def _tokens(settings: Settings) -> Iterator[str]:
    algorithms = set(settings.jwt_algorithms)
    if "HS256" in algorithms:
        secret = settings.jwt_secret
        if not secret:
            yield "READMIT_JWT_SECRET (unset)"
        elif len(secret.encode()) < HS256_MIN_BYTES:
            yield f"READMIT_JWT_SECRET (shorter than {HS256_MIN_BYTES} bytes)"
        elif len(set(secret)) < HS256_MIN_DISTINCT:
            yield f"READMIT_JWT_SECRET (fewer than {HS256_MIN_DISTINCT} different characters)"
    if algorithms - {"HS256"}:
        # an OpenID provider's issuer, where configured, gives both (its discovery document)
        provider = getattr(settings, "oidc_issuer", None)
        if not settings.jwks_url and not settings.jwks_file and not provider:
            yield "READMIT_JWKS_URL (unset, nor READMIT_JWKS_FILE)"
        elif settings.jwks_url and not https_or_loopback(settings.jwks_url):
            yield "READMIT_JWKS_URL (not https)"
        if not settings.jwt_issuer and not provider:
            yield "READMIT_JWT_ISSUER (unset)"
        if not settings.jwt_audience:
            yield "READMIT_JWT_AUDIENCE (unset)"


def _seed(variable: str) -> Callable[[Settings], Iterator[str]]:
    field = variable.removeprefix("READMIT_").lower()

    def rule(settings: Settings) -> Iterator[str]:
        value = getattr(settings, field)
        if not value:
            yield f"{variable} (unset)"
            return
        why = _weak_key(value)
        if why:
            yield f"{variable} ({why})"

    return rule


def _verify(settings: Settings) -> Iterator[str]:
    """Workers check command signatures: with the signing key's public half, or with public
    keys alone (`READMIT_COMMAND_VERIFY_KEYS`), so that a worker need not hold the API's key."""
    if settings.command_signing_key or not settings.command_verify_keys:
        yield from _seed("READMIT_COMMAND_SIGNING_KEY")(settings)
        return
    for key in settings.command_verify_keys:
        if why := _weak_key(key):
            yield f"READMIT_COMMAND_VERIFY_KEYS ({why})"


def _node(settings: Settings) -> Iterator[str]:
    """A federated node is reached by its peers at its URL: https in production (its key file
    is checked when it is read, at start)."""
    if settings.node_state is None:
        return
    url = settings.node_url
    if not url:
        yield "READMIT_NODE_URL (unset: the URL peers reach this node at)"
    elif not url.startswith("https://"):
        yield "READMIT_NODE_URL (not https: peers reach a production node over TLS)"


def _services(settings: Settings) -> Iterator[str]:
    if not settings.database_url:
        yield "DATABASE_URL (unset: production starts no embedded PostgreSQL)"
    if not settings.temporal_address:
        yield "READMIT_TEMPORAL_ADDRESS (unset)"


def _service_addresses(settings: Settings) -> Iterator[str]:
    """`_services`; the checkpoint webhook held to production's rules (`production_by_default`
    makes production by `model_copy`, which runs no validator, so the settings' own check of it
    ran under development's); and a warning (not a refusal: compose's private network is the
    documented shape) when Temporal is reached across a network in clear and unauthenticated:
    anyone on that network could then start workflows and read (encrypted) histories."""
    yield from _services(settings)
    checkpoints = settings.audit_checkpoint_webhook_url
    if checkpoints and (why := url_problem(checkpoints, production=True)):
        yield f"READMIT_AUDIT_CHECKPOINT_WEBHOOK_URL ({why})"
    address = settings.temporal_address
    if not address:
        return
    host = address.rpartition(":")[0] if address.count(":") == 1 else address
    host = host.split("]")[0].strip("[") if host.startswith("[") else host
    secured = (
        settings.temporal_tls
        or settings.temporal_api_key is not None
        or any(
            (
                settings.temporal_tls_server_ca,
                settings.temporal_tls_server_name,
                settings.temporal_tls_client_cert,
            )
        )
    )
    if not secured and not is_loopback_host(host):
        structlog.get_logger(__name__).warning(
            "Temporal is reached over the network without TLS or an API key: set "
            "READMIT_TEMPORAL_TLS (better mTLS, READMIT_TEMPORAL_TLS_CLIENT_CERT/_KEY) or "
            "READMIT_TEMPORAL_API_KEY (docs/operations.md, Securing Temporal)",
            temporal_host=host,
        )


def _metrics_token(settings: Settings) -> Iterator[str]:
    """The scrape secret: as long and as varied as an HS256 secret (Prometheus holds it)."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    if not token:
        yield "READMIT_METRICS_TOKEN (unset)"
    elif len(token.encode()) < HS256_MIN_BYTES:
        yield f"READMIT_METRICS_TOKEN (shorter than {HS256_MIN_BYTES} bytes)"
    elif len(set(token)) < HS256_MIN_DISTINCT:
        yield f"READMIT_METRICS_TOKEN (fewer than {HS256_MIN_DISTINCT} different characters)"


_ORDER: tuple[Part, ...] = (
    "services",
    "payload",
    "master",
    "tokens",
    "audit",
    "commands",
    "verify",
    "node",
    "search",
    "metrics",
)
_RULES: dict[Part, Callable[[Settings], Iterator[str]]] = {
    "services": _service_addresses,
    "payload": _payload,
    "master": _master,
    "tokens": _tokens,
    "audit": _seed("READMIT_AUDIT_SIGNING_KEY"),
    "commands": _seed("READMIT_COMMAND_SIGNING_KEY"),
    "verify": _verify,
    "node": _node,
    "search": _seed("READMIT_SEARCH_KEY"),
    "metrics": _metrics_token,
}


# --- helpers -------------------------------------------------------------------------------


def _decoded(text: str) -> bytes | None:
    """Base64 as every key is read (`adapters.encoding.decode`); None if it is not."""
    try:
        return encoding.decode(text)
    except encoding.KeyEncodingError:
        return None


def _weak_key(text: str) -> str | None:
    """Why a base64 key of 32 bytes is not one, or None when it is."""
    raw = _decoded(text)
    if raw is None:
        return "is not base64"
    if len(raw) != KEY_BYTES:
        return f"is {len(raw)} bytes, not {KEY_BYTES}"
    if len(set(raw)) == 1:
        return "is one byte repeated"
    return None
