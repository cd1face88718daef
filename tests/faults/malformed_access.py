"""Malformed requests beyond the body, for the fault tests: overlong headers, bad tokens, bad
path ids, bad query values, reads by callers who may not read; and the seeded mix of all defects.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote

import jwt
from fault_support import SECRET, bearer
from malformed import (
    INJECTIONS,
    JSON,
    Context,
    Malformed,
    bad_encoding,
    broken_json,
    huge_body,
    injection,
    long_values,
    wrong_content_type,
    wrong_types,
)

from api.auth import issue_dev_token

COUNT = 1000
SEED = 20261127


def overlong_headers(rng: random.Random, ctx: Context) -> Malformed:
    route = rng.choice(list(ctx.posts))
    body = json.dumps(ctx.posts[route]).encode()
    headers: dict[str, str | bytes] = {"Content-Type": JSON}
    if rng.random() < 0.5 or not route.startswith("/cases"):  # only cases take the key
        headers["Authorization"] = "Bearer " + "A" * rng.choice((10_000, 100_000))
    else:
        headers.update(ctx.poster(route))
        headers["Idempotency-Key"] = "k" * rng.choice((1_000, 20_000))
    return Malformed("overlong-headers", route, "POST", ctx.path(route), headers, body)


def bad_token(rng: random.Random, ctx: Context) -> Malformed:
    route = rng.choice(list(ctx.posts))
    past = time.time() - 86_400
    claims = {"sub": "anna.pl", "role": "officer", "state": "PL", "exp": int(time.time()) + 600}
    choices: list[Mapping[str, str | bytes]] = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YW5uYTpzZWNyZXQ="},
        {"Authorization": "Bearer not.a.jwt"},
        {"Authorization": b"Bearer \xff\xfe\xfd"},
        {"Authorization": "Bearer " + jwt.encode(claims, "wrong-secret-0123456789abcdef0123")},
        {"Authorization": "Bearer " + jwt.encode(claims, "", algorithm="none")},
        {"Authorization": "Bearer " + jwt.encode({**claims, "role": "god"}, SECRET)},
        {"Authorization": "Bearer " + jwt.encode({**claims, "state": "' OR 1=1"}, SECRET)},
        {
            "Authorization": "Bearer "
            + issue_dev_token(
                SECRET, user="anna.pl", role="officer", state="PL", now=past, ttl_minutes=1
            )
        },
        bearer("root", "admin", "PL"),  # administrators may not touch cases (403)
    ]
    if route.startswith("/codec"):
        choices[-1] = bearer("anna.pl", "officer", "PL")  # the codec is for auditors (403)
    elif route.startswith("/identity"):
        choices[-1] = bearer("root", "admin", "PL")
    headers = {**rng.choice(choices), "Content-Type": JSON}
    body = json.dumps(ctx.posts[route]).encode()
    return Malformed("bad-token", route, "POST", ctx.path(route), headers, body)


BAD_IDS = (
    "pl-ua-2026-000001",
    "PL-UA-2026-0000001",
    "PL-UA-26-000001",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "PL-UA-2026-000001%00",
    "PL-UA-2026-000001'--",
    "PL-UA-1999-999999",  # well formed, no such case
    "A" * 3000,
)


def bad_params(rng: random.Random, ctx: Context) -> Malformed:
    text = rng.choice(INJECTIONS)
    case = f"/cases/{ctx.case_id}"
    options: list[tuple[str, str, list[tuple[str, str]], dict[str, str]]] = [
        (
            "/cases",
            "/cases",
            [("limit", rng.choice(["abc", "0", "201", "-5", "1e3", text]))],
            ctx.requested,
        ),
        ("/cases", "/cases", [("overdue", rng.choice(["maybe", "2", text]))], ctx.requested),
        (
            "/cases",
            "/cases",
            [("due_before", rng.choice(["yesterday", "2026-01-01T00:00:00", text]))],
            ctx.requested,
        ),
        ("/cases", "/cases", [("side", rng.choice(["left", text]))], ctx.requested),
        (
            "/cases",
            "/cases",
            [("status", rng.choice(["bogus", "\x00", text])), ("status", "received")],
            ctx.requested,
        ),
        ("/cases", "/cases", [("agreement", text)], ctx.requested),
        ("/cases", "/cases", [("counterpart", rng.choice(["pl", "POL", text]))], ctx.requested),
        ("/cases", "/cases", [("q", rng.choice(["lower", "A" * 41, text]))], ctx.requested),
        (
            "/cases",
            "/cases",
            [("cursor", rng.choice(["not-a-cursor", "A" * 401, text]))],
            ctx.requested,
        ),
        (
            "/cases/{id}/state",
            f"{case}/state",
            [("version", rng.choice(["-1", "abc", str(2**31), text]))],
            ctx.requested,
        ),
        (
            "/cases/{id}/state",
            f"{case}/state",
            [("as_of", rng.choice(["2026-01-01T00:00:00", "soon", text]))],
            ctx.requested,
        ),
        (
            "/agreements/{id}",
            "/agreements/EU-UA",
            [("protocol", rng.choice(["POL", "p", text]))],
            ctx.requested,
        ),
        (
            "/agreements/{id}/deadlines",
            "/agreements/EU-UA/deadlines",
            [
                ("limit", rng.choice(["reply", text])),
                ("requesting", "PL"),
                ("requested", "UA"),
                ("from", rng.choice(["now", "2026-01-01", text])),
            ],
            ctx.requested,
        ),
        (
            "/agreements/{id}/deadlines",
            "/agreements/EU-UA/deadlines",
            [
                ("limit", "reply"),
                ("requesting", text),
                ("requested", "UA"),
                ("from", "2026-01-01T00:00:00+00:00"),
                ("extra_days", rng.choice(["-1", "9999", "x"])),
            ],
            ctx.requested,
        ),
        ("/inbox", "/inbox", [("limit", rng.choice(["0", "201", "x"]))], ctx.requested),
        ("/inbox", "/inbox", [("cursor", rng.choice(["0", "abc", "1" * 19, text]))], ctx.requested),
        ("/inbox", "/inbox", [("unread", rng.choice(["perhaps", text]))], ctx.requested),
        (
            "/audit/disclosures",
            "/audit/disclosures",
            [("case_id", rng.choice(["lower", text]))],
            ctx.auditor,
        ),
        (
            "/audit/disclosures",
            "/audit/disclosures",
            [("user_id", rng.choice(["a b", "A" * 201, text]))],
            ctx.auditor,
        ),
        (
            "/audit/disclosures",
            "/audit/disclosures",
            [("limit", rng.choice(["0", "501", "x"]))],
            ctx.auditor,
        ),
    ]
    route, path, params, who = rng.choice(options)
    return Malformed("bad-params", route, "GET", path, dict(who), None, params)


def bad_paths(rng: random.Random, ctx: Context) -> Malformed:
    bad = quote(rng.choice((*BAD_IDS, rng.choice(INJECTIONS))), safe="%")
    route, path, method = rng.choice(
        [
            ("/cases/{id}", f"/cases/{bad}", "GET"),
            ("/cases/{id}/events", f"/cases/{bad}/events", "GET"),
            ("/cases/{id}/state", f"/cases/{bad}/state", "GET"),
            ("/cases/{id}/verify", f"/cases/{bad}/verify", "GET"),
            ("/cases/{id}/accept", f"/cases/{bad}/accept", "POST"),
            ("/agreements/{id}", f"/agreements/{bad}", "GET"),
            (
                "/inbox/{n}/read",
                f"/inbox/{rng.choice(['0', '-1', 'abc', str(2**63), '1e3', bad])}/read",
                "POST",
            ),
        ]
    )
    who = ctx.auditor if route.endswith(("/events", "/verify")) else ctx.requested
    content = json.dumps({"note": "x"}).encode() if method == "POST" else None
    return Malformed("bad-paths", route, method, path, {**who, "Content-Type": JSON}, content)


def unauthenticated_reads(rng: random.Random, ctx: Context) -> Malformed:
    """Reads, some of the existing case's personal data, by callers who must not pass."""
    route = rng.choice(
        [
            "/cases/{id}",
            "/cases/{id}/events",
            "/cases/{id}/state",
            "/cases/{id}/verify",
            "/cases",
            "/inbox",
            "/audit/disclosures",
        ]
    )
    expired = {"sub": "x", "role": "auditor", "states": ["*"], "exp": 1}
    stranger = {}  # a valid token of someone this read is not for, where there is one
    if route.startswith("/cases/"):
        stranger = bearer("mallory.md", "officer", "MD")  # not a party: 404
    elif route in ("/cases", "/audit/disclosures"):
        stranger = bearer("root", "admin", "PL")  # administrators: 403
    header = rng.choice(
        [
            {},
            {"Authorization": "Bearer " + "x" * 50},
            {"Authorization": "Bearer " + jwt.encode(expired, SECRET)},
            stranger,
        ]
    )
    return Malformed("bad-reader", route, "GET", ctx.path(route), dict(header))


DEFECTS: tuple[tuple[Callable[[random.Random, Context], Malformed], int], ...] = (
    (broken_json, 12),
    (wrong_types, 16),
    (huge_body, 2),
    (long_values, 4),
    (bad_encoding, 10),
    (injection, 14),
    (wrong_content_type, 8),
    (overlong_headers, 6),
    (bad_token, 10),
    (bad_params, 12),
    (bad_paths, 8),
    (unauthenticated_reads, 6),
)


def generate(ctx: Context, count: int = COUNT, seed: int = SEED) -> list[Malformed]:
    rng = random.Random(seed)
    makers = [maker for maker, _ in DEFECTS]
    weights = [weight for _, weight in DEFECTS]
    return [rng.choices(makers, weights)[0](rng, ctx) for _ in range(count)]
