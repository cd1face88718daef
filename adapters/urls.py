"""The one rule for where Readmit fetches from or sends to: https, or plain http only to this
machine (a loopback name or address). Used by the identity provider's keys and endpoints
(`api.jwks`, `api.oidc`), production's settings check (`adapters.production`) and webhook and
checkpoint targets (`adapters.webhooks`, which adds production's rules about addresses)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_name(host: str) -> bool:
    """`localhost` and its subdomains (RFC 6761), whatever the case."""
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def is_loopback_host(host: str | None) -> bool:
    """A loopback name, or a loopback address (`127.0.0.0/8`, `::1`, v4-mapped, bracketed)."""
    if not host:
        return False
    if is_loopback_name(host):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]").partition("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def https_or_loopback(url: str) -> bool:
    """Whether `url` is https (with a host), or plain http to a loopback host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host))
