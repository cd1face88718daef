"""What every Temporal connection is given from the settings: TLS, mutual TLS, an API key.
(A real TLS connection through a terminator is tested in tests/e2e/test_temporal_tls.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.service import TLSConfig

from adapters.settings import ConfigurationError, Settings
from adapters.temporal.client import api_key, tls_config


def settings(tmp_path: Path, **given: object) -> Settings:
    return Settings(home=tmp_path, _env_file=None, **given)  # type: ignore[arg-type]


def test_plain_unless_told(tmp_path: Path) -> None:
    assert tls_config(settings(tmp_path)) is False
    assert api_key(settings(tmp_path)) is None


def test_tls_against_the_system_cas_when_asked_or_with_an_api_key(tmp_path: Path) -> None:
    assert tls_config(settings(tmp_path, temporal_tls=True)) is True
    keyed = settings(tmp_path, temporal_api_key=SecretStr("k-123"))
    assert tls_config(keyed) is True and api_key(keyed) == "k-123"
    assert "k-123" not in repr(keyed)  # never shown in logs or errors


def test_a_ca_a_server_name_and_a_client_certificate_make_a_tls_config(tmp_path: Path) -> None:
    for name, text in (("ca.pem", "CA"), ("client.pem", "CERT"), ("client.key", "KEY")):
        (tmp_path / name).write_text(text)
    config = tls_config(
        settings(
            tmp_path,
            temporal_tls_server_ca=tmp_path / "ca.pem",
            temporal_tls_server_name="frontend.temporal.internal",
            temporal_tls_client_cert=tmp_path / "client.pem",
            temporal_tls_client_key=tmp_path / "client.key",
        )
    )
    assert config == TLSConfig(
        server_root_ca_cert=b"CA",
        domain="frontend.temporal.internal",
        client_cert=b"CERT",
        client_private_key=b"KEY",
    )
    only_name = tls_config(settings(tmp_path, temporal_tls_server_name="frontend"))
    assert isinstance(only_name, TLSConfig) and only_name.server_root_ca_cert is None


def test_half_a_client_certificate_or_a_missing_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "client.pem").write_text("CERT")
    half = settings(tmp_path, temporal_tls_client_cert=tmp_path / "client.pem")
    with pytest.raises(ConfigurationError, match="needs both READMIT_TEMPORAL_TLS_CLIENT_CERT"):
        tls_config(half)
    missing = settings(tmp_path, temporal_tls_server_ca=tmp_path / "nowhere.pem")
    with pytest.raises(ConfigurationError) as error:
        tls_config(missing)
    assert str(error.value).startswith("cannot read READMIT_TEMPORAL_TLS_SERVER_CA (")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("READMIT_TEMPORAL_TLS_CLIENT_KEY", "client.key", "mutual TLS needs both"),
        (
            "READMIT_TEMPORAL_TLS_SERVER_CA",
            "nowhere.pem",
            "cannot read READMIT_TEMPORAL_TLS_SERVER_CA",
        ),
        ("READMIT_COMMAND_VERIFY_KEYS", '["not-a-key"]', "not a base64 32-byte public key"),
    ],
)
def test_the_worker_command_exits_2_on_a_bad_tls_or_key_setting(
    tmp_path: Path, setting: str, value: str, said: str
) -> None:
    """Checked before anything connects: one line, exit 2, as for a missing address."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("READMIT_")}
    done = subprocess.run(
        [sys.executable, "-m", "workers", "--state", "PL"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=clean
        | {
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none",
            "READMIT_TEMPORAL_ADDRESS": "127.0.0.1:9",
            "READMIT_HOME": str(tmp_path),
            "READMIT_ENV": "development",  # production's own check of the keys would go first
            setting: value if value.startswith("[") else str(tmp_path / value),
        },
    )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("readmit: ") and said in line, line
