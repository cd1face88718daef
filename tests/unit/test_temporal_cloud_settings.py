"""Temporal Cloud from the settings, without a network: mutual TLS with a client certificate,
an API key (TLS on, the key and the namespace sent with every call), a server name, the
`<namespace>.<account>` namespace checked against the endpoint. Each case goes as far as the
SDK's own connection config (`ConnectConfig._to_bridge_config()`), what its Rust core dials
with. A real TLS handshake is tests/e2e/test_temporal_tls.py's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from temporalio.bridge.client import ClientConfig
from temporalio.service import ConnectConfig, TLSConfig

from adapters.settings import ConfigurationError, Settings
from adapters.temporal.client import connect_arguments

ENDPOINT = "readmit-prod.a1b2c.tmprl.cloud:7233"
NAMESPACE = "readmit-prod.a1b2c"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).parent)  # no .env file of the developer's
    for name in ("ADDRESS", "NAMESPACE", "API_KEY", "TLS", "TLS_SERVER_NAME"):
        monkeypatch.delenv(f"READMIT_TEMPORAL_{name}", raising=False)


def bridge(arguments: dict[str, Any]) -> ClientConfig:
    """What the SDK would dial with, given `connect_arguments`' answer."""
    return ConnectConfig(
        target_host=arguments["target_host"],
        api_key=arguments["api_key"],
        tls=arguments["tls"],
        rpc_metadata=arguments["rpc_metadata"],
    )._to_bridge_config()


def test_mutual_tls_to_a_cloud_namespace_endpoint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "client.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\ncert\n")
    (tmp_path / "client.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\nkey\n")
    monkeypatch.setenv("READMIT_TEMPORAL_ADDRESS", ENDPOINT)
    monkeypatch.setenv("READMIT_TEMPORAL_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("READMIT_TEMPORAL_TLS_CLIENT_CERT", str(tmp_path / "client.pem"))
    monkeypatch.setenv("READMIT_TEMPORAL_TLS_CLIENT_KEY", str(tmp_path / "client.key"))
    arguments = connect_arguments(Settings())
    assert arguments["namespace"] == NAMESPACE
    assert arguments["api_key"] is None and arguments["rpc_metadata"] == {}
    tls = arguments["tls"]
    assert isinstance(tls, TLSConfig)
    assert tls.client_cert == b"-----BEGIN CERTIFICATE-----\ncert\n"
    assert tls.client_private_key == b"-----BEGIN PRIVATE KEY-----\nkey\n"
    assert tls.server_root_ca_cert is None  # Cloud's certificate: the system's CAs
    dialled = bridge(arguments)
    assert dialled.target_url == f"https://{ENDPOINT}"
    assert dialled.tls_config is not None and dialled.tls_config.client_cert == tls.client_cert


def test_an_api_key_turns_tls_on_and_names_the_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READMIT_TEMPORAL_ADDRESS", "eu-central-1.aws.api.temporal.io:7233")
    monkeypatch.setenv("READMIT_TEMPORAL_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("READMIT_TEMPORAL_API_KEY", "the-key")
    arguments = connect_arguments(Settings())
    assert arguments["tls"] is True
    assert arguments["api_key"] == "the-key"
    assert arguments["rpc_metadata"] == {"temporal-namespace": NAMESPACE}
    dialled = bridge(arguments)
    assert dialled.api_key == "the-key"
    assert dialled.metadata == {"temporal-namespace": NAMESPACE}
    assert dialled.target_url.startswith("https://") and dialled.tls_config is not None


def test_a_server_name_is_checked_and_sent_as_sni(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READMIT_TEMPORAL_ADDRESS", "10.0.0.7:7233")
    monkeypatch.setenv("READMIT_TEMPORAL_TLS_SERVER_NAME", "temporal.internal")
    tls = connect_arguments(Settings())["tls"]
    assert isinstance(tls, TLSConfig) and tls.domain == "temporal.internal"
    dialled = bridge(connect_arguments(Settings()))
    assert dialled.tls_config is not None and dialled.tls_config.domain == "temporal.internal"


def test_a_plain_local_server_gets_neither_tls_nor_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("READMIT_TEMPORAL_ADDRESS", "127.0.0.1:7233")
    arguments = connect_arguments(Settings())
    assert (arguments["tls"], arguments["api_key"], arguments["rpc_metadata"]) == (False, None, {})
    assert arguments["namespace"] == "default"


@pytest.mark.parametrize(
    ("address", "namespace"),
    [
        (ENDPOINT, "readmit-prod"),  # the account is missing
        (ENDPOINT, "other.a1b2c"),  # another namespace's endpoint
        ("eu-central-1.aws.api.temporal.io:7233", "default"),
    ],
)
def test_a_namespace_that_does_not_fit_the_cloud_endpoint_is_refused(
    monkeypatch: pytest.MonkeyPatch, address: str, namespace: str
) -> None:
    monkeypatch.setenv("READMIT_TEMPORAL_ADDRESS", address)
    monkeypatch.setenv("READMIT_TEMPORAL_NAMESPACE", namespace)
    monkeypatch.setenv("READMIT_TEMPORAL_API_KEY", "the-key")
    with pytest.raises(ConfigurationError, match="READMIT_TEMPORAL_NAMESPACE"):
        connect_arguments(Settings())
