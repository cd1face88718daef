"""Malformed request bodies for the fault tests, from a seeded generator: broken JSON, wrong
types, bodies over the cap, values over their limits, bytes that are not UTF-8, injection strings
and wrong content types. Each request carries a defect that must refuse it, whatever else holds.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fault_support import application

JSON = "application/json"
CAP = 1024 * 1024
INJECTIONS = (
    "'; DROP TABLE case_events; --",
    "1 OR 1=1",
    '" OR ""="',
    "admin'--",
    "../../../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "\x00",
    "\x1b[31mred",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${jndi:ldap://x/a}",
    "$(rm -rf /)",
    "\u202eRTL",
    "🙂" * 50,
    "A" * 5000,
)
BAD_UTF8 = (b"\xff", b"\xfe\xfd", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\xe9t\xe9")
WRONG_VALUES: tuple[Any, ...] = ({}, [], [1, 2], {"a": 1}, [{"x": None}])
# fields of one route's body that may be left out (a verification's reasons): no defect
OPTIONAL_AT: dict[str, tuple[str, ...]] = {"/cases/{id}/verification": ("reasons",)}


def command_bodies() -> dict[str, dict[str, Any]]:
    """A well-formed body for each case command (the generator breaks them)."""
    reasons = {"reasons": ["the documents do not match"]}
    on = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    return {
        "submit": {},
        "receipt": {},
        "verification": {"status": "confirmed", "score": "0.9", "reasons": []},
        "extension": reasons,
        "accept": {"note": "documents verified"},
        "refuse": reasons,
        "transfer": {"on": on, "bcp": "Medyka-Shehyni", "mode": "land", "escorts": 1},
        "transfer/complete": {},
        "transfer/extension": {"days": 5, **reasons},
        "error-claim": reasons,
        "error-claim/accept": {"note": "we take the person back"},
        "error-claim/dispute": reasons,
        "return": {"on": on, "bcp": "Medyka-Shehyni", "mode": "land", "escorts": 1},
        "return/complete": {},
        "person": {
            "person": {
                "surname": "Shevchenko",
                "given_names": "Oleksandr",
                "birth_date": "1990-05-18",
            }
        },
        "withdraw": reasons,
        "close": {},
    }


def post_bodies() -> dict[str, dict[str, Any]]:
    """A well-formed body for every POST route that takes one (`{id}`: the case)."""
    payloads = {"payloads": [{"metadata": {"encoding": "YmluYXJ5L3BsYWlu"}, "data": "eA=="}]}
    return {
        "/cases": application(),
        **{f"/cases/{{id}}/{name}": body for name, body in command_bodies().items()},
        "/identity/mrz": {"lines": ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"]},
        "/identity/match": {"a": "Oleksandr", "b": "Olexandr"},
        "/identity/unzr": {"number": "19900517-01234"},
        "/codec/decode": payloads,
    }


@dataclass(frozen=True)
class Malformed:
    """One request to send: its defect's kind, the route it aims at, and what goes on the wire."""

    kind: str
    route: str
    method: str
    path: str
    headers: Mapping[str, str | bytes] = field(default_factory=dict)
    content: bytes | None = None
    params: list[tuple[str, str]] | None = None


@dataclass
class Context:
    """What the generator aims at: an existing case, and callers who may touch it."""

    case_id: str
    requested: dict[str, str]  # an officer of the requested state (UA)
    requesting: dict[str, str]  # an officer of the requesting state (PL)
    auditor: dict[str, str]
    posts: dict[str, dict[str, Any]]  # route → a well-formed body

    def poster(self, route: str) -> dict[str, str]:
        if route.startswith("/codec"):
            return self.auditor
        return self.requesting if route in ("/cases", "/cases/{id}/submit") else self.requested

    def path(self, route: str) -> str:
        return route.replace("{id}", self.case_id)


def not_json(text: bytes) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return True
    return False


# --- the defects: each returns a request that must be refused --------------------------------


def broken_json(rng: random.Random, ctx: Context) -> Malformed:
    route = rng.choice(list(ctx.posts))
    text = json.dumps(ctx.posts[route]).encode()
    candidates = [
        text[: rng.randrange(1, max(2, len(text) - 1))],
        text[:-1] + b",}",
        text.replace(b'"', b"'"),
        b"{" + text,
        text + b"]",
        b"[" * rng.choice((1000, 50_000)),
        b'{"a": ' * 3000,
        b"",
        b"null null",
        text.replace(b":", b"=", 1),
    ]
    body = rng.choice([c for c in candidates if not_json(c) and c])
    headers = {**ctx.poster(route), "Content-Type": JSON}
    return Malformed("broken-json", route, "POST", ctx.path(route), headers, body)


