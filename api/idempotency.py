"""`Idempotency-Key` on every POST: a retried request gets the first answer, once computed.

The key is reserved before the work starts, so two concurrent requests with the same key never
both run (the second gets 409 while the first is in progress). The same key with a different
request is refused with 422. Answers of 5xx are not kept, so a retry after an outage runs again;
a reservation left behind by a request that died unanswered is taken over after `STALE_SECONDS`.

A request body carries personal data, so a key remembers only a keyed hash of it (HMAC under a
secret of the API's, not a plain hash anyone could test guesses against), and only for
`KEEP_SECONDS`: `purge_forever` deletes older keys, as erasure must not leave traces behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi.responses import JSONResponse

from api.auth import Principal
from api.problems import Problem

Handler = Callable[[], Awaitable[tuple[int, Any]]]
# Longer than any request may run (the gateway waits for a case up to 120 s).
STALE_SECONDS = 300.0
# How long a key answers a retry; a retry a day later is a new request.
KEEP_SECONDS = 86_400.0
PURGE_EVERY_SECONDS = 3_600.0


def derive_hash_key(secret: str) -> bytes:
    """The HMAC key of request hashes, derived from a secret of the API's (domain-separated)."""
    return hashlib.sha256(b"readmit:idempotency-request-hash:" + secret.encode()).digest()


def request_hash(method: str, path: str, body: Any, key: bytes) -> str:
    text = json.dumps([method, path, body], sort_keys=True, default=str, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


async def purge(pool: asyncpg.Pool, older_than_seconds: float = KEEP_SECONDS) -> int:
    """Delete the keys older than `older_than_seconds`; how many."""
    deleted = await pool.fetchval(
        "WITH gone AS (DELETE FROM idempotency_keys"
        " WHERE created_at < now() - make_interval(secs => $1) RETURNING 1)"
        " SELECT count(*) FROM gone",
        older_than_seconds,
    )
    return int(deleted)


async def purge_forever(pool: asyncpg.Pool, stop: asyncio.Event) -> None:
    """`purge` now and every `PURGE_EVERY_SECONDS` until `stop` (beside the API's projector)."""
    while not stop.is_set():
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await purge(pool)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PURGE_EVERY_SECONDS)


async def idempotent(
    pool: asyncpg.Pool,
    caller: Principal,
    key: str | None,
    method: str,
    path: str,
    body: Any,
    handler: Handler,
    *,
    hash_key: bytes,
) -> JSONResponse:
    if key is None:
        status, content = await handler()
        return JSONResponse(content, status_code=status)
    if not 1 <= len(key) <= 200:
        raise Problem(422, "Invalid input", "Idempotency-Key must be 1 to 200 characters")
    digest = request_hash(method, path, body, hash_key)
    reserved = await pool.fetchval(
        "INSERT INTO idempotency_keys (principal, key, method, path, request_hash)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        caller.user_id,
        key,
        method,
        path,
        digest,
    )
    if not reserved:
        row = await pool.fetchrow(
            "SELECT request_hash, status_code, response FROM idempotency_keys"
            " WHERE principal = $1 AND key = $2",
            caller.user_id,
            key,
        )
        if row is None or row["request_hash"] != digest:
            raise Problem(
                422,
                "Idempotency key reused",
                "this Idempotency-Key was used for a different request",
                type_="idempotency-key-reused",
            )
        if row["status_code"] is not None:
            return JSONResponse(row["response"], status_code=row["status_code"])
        if not await _take_over_stale(pool, caller, key):
            raise Problem(409, "Request in progress", "a request with this key is still running")
    try:
        status, content = await handler()
    except Problem as problem:
        if problem.status >= 500:
            await _forget(pool, caller, key)
        else:
            await _keep(pool, caller, key, problem.status, _problem_body(problem))
        raise
    except Exception:
        await _forget(pool, caller, key)
        raise
    await _keep(pool, caller, key, status, content)
    return JSONResponse(content, status_code=status)


async def _take_over_stale(pool: asyncpg.Pool, caller: Principal, key: str) -> bool:
    """Take over a reservation older than any request can run: its request died with no answer
    kept (e.g. PostgreSQL went away before the answer could be stored, and so did the clean-up).
    Running it again is safe: the command's update id derives from the same key."""
    taken = await pool.fetchval(
        "UPDATE idempotency_keys SET created_at = now()"
        " WHERE principal = $1 AND key = $2 AND status_code IS NULL"
        " AND created_at < now() - make_interval(secs => $3) RETURNING true",
        caller.user_id,
        key,
        STALE_SECONDS,
    )
    return bool(taken)


def _problem_body(problem: Problem) -> dict[str, Any]:
    return {"title": problem.title, "status": problem.status, "detail": problem.detail}


async def _keep(pool: asyncpg.Pool, caller: Principal, key: str, status: int, body: Any) -> None:
    await pool.execute(
        "UPDATE idempotency_keys SET status_code = $3, response = $4"
        " WHERE principal = $1 AND key = $2",
        caller.user_id,
        key,
        status,
        body,
    )


async def _forget(pool: asyncpg.Pool, caller: Principal, key: str) -> None:
    await pool.execute(
        "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2", caller.user_id, key
    )
