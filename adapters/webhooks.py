"""Webhook recipients: a signing secret of their own, and where a webhook may be sent.

Secrets follow Standard Webhooks (`whsec_` and base64 of 32 random bytes; receivers verify with
the `standardwebhooks` package or any other implementation of the spec). Readmit keeps a secret
only wrapped (AES-GCM) by the master keyring, bound to its recipient, and shows it once, when it
is issued (`readmit directory import`, `readmit directory webhook-secret`).

Targets: https, or plain http to a loopback address in development only. In production a target
whose name is `localhost` or whose address is private, loopback, link-local, shared, reserved or
multicast is refused, when the directory is imported and again at every send, on every address
the name resolves to then; the request then goes to one of those checked addresses (the name
travels in the Host header and the TLS SNI, and the certificate is verified against it), so a
name that resolves differently a moment later (DNS rebinding) cannot redirect it. Officers'
webhooks (`adapters.outbox`) and audit checkpoints (`adapters.audit.checkpoint_sinks`) are both
sent this one way: `checked_addresses`, then `post_pinned` with a `webhook_client` (no redirects,
no proxy or certificates from the environment, no pooled connection).
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import os
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from adapters.temporal.codec import Keyring
from adapters.urls import https_or_loopback, is_loopback_name

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class TargetRefused(ValueError):
    """A webhook URL (or the address its name resolves to) that may not be sent to."""


@dataclass(frozen=True, slots=True)
class WrappedSecret:
    """A recipient's signing secret as stored: wrapped by the master key `key_id`."""

    key_id: str
    wrapped: bytes


# --- secrets ---------------------------------------------------------------------------------


def new_secret() -> bytes:
    return os.urandom(SECRET_BYTES)


def secret_text(raw: bytes) -> str:
    """The secret as a receiver configures it: `whsec_` and standard base64."""
    return SECRET_PREFIX + base64.b64encode(raw).decode()


def _aad(user_id: str) -> bytes:
    # binds the wrapped secret to its recipient: it cannot be moved to another officer's row
    return f"readmit-webhook-secret:{user_id}".encode()


def wrap_secret(master: Keyring, user_id: str, raw: bytes) -> WrappedSecret:
    key_id, wrapped = master.encrypt(raw, _aad(user_id))
    return WrappedSecret(key_id, wrapped)


def unwrap_secret(master: Keyring, user_id: str, secret: WrappedSecret) -> bytes:
    return master.decrypt(secret.key_id, secret.wrapped, _aad(user_id))


# --- targets ---------------------------------------------------------------------------------


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: IPAddress) -> bool:
    """Whether a production webhook may go to `address`: globally routable, not multicast."""
    address = _unmapped(address)
    return address.is_global and not address.is_multicast


def url_problem(url: str, *, production: bool) -> str | None:
    """Why `url` may not be a webhook target, judged on the URL alone; None if it may."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError as error:
        return f"not a URL: {error}"
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return "not an http(s) URL"
    if parts.username is not None or parts.password is not None:
        return "no user or password in the URL: the signature authenticates Readmit"
    literal = _literal(host)
    if parts.scheme == "http":
        if production:
            return "plain http is refused in production: use https"
        if not https_or_loopback(url):
            return "plain http goes only to a loopback address (development): use https"
    if production and is_loopback_name(host):
        return f"{host} is a loopback name: refused in production"
    if production and literal is not None and not is_public(literal):
        return f"{host} is not a public address: refused in production"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to now (the operating system's resolver)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_addresses(
    url: str, *, production: bool, resolver: Resolver = system_resolver
) -> list[str]:
    """The addresses a webhook to `url` may be sent to, every one checked; raises
    TargetRefused if the URL or any address its name resolves to is not allowed, and OSError
    if the name does not resolve."""
    problem = url_problem(url, production=production)
    if problem:
        raise TargetRefused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    found = [host] if _literal(host) is not None else list(await resolver(host, port))
    addresses = [_literal(text.partition("%")[0]) for text in found]
    checked = [a for a in addresses if a is not None]
    if not checked or len(checked) != len(addresses):
        raise OSError(f"{host} resolved to no usable address")
    for address in checked:
        shown = _unmapped(address)
        if parts.scheme == "http" and not shown.is_loopback:
            raise TargetRefused(f"{host} resolves to {shown}, not a loopback address (http)")
        if production and not is_public(address):
            raise TargetRefused(
                f"{host} resolves to {shown}, a private, loopback, link-local or reserved "
                "address: refused in production"
            )
    return [str(a) for a in checked]


# --- sending -------------------------------------------------------------------------------


def webhook_client(timeout: float, tls: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    """The client webhooks are sent with: no redirects (a 3xx is an answer, not a detour to an
    unchecked address), no proxy or CA bundle from the environment (`trust_env=False`: the
    request goes to the checked address itself), and no keep-alive (a pooled connection is keyed
    by address and must not carry a request for another name than its certificate's)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        verify=tls or True,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


async def post_pinned(
    client: httpx.AsyncClient,
    url: str,
    addresses: Sequence[str],
    body: bytes,
    headers: dict[str, str],
) -> httpx.Response:
    """POST `body` to the first of `addresses` (from `checked_addresses(url)`) that takes a
    connection; the URL's own name goes in the Host header and the TLS SNI, and the certificate
    is checked against it. Raises the last `httpx.ConnectError` when none does, and any other
    `httpx.HTTPError` (`httpx.InvalidURL` for a URL httpx cannot send to) at once."""
    target = httpx.URL(url)
    named = target.host not in addresses  # a name, not an address literal
    extensions = {"sni_hostname": target.host} if named and target.scheme == "https" else {}
    failure: httpx.ConnectError | None = None
    for address in addresses:
        try:
            return await client.post(
                target.copy_with(host=address),
                content=body,
                headers={**headers, "Host": target.netloc.decode("ascii")},
                extensions=extensions,
            )
        except httpx.ConnectError as error:
            failure = error  # try the next address
    if failure is None:
        raise httpx.ConnectError(f"no address to send to for {target.host}")
    raise failure
