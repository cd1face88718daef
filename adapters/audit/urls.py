"""Which URLs may receive audit checkpoints: https, or plain http to a loopback address (a
test, or a receiver on the same host). Its own module so that the settings can check the URL
when they are read without importing the sinks."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def webhook_url_problem(url: str) -> str | None:
    """Why `url` may not receive checkpoints, or None."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "it names no host"
    if parts.scheme == "https":
        return None
    if parts.scheme != "http":
        return "it is not an https URL"
    host = parts.hostname
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    return None if loopback else "plain http is allowed only to a loopback address"
