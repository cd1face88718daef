"""The identity provider's signing keys (a JWKS), fetched without blocking the event loop.

A token names its key by `kid`. Known keys answer from memory; an unknown `kid` refetches the
set, but at most once per `min_refresh_seconds` whatever the tokens say: a flood of tokens with
random key ids costs the provider one request per interval, and none of them waits on anything
but that one request (awaited, never blocking the loop). Keys are only fetched over https, or
plain http on a loopback host (a provider the tests or a developer run on this machine).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import jwt

from adapters.settings import ConfigurationError
from adapters.urls import https_or_loopback

FETCH_TIMEOUT_SECONDS = 5.0
MAX_AGE_SECONDS = 3600  # known keys are refreshed this often anyway (rotation)


class KeyNotFound(Exception):
    """No key of the provider's set matches the token (or the set cannot be fetched now)."""


def check_transport(url: str, what: str) -> str:
    """`url` if it is https (or http on a loopback host, `adapters.urls`), else a
    `ConfigurationError`."""
    if https_or_loopback(url):
        return url
    raise ConfigurationError(f"{what} must be an https URL (plain http only on loopback): {url}")


def _parse(document: Any) -> dict[str | None, jwt.PyJWK]:
    """The set's signing keys by id; keys of unknown types or for encryption are skipped."""
    keys: dict[str | None, jwt.PyJWK] = {}
    for entry in document.get("keys", []) if isinstance(document, dict) else []:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK.from_dict(entry)
        except jwt.PyJWTError:
            continue
        keys[key.key_id] = key
    return keys


class KeySet:
    """The signing keys of one provider: from a URL (refreshed, rate-limited) or a file."""

    def __init__(
        self,
        *,
        url: str | Callable[[], Awaitable[str]] | None = None,
        file: Path | None = None,
        min_refresh_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(url, str):
            check_transport(url, "the JWKS URL")
        self._url = url
        self._min_refresh = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # the last attempt, successful or not
        self._lock = asyncio.Lock()
        self.fetches = 0  # requests made to the provider (for the tests and the logs)
        if file is not None:
            self._keys = _parse(json.loads(file.read_text()))
            self._url = None

    async def key(self, kid: str | None) -> jwt.PyJWK:
        """The key named `kid` (a token without `kid` is accepted only when the set has one key)."""
        found = self._known(kid)
        if found is not None and not self._stale():
            return found
        if self._url is None:
            if found is not None:
                return found
            raise KeyNotFound("no key of the configured key set matches the token's 'kid'")
        try:
            await self._refresh()
        except KeyNotFound:
            if found is not None:  # the provider is away: the keys it had still sign
                return found
            raise
        found = self._known(kid)
        if found is None:
            raise KeyNotFound("no key of the provider's key set matches the token's 'kid'")
        return found

    def _known(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at > MAX_AGE_SECONDS

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._min_refresh

    async def _refresh(self) -> None:
        if not self._may_fetch():
            return
        async with self._lock:
            if not self._may_fetch():  # another request fetched while this one waited
                return
            self._fetched_at = self._clock()
            self.fetches += 1
            try:
                url = self._url if isinstance(self._url, str) else await self._url()  # type: ignore[misc]
                check_transport(url, "the JWKS URL")
                async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as http:
                    answer = await http.get(url, headers={"Accept": "application/json"})
                    answer.raise_for_status()
                    keys = _parse(answer.json())
            except (httpx.HTTPError, ValueError, ConfigurationError) as error:
                raise KeyNotFound(
                    f"the key set could not be fetched ({type(error).__name__})"
                ) from None
            if keys:
                self._keys = keys
