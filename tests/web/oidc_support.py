"""A real OpenID provider for the sign-in tests: the `oidc-provider` package (pinned in
tests/web/oidc/package-lock.json) run by Node.js with tests/web/oidc/provider.mjs.

Without Node.js or npm the tests cannot run: in CI (CI=true) that fails them, elsewhere they are
skipped, saying so. `npm ci` installs the package when node_modules is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "readmit-web"
CLIENT_SECRET = "test-client-secret-0123456789"
PASSWORDS = {
    "anna.pl": "anna-password",  # officer of PL
    "taras.ua": "taras-password",  # officer and supervisor of UA: a supervisor
    "audit.eu": "audit-password",  # auditor of PL and UA
    "visitor.pl": "visitor-password",  # no Readmit role
    "nostate.ua": "nostate-password",  # an officer without a state
}
# Keycloak-like realm roles (the provider's users carry them in `realm_access.roles`)
ROLE_MAP = {
    "readmit-officer": "officer",
    "readmit-supervisor": "supervisor",
    "readmit-auditor": "auditor",
    "readmit-admin": "admin",
}


class _LoopbackIsSecure(httpx.AsyncBaseTransport):
    """Keeps `Secure` cookies of a loopback address over plain http, as browsers do (a loopback
    origin is a secure context): production's session cookie is always `Secure`, and httpx's
    cookie jar would never send it back over http."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.host in ("127.0.0.1", "localhost"):
            response.headers = httpx.Headers(
                [
                    (k, re.sub(r";\s*Secure\b", "", v, flags=re.I) if k == "set-cookie" else v)
                    for k, v in response.headers.multi_items()
                ]
            )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def loopback_client(base_url: str) -> httpx.AsyncClient:
    """An HTTP client for the app served on loopback, keeping cookies as a browser would."""
    return httpx.AsyncClient(base_url=base_url, transport=_LoopbackIsSecure())


def oidc_settings(issuer: str, redirect_url: str) -> dict[str, Any]:
    """The app's settings for the test provider (as docs/sign-in.md shows for Keycloak)."""
    return {
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret": CLIENT_SECRET,
        "oidc_redirect_url": redirect_url,
        "oidc_scopes": ("openid", "profile", "readmit"),
        "oidc_role_map": ROLE_MAP,
        "oidc_role_claim": "realm_access.roles",
        "oidc_state_claim": "readmit_state",
        # readable names on the pages; the test provider's usernames are unique and fixed
        "oidc_user_claim": "preferred_username",
    }


def node_tools() -> tuple[str, str]:
    """`node` and `npm`, or a loud failure in CI and a loud skip elsewhere."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    reason = (
        "NO NODE.JS/NPM: the OpenID provider tests did NOT run; install Debian's packages: "
        "apt-get install -y nodejs npm (.ci/run does)"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def install_provider(npm: str) -> None:
    if (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=OIDC_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"npm ci in {OIDC_DIR} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.asynccontextmanager
async def running_provider(port: int, redirect_url: str) -> AsyncIterator[str]:
    """The provider listening on 127.0.0.1:`port`, its issuer `http://localhost:<port>` (another
    site than the app's 127.0.0.1, as a real provider is); yields the issuer."""
    node, npm = node_tools()
    install_provider(npm)
    issuer = f"http://localhost:{port}"
    process = await asyncio.create_subprocess_exec(
        node,
        "provider.mjs",
        cwd=OIDC_DIR,
        env={
            **os.environ,
            "OIDC_PORT": str(port),
            "OIDC_ISSUER": issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_REDIRECT_URI": redirect_url,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    said: list[str] = []
    try:
        async with asyncio.timeout(30):
            while True:
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise RuntimeError("the OpenID provider exited:\n" + "".join(said))
                said.append(line)
                if line.startswith("ready "):
                    break
        drain = asyncio.create_task(_drain(process.stdout))
        try:
            yield issuer
        finally:
            drain.cancel()
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


async def _drain(stream: asyncio.StreamReader) -> None:
    """Keep reading what the provider prints, so its pipe never fills."""
    while await stream.readline():
        pass
