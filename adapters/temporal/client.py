"""Connecting to Temporal: the one data converter, and TLS, mutual TLS and an API key.

Every process's connection is made here (the API, the workers and the retention schedule they
create, the CLI, `readmit run` on a given server), so one set of settings secures all of them:
`READMIT_TEMPORAL_TLS*` for TLS (the server's CA and name, a client certificate and key for
mutual TLS) and `READMIT_TEMPORAL_API_KEY` for a bearer key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.service import TLSConfig

from adapters.keys import payload_keyring
from adapters.settings import ConfigurationError, Settings
from adapters.temporal.codec import data_converter
from adapters.tracing import Tracing, process_tracing


def _pem(path: Path | None, setting: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigurationError(
            f"cannot read READMIT_{setting.upper()} ({path}): {error.strerror or error}"
        ) from None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """What `Client.connect(tls=...)` is given: a `TLSConfig` when a CA, a server name or a
    client certificate is set, else True for TLS against the system's CAs (asked for, or an API
    key: a bearer key never travels in clear), else False. Unreadable files and half a client
    certificate raise `ConfigurationError`."""
    cert, key = settings.temporal_tls_client_cert, settings.temporal_tls_client_key
    if (cert is None) != (key is None):
        raise ConfigurationError(
            "mutual TLS needs both READMIT_TEMPORAL_TLS_CLIENT_CERT and "
            "READMIT_TEMPORAL_TLS_CLIENT_KEY"
        )
    ca = _pem(settings.temporal_tls_server_ca, "temporal_tls_server_ca")
    if ca is not None or cert is not None or settings.temporal_tls_server_name:
        return TLSConfig(
            server_root_ca_cert=ca,
            domain=settings.temporal_tls_server_name,
            client_cert=_pem(cert, "temporal_tls_client_cert"),
            client_private_key=_pem(key, "temporal_tls_client_key"),
        )
    return settings.temporal_tls or api_key(settings) is not None


def api_key(settings: Settings) -> str | None:
    secret = settings.temporal_api_key
    return secret.get_secret_value() if secret is not None and secret.get_secret_value() else None


CLOUD_HOSTS = (".tmprl.cloud", ".api.temporal.io")  # namespace and regional endpoints


def cloud_namespace_problem(address: str, namespace: str) -> str | None:
    """What is wrong with `namespace` for a Temporal Cloud `address`, or None. Cloud names a
    namespace `<namespace>.<account>`; its namespace endpoint is `<namespace>.<account>.
    tmprl.cloud:7233`, its regional endpoints `<region>.<cloud>.api.temporal.io:7233`."""
    host = address.rsplit(":", 1)[0].lower()
    if not host.endswith(CLOUD_HOSTS):
        return None
    if "." not in namespace:
        return f"a Temporal Cloud namespace is <namespace>.<account>, not {namespace!r}"
    if host.endswith(".tmprl.cloud") and host != f"{namespace.lower()}.tmprl.cloud":
        return f"the endpoint {host} is not that of namespace {namespace!r}"
    return None


def connect_arguments(settings: Settings, address: str | None = None) -> dict[str, Any]:
    """The arguments of `Client.connect` that the settings decide (no network): the target
    and namespace, TLS (`tls_config`), the API key and, with a key, the namespace again as
    `temporal-namespace` metadata (what Temporal Cloud routes an API key's calls by on its
    regional endpoints). A namespace that does not fit a Temporal Cloud address raises
    `ConfigurationError`."""
    target = settings.temporal_target(address)
    namespace = settings.temporal_namespace
    problem = cloud_namespace_problem(target, namespace)
    if problem is not None:
        raise ConfigurationError(f"READMIT_TEMPORAL_NAMESPACE: {problem}")
    key = api_key(settings)
    return {
        "target_host": target,
        "namespace": namespace,
        "tls": tls_config(settings),
        "api_key": key,
        "rpc_metadata": {"temporal-namespace": namespace} if key is not None else {},
    }


async def connect_client(
    settings: Settings, address: str | None = None, *, tracing: Tracing | None = None
) -> Client:
    """A client for `address` (default: `settings.temporal_target()`) over TLS and with an API
    key as the settings say (`connect_arguments`), whose payloads (and failures) are
    encrypted, traced when tracing is on (workers built on the client inherit its tracing
    interceptor)."""
    return await Client.connect(
        **connect_arguments(settings, address),
        data_converter=data_converter(payload_keyring(settings)),
        interceptors=(tracing or process_tracing(settings)).interceptors(),
    )
