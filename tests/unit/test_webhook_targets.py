"""Where a webhook may go: the URL's own rules, and every address its name resolves to.

Nothing here opens a connection: the resolver is the test's own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from adapters.directory import DirectoryError, parse_toml
from adapters.webhooks import (
    Resolver,
    TargetRefused,
    checked_addresses,
    is_public,
    secret_text,
    url_problem,
)

PUBLIC = "93.184.215.14"  # a globally routable address; never connected to here


@pytest.mark.parametrize(
    ("url", "development", "production"),
    [
        ("https://hooks.border.example/readmit", None, None),
        (f"https://{PUBLIC}/x", None, None),
        ("http://127.0.0.1:8080/x", None, "plain http is refused in production"),
        ("http://localhost:8080/x", None, "plain http is refused in production"),
        ("http://[::1]:8080/x", None, "plain http is refused in production"),
        ("http://hooks.border.example/x", "plain http goes only to a loopback", "plain http"),
        ("http://10.0.0.5/x", "plain http goes only to a loopback", "plain http"),
        ("https://localhost/x", None, "loopback name"),
        ("https://api.localhost/x", None, "loopback name"),
        ("https://127.0.0.1/x", None, "not a public address"),
        ("https://10.0.0.5/x", None, "not a public address"),
        ("https://172.16.3.4/x", None, "not a public address"),
        ("https://192.168.1.10/x", None, "not a public address"),
        ("https://169.254.169.254/latest/meta-data", None, "not a public address"),
        ("https://100.64.0.1/x", None, "not a public address"),
        ("https://[fe80::1]/x", None, "not a public address"),
        ("https://[fd00::1]/x", None, "not a public address"),
        ("https://[::ffff:10.0.0.1]/x", None, "not a public address"),
        ("https://0.0.0.0/x", None, "not a public address"),
        ("https://user:pw@hooks.border.example/x", "no user or password", "no user or password"),
        ("ftp://hooks.border.example/x", "not an http(s) URL", "not an http(s) URL"),
        ("https:///x", "not an http(s) URL", "not an http(s) URL"),
        ("https://hooks.border.example:99999/x", "not a URL", "not a URL"),
    ],
)
def test_url_rules(url: str, development: str | None, production: str | None) -> None:
    for is_production, expected in ((False, development), (True, production)):
        problem = url_problem(url, production=is_production)
        if expected is None:
            assert problem is None, (url, is_production, problem)
        else:
            assert problem is not None and expected in problem, (url, is_production, problem)


@pytest.mark.parametrize(
    ("address", "public"),
    [
        (PUBLIC, True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.1.1", False),
        ("224.0.0.251", False),  # multicast
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("fc00::1", False),
        ("192.0.2.1", False),  # documentation
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def answering(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return resolve


async def test_every_resolved_address_is_checked_not_only_the_first() -> None:
    """A name answering with a public address and a private one (DNS rebinding often looks like
    this) is refused as a whole."""
    url = "https://hooks.border.example/x"
    assert await checked_addresses(url, production=True, resolver=answering(PUBLIC)) == [PUBLIC]
    for private in ("127.0.0.1", "10.0.0.7", "::ffff:169.254.169.254", "fe80::1%eth0"):
        with pytest.raises(TargetRefused, match="refused in production"):
            await checked_addresses(url, production=True, resolver=answering(PUBLIC, private))


async def test_development_allows_private_https_but_http_only_to_loopback() -> None:
    https = "https://hooks.internal/x"
    assert await checked_addresses(https, production=False, resolver=answering("10.0.0.7")) == [
        "10.0.0.7"
    ]
    http = "http://localhost:8080/x"
    assert await checked_addresses(http, production=False, resolver=answering("127.0.0.1", "::1"))
    with pytest.raises(TargetRefused, match="not a loopback address"):
        await checked_addresses(http, production=False, resolver=answering("127.0.0.1", PUBLIC))


async def test_a_name_that_resolves_to_nothing_is_a_retryable_error() -> None:
    with pytest.raises(OSError, match="no usable address"):
        await checked_addresses(
            "https://hooks.border.example/", production=True, resolver=answering()
        )


def test_the_directory_holds_webhook_urls_to_the_rules_of_its_mode() -> None:
    text = """[[officer]]
user_id = "piotr.pl"
state = "PL"
role = "officer"
display_name = "Piotr"
webhook_url = "http://127.0.0.1:8080/readmit"
"""
    assert parse_toml(text)[0].webhook_url == "http://127.0.0.1:8080/readmit"
    with pytest.raises(DirectoryError) as refused:
        parse_toml(text, "officers.toml", production=True)
    assert [str(p) for p in refused.value.problems] == [
        "officers.toml:1: officer #1: webhook_url: plain http is refused in production: use https"
    ]
    with pytest.raises(DirectoryError):
        parse_toml(text.replace("127.0.0.1", "hooks.border.example"))  # http beyond loopback


def test_secrets_are_in_the_standard_webhooks_form() -> None:
    text = secret_text(bytes(range(32)))
    assert text.startswith("whsec_") and len(text) == len("whsec_") + 44
