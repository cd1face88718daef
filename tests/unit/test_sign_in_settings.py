"""Sign-in settings that cannot be safe stop the app before it serves, and the provider's claims
map to exactly one role and the right state(s), or to a refusal saying what is missing."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from adapters.settings import ConfigurationError, Settings, get_settings
from api.app import sign_in_from
from api.auth import CODEC_SCOPE
from api.claims_mapping import ClaimsMapping, Unmapped
from api.jwks import KeySet, check_transport
from readmit.cli import api

JWKS = "https://idp.example.org/realms/ministry/protocol/openid-connect/certs"


def test_provider_tokens_without_issuer_or_audience_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as refused:
        sign_in_from(Settings(jwt_algorithms=("RS256",), jwks_url=JWKS, jwt_secret=None))
    assert "READMIT_JWT_ISSUER" in str(refused.value)
    assert "READMIT_JWT_AUDIENCE" in str(refused.value)
    with pytest.raises(ConfigurationError, match="READMIT_JWT_AUDIENCE"):
        sign_in_from(
            Settings(jwt_algorithms=("ES256",), jwks_url=JWKS, jwt_issuer="https://idp.example")
        )
    with pytest.raises(ConfigurationError, match="READMIT_JWKS_URL"):
        sign_in_from(
            Settings(jwt_algorithms=("RS256",), jwt_issuer="https://i", jwt_audience="readmit")
        )
    verifier, oidc = sign_in_from(
        Settings(
            jwt_algorithms=("RS256",),
            jwks_url=JWKS,
            jwt_issuer="https://idp.example",
            jwt_audience="readmit",
        )
    )
    assert verifier.issuer == "https://idp.example" and oidc is None


@pytest.mark.parametrize(
    "url",
    [
        "http://idp.example.org/certs",
        "http://10.0.0.5/certs",
        "ftp://idp.example.org/certs",
        "https:///certs",
    ],
)
def test_key_sets_are_fetched_over_https_only(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        KeySet(url=url)
    with pytest.raises(ConfigurationError, match="https"):
        sign_in_from(
            Settings(
                jwt_algorithms=("RS256",),
                jwks_url=url,
                jwt_issuer="https://idp.example",
                jwt_audience="readmit",
            )
        )


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/certs", "http://localhost:9000/certs", "http://[::1]/certs"]
)
def test_plain_http_only_on_a_loopback_host(url: str) -> None:
    assert check_transport(url, "the JWKS URL") == url


def test_the_provider_sign_in_needs_its_client_and_a_role_map() -> None:
    with pytest.raises(ConfigurationError) as refused:
        sign_in_from(Settings(oidc_issuer="https://idp.example.org/realms/ministry"))
    for name in ("READMIT_OIDC_CLIENT_ID", "READMIT_OIDC_REDIRECT_URL", "READMIT_OIDC_ROLE_MAP"):
        assert name in str(refused.value)
    with pytest.raises(ConfigurationError, match="https"):
        sign_in_from(Settings(oidc_issuer="http://idp.example.org/realms/ministry"))
    with pytest.raises(ConfigurationError, match="callback"):
        sign_in_from(
            Settings(
                oidc_issuer="https://idp.example.org/realms/ministry",
                oidc_client_id="readmit",
                oidc_redirect_url="https://readmit.example.org/elsewhere",
                oidc_role_map={"readmit-officer": "officer"},
            )
        )


def test_production_is_the_env_setting() -> None:
    assert not Settings().production
    assert Settings(env="production").production


KEYCLOAK = ClaimsMapping(
    user_claim="preferred_username",
    role_map={
        "readmit-officer": "officer",
        "readmit-supervisor": "supervisor",
        "readmit-auditor": "auditor",
        "readmit-admin": "admin",
    },
)


def claims(roles: list[str], state: Any = "PL", **more: Any) -> dict[str, Any]:
    found = {"sub": "0b5c-uuid", "preferred_username": "anna.pl", **more}
    found["realm_access"] = {"roles": roles}
    if state is not None:
        found["readmit_state"] = state
    return found


def test_realm_roles_and_a_state_attribute_make_the_principal() -> None:
    officer = KEYCLOAK.principal(claims(["readmit-officer", "offline_access"]), expires=2**31)
    assert (officer.user_id, officer.role, officer.state) == ("anna.pl", "officer", "PL")
    both = KEYCLOAK.principal(claims(["readmit-officer", "readmit-supervisor"]), expires=2**31)
    assert both.role == "supervisor"  # a composite role: the strongest writer role counts
    auditor = KEYCLOAK.principal(claims(["readmit-auditor"], ["PL", "UA"]), expires=2**31)
    assert auditor.role == "auditor" and auditor.states == {"PL", "UA"}


def test_the_provider_s_scopes_pass_through_so_an_operator_may_decode() -> None:
    """An admin whose provider token grants `codec:decode` is the codec's operator."""
    operator = KEYCLOAK.principal(
        claims(["readmit-admin"], scope="openid codec:decode"), expires=2**31
    )
    assert operator.role == "admin" and CODEC_SCOPE in operator.scopes
    plain = KEYCLOAK.principal(claims(["readmit-admin"]), expires=2**31)
    assert CODEC_SCOPE not in plain.scopes


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (claims(["offline_access"]), "no Readmit role"),
        (claims(["readmit-officer", "readmit-auditor"]), "several roles"),
        (claims(["readmit-officer"], state=None), "no state"),
        (claims(["readmit-officer"], state="Poland"), "no state"),
        (claims(["readmit-officer"], state=["PL", "UA"]), "one state"),
        (claims(["readmit-officer"], preferred_username="anna nowak"), "unusable claim"),
    ],
)
def test_claims_that_map_to_no_role_or_state_are_refused(
    given: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Unmapped, match=reason):
        KEYCLOAK.principal(given, expires=2**31)


def test_the_user_id_is_the_stable_sub_unless_configured_otherwise() -> None:
    """OIDC Core 5.7: `preferred_username` may change and need not be unique, so by default a
    user who renames themselves in the provider does not become someone else in Readmit."""
    assert Settings().oidc_user_claim == "sub"
    default = ClaimsMapping.from_settings(Settings(oidc_role_map={"readmit-officer": "officer"}))
    assert default.principal(claims(["readmit-officer"]), expires=2**31).user_id == "0b5c-uuid"
    assert KEYCLOAK.principal(claims(["readmit-officer"]), expires=2**31).user_id == "anna.pl"


def test_groups_with_a_state_pattern() -> None:
    groups = ClaimsMapping(
        role_claim="groups",
        role_map={"/readmit/officers": "officer"},
        state_claim="groups",
        state_pattern=r"^/states/([A-Z]{2})$",
    )
    member = ["/readmit/officers", "/states/UA"]
    found = groups.principal(
        {"sub": "x", "preferred_username": "olena.ua", "groups": member}, expires=2**31
    )
    assert (found.role, found.state) == ("officer", "UA")


def test_readmit_api_stops_on_unsafe_sign_in_settings_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("READMIT_ENV", "development")  # production's own check would go first
    monkeypatch.setenv("READMIT_TEMPORAL_ADDRESS", "127.0.0.1:7233")
    monkeypatch.setenv("READMIT_JWT_ALGORITHMS", '["RS256"]')
    monkeypatch.setenv("READMIT_JWKS_URL", JWKS)
    get_settings.cache_clear()
    app = typer.Typer(pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    api.register(app)
    try:
        result = CliRunner().invoke(app, ["api"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "readmit: RS256 tokens need READMIT_JWT_ISSUER, READMIT_JWT_AUDIENCE"
    ]