def wrong_types(rng: random.Random, ctx: Context) -> Malformed:
    route = rng.choice(list(ctx.posts))
    body: Any = dict(ctx.posts[route])
    choice = rng.randrange(4)
    if choice == 0 or not body:  # the body itself is not an object, or has an unknown field
        # (the codec's payload documents are Temporal's: extra fields are theirs to add)
        extra = [] if route.startswith("/codec") else {**body, "role": "admin"}
        body = rng.choice([[], [body], "text", 42, True, None, extra])
    elif choice == 1:  # a field of the wrong shape
        name = rng.choice(sorted(body))
        body[name] = rng.choice(WRONG_VALUES if not isinstance(body[name], list) else ("x", 7))
    elif choice == 2:  # a required field missing (every body here has one)
        optional = {"note", "escorts", "knowledge_at", "evidence", *OPTIONAL_AT.get(route, ())}
        required = [n for n in sorted(body) if n not in optional]
        if required:
            del body[rng.choice(required)]
        else:
            body["unexpected"] = 1
    else:  # a number beyond every bound
        name = rng.choice(sorted(body))
        body[name] = rng.choice([[2**80], {"n": -(2**70)}, [1e308, -1e308]])
    encoded = json.dumps(body).encode()
    if rng.random() < 0.2:  # UTF-16/32 or a BOM do not make such a body acceptable
        encoded = rng.choice(
            [json.dumps(body).encode("utf-16"), b"\xef\xbb\xbf" + encoded, encoded]
        )
    headers = {**ctx.poster(route), "Content-Type": JSON}
    return Malformed("wrong-types", route, "POST", ctx.path(route), headers, encoded)


def huge_body(rng: random.Random, ctx: Context) -> Malformed:
    route = rng.choice(list(ctx.posts))
    size = rng.choice((CAP + 1, CAP + 4096, 2 * CAP))
    body = json.dumps({**ctx.posts[route], "padding": "x" * size}).encode()
    headers = {**ctx.poster(route), "Content-Type": JSON}
    return Malformed("huge-body", route, "POST", ctx.path(route), headers, body)


def long_values(rng: random.Random, ctx: Context) -> Malformed:
    """Under the byte cap, over every field's length limit."""
    route = rng.choice(["/cases", "/cases/{id}/refuse", "/identity/match", "/identity/mrz"])
    text = "Ж" * rng.choice((2001, 50_000, 300_000))
    body: dict[str, Any] = {
        "/cases": application(
            person={"surname": text, "given_names": "O", "birth_date": "1990-05-17"}
        ),
        "/cases/{id}/refuse": {"reasons": [text]},
        "/identity/match": {"a": text, "b": "x"},
        "/identity/mrz": {"lines": [text]},
    }[route]
    headers = {**ctx.poster(route), "Content-Type": JSON}
    return Malformed(
        "long-values", route, "POST", ctx.path(route), headers, json.dumps(body).encode()
    )


def bad_encoding(rng: random.Random, ctx: Context) -> Malformed:
    route = rng.choice(list(ctx.posts))
    body = dict(ctx.posts[route]) or {"x": "y"}
    name = rng.choice(sorted(body))
    marker = "\ufffe-marker-\ufffe"
    body[name] = marker
    raw = json.dumps(body, ensure_ascii=False).encode()
    raw = raw.replace(marker.encode(), rng.choice(BAD_UTF8) + b"x")
    charset = rng.choice(["", "; charset=utf-8", "; charset=latin-1", "; charset=utf-16"])
    headers = {**ctx.poster(route), "Content-Type": JSON + charset}
    return Malformed("bad-encoding", route, "POST", ctx.path(route), headers, raw)


CONSTRAINED = {  # fields whose values are codes, enums or patterns: no injection string fits
    "/cases": ("agreement", "requested", "protocol", "category", "procedure"),
    "/cases/{id}/transfer": ("mode", "on"),
    "/cases/{id}/verification": ("status", "score"),
    "/cases/{id}/transfer/extension": ("days",),
}


def injection(rng: random.Random, ctx: Context) -> Malformed:
    text = rng.choice(INJECTIONS)
    if rng.random() < 0.5:  # into a constrained field
        route = rng.choice(sorted(CONSTRAINED))
        body = {**ctx.posts[route], rng.choice(CONSTRAINED[route]): text}
    else:  # free text with a control character (refused at the boundary)
        route = rng.choice(
            ["/cases", "/cases/{id}/refuse", "/cases/{id}/accept", "/cases/{id}/withdraw"]
        )
        evil = text + rng.choice(["\x00", "\x07", "\x1b", "\x7f"])
        body = {
            "/cases": application(
                person={"surname": evil, "given_names": "O", "birth_date": "1990-05-17"}
            ),
            "/cases/{id}/refuse": {"reasons": [evil]},
            "/cases/{id}/accept": {"note": evil},
            "/cases/{id}/withdraw": {"reasons": ["fine", evil]},
        }[route]
    headers = {**ctx.poster(route), "Content-Type": JSON}
    return Malformed(
        "injection", route, "POST", ctx.path(route), headers, json.dumps(body).encode()
    )


def wrong_content_type(rng: random.Random, ctx: Context) -> Malformed:
    route = rng.choice(list(ctx.posts))
    body = json.dumps(ctx.posts[route]).encode()
    kind = rng.choice(
        [
            "text/plain",
            "application/xml",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "image/png",
            "application/octet-stream",
            "text/json",
        ]
    )
    if kind.startswith("application/x-www"):
        body = b"&".join(f"{k}={v}".encode() for k, v in ctx.posts[route].items()) or b"a=b"
    headers = {**ctx.poster(route), "Content-Type": kind}
    return Malformed("content-type", route, "POST", ctx.path(route), headers, body)
