"""One rule for "https, or plain http only on this machine", whoever asks: production's check of
the JWKS URL, the identity provider's endpoints (`api.jwks.check_transport`) and webhook and
checkpoint targets (`adapters.webhooks.url_problem`) answer the same for every URL. And
production warns when Temporal is reached across a network in clear and unauthenticated."""

from __future__ import annotations

import os

import pytest
from structlog.testing import capture_logs

from adapters.production import problems
from adapters.settings import ConfigurationError, Settings
from adapters.urls import https_or_loopback
from adapters.webhooks import url_problem
from api.jwks import check_transport

ALLOWED = [
    "https://idp.example.org/certs",
    "http://localhost:8080/certs",
    "http://LOCALHOST/certs",
    "http://idp.localhost/certs",
    "http://127.0.0.1:9000/certs",
    "http://127.8.0.1/certs",
    "http://[::1]:9000/certs",
    "http://[::ffff:127.0.0.1]/certs",
]
REFUSED = [
    "http://idp.example.org/certs",
    "http://10.0.0.5/certs",
    "http://localhost.example.org/certs",
    "http://[::ffff:10.0.0.1]/certs",
    "ftp://localhost/certs",
    "https:///certs",
    "http://[::1/certs",
]


@pytest.fixture(autouse=True)
def no_readmit_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*os.environ]:
        if name.startswith("READMIT_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def production_accepts(url: str) -> bool:
    settings = Settings(_env_file=None, env="production", jwt_algorithms=("RS256",), jwks_url=url)
    return not any(p.startswith("READMIT_JWKS_URL") for p in problems(settings, {"tokens"}))


def jwks_accepts(url: str) -> bool:
    try:
        check_transport(url, "the JWKS URL")
    except ConfigurationError:
        return False
    return True


def webhooks_accept(url: str) -> bool:
    return url_problem(url, production=False) is None


@pytest.mark.parametrize("url", ALLOWED + REFUSED)
def test_the_three_places_answer_alike(url: str) -> None:
    expected = url in ALLOWED
    assert https_or_loopback(url) is expected
    answers = {
        "production": production_accepts(url),
        "jwks": jwks_accepts(url),
        "webhooks": webhooks_accept(url),
    }
    assert answers == dict.fromkeys(answers, expected)


def temporal_warnings(**changes: object) -> list[str]:
    settings = Settings(
        _env_file=None,
        env="production",
        database_url="postgresql://db/readmit",
        **changes,  # type: ignore[arg-type]
    )
    with capture_logs() as logs:
        problems(settings, {"services"})
    return [str(entry["event"]) for entry in logs if entry["log_level"] == "warning"]


def test_production_warns_of_temporal_in_clear_across_a_network() -> None:
    [warning] = temporal_warnings(temporal_address="temporal.example.org:7233")
    assert "READMIT_TEMPORAL_TLS" in warning and "READMIT_TEMPORAL_API_KEY" in warning
    assert temporal_warnings(temporal_address="temporal:7233", temporal_tls=True) == []
    assert temporal_warnings(temporal_address="temporal:7233", temporal_api_key="k") == []
    assert temporal_warnings(temporal_address="127.0.0.1:7233") == []
    assert temporal_warnings(temporal_address="[::1]:7233") == []
    assert temporal_warnings(temporal_address="localhost:7233") == []
