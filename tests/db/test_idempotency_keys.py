"""What an Idempotency-Key remembers of a request whose body carries personal data: a keyed
hash (not a plain one anyone could test guesses of a name and birth date against), and only for
a day, after which the API's purge deletes it."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import asyncpg

from api.auth import Principal
from api.idempotency import derive_hash_key, idempotent, purge

ANNA = Principal(user_id="anna.pl", role="officer", state="PL", states=frozenset({"PL"}))
BODY = {"person": {"surname": "Shevchenko", "birth_date": "1990-05-17"}}


async def answer() -> tuple[int, Any]:
    return 201, {"case_id": "PL-UA-2027-000001"}


async def test_a_key_keeps_a_keyed_hash_of_the_body_and_is_purged_after_a_day(
    pool: asyncpg.Pool,
) -> None:
    key = derive_hash_key("the API's own secret")
    first = await idempotent(pool, ANNA, "walk-1", "POST", "/cases", BODY, answer, hash_key=key)
    again = await idempotent(pool, ANNA, "walk-1", "POST", "/cases", BODY, answer, hash_key=key)
    assert first.status_code == again.status_code == 201 and first.body == again.body

    stored = await pool.fetchval("SELECT request_hash FROM idempotency_keys")
    text = json.dumps(["POST", "/cases", BODY], sort_keys=True, separators=(",", ":")).encode()
    assert stored != hashlib.sha256(text).hexdigest()  # a guess cannot be tested without the key
    assert stored == hmac.new(key, text, hashlib.sha256).hexdigest()

    assert await purge(pool) == 0  # younger than a day: it still answers a retry
    await pool.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
    assert await purge(pool) == 1
    assert await pool.fetchval("SELECT count(*) FROM idempotency_keys") == 0
