"""The person search and the earlier-applications warning, shared by the API and the pages.

Both hash what they look for with the installation's search key and look the hashes up in the
blind index (adapters/db/person_index.py) among the cases the caller may know, the same scope as
`GET /cases`; a match's score and reasons come from domain/identity/search_tokens.py. Every
answer naming cases is one row of the disclosure log, as a case list is.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import asyncpg

from adapters.db.case_queries import case_rows
from adapters.db.person_index import entries_of, find
from adapters.protection.blind_index import BlindIndex, PersonQuery, all_tokens
from api.auth import Principal
from api.disclosure import record_shown
from api.problems import Problem
from api.services import Services
from domain.identity import search_tokens
from domain.identity.search_tokens import Kind, Token
from domain.values import EvidenceItem, Person

CANDIDATES = 300  # cases scored at most: those whose kinds of token found weigh most
SAME_PERSON = (frozenset({"document_number"}), frozenset({"surname", "birth_date"}))
"""What makes an earlier case the same person's: the same document number, or the same
surname (in any spelling) and birth date."""


def index_of(services: Services) -> BlindIndex:
    index = services.projector.index
    if index is None:  # the app factory always gives one; a bare test harness may not
        raise Problem(503, "Unavailable", "the person search is not configured")
    return index


def refuse_admin(caller: Principal) -> None:
    if caller.role == "admin":
        raise Problem(403, "Forbidden", "administrators manage the directory, not cases")


async def search_persons(
    services: Services, caller: Principal, query: PersonQuery, *, limit: int, endpoint: str
) -> list[dict[str, Any]]:
    """The cases the caller may know whose person matches `query`, best first; 422 when the
    query asks nothing (no criterion, or only names without letters)."""
    refuse_admin(caller)
    asked = query.asked()
    if not asked:
        raise Problem(
            422,
            "Invalid input",
            "give at least one of surname, given_names, birth_date, document_number",
            type_="invalid-input",
        )
    items = await ranked(services.pool, index_of(services), caller.states, asked, limit)
    if items:
        await record_shown(
            services.pool,
            caller,
            [i["case_id"] for i in items],
            purpose="person search",
            endpoint=endpoint,
        )
    return items


async def ranked(
    pool: asyncpg.Pool,
    index: BlindIndex,
    states: Collection[str],
    asked: dict[str, list[set[Token]] | set[Token]],
    limit: int,
) -> list[dict[str, Any]]:
    """The cases known to a holder of `states` matching the criteria `asked`, scored, best
    first (then by case id), at most `limit`, each with its read-model summary (the search
    without its checks and log: what the bench times)."""
    by_hash = {index.hash(t): t for t in all_tokens(asked)}
    found = await find(pool, by_hash, states, limit=CANDIDATES)
    scored = []
    for case_id, hashes in found.items():
        value, reasons = search_tokens.score(asked, {by_hash[h] for h in hashes})
        scored.append((-value, case_id, value, reasons))
    best = sorted(scored)[:limit]
    rows = await case_rows(pool, [case_id for _, case_id, _, _ in best])
    return [
        _item(rows[case_id], value, reasons)
        for _, case_id, value, reasons in best
        if case_id in rows
    ]


async def earlier_cases(
    services: Services,
    caller: Principal,
    person: Person,
    evidence: Iterable[EvidenceItem] = (),
    *,
    case_id: str,
    endpoint: str | None,
) -> list[dict[str, Any]]:
    """The other cases the caller may know of the person of case `case_id` (given in the clear,
    as opening it does), any status: the warning shown on opening. With `endpoint` None the
    answer is not logged yet: `disclose_earlier` logs it once it is shown (the case opened)."""
    index = index_of(services)
    numbers = [item.number for item in evidence if item.number]
    asked: dict[str, list[set[Token]] | set[Token]] = {
        "surname": search_tokens.surname_words(person.surname),
        "birth_date": {(Kind.BIRTH_DATE, person.birth_date.isoformat())},
    }
    documents = {(Kind.DOCUMENT, t) for n in numbers if (t := search_tokens.document_token(n))}
    return await _same_person(services, caller, index, asked, documents, case_id, endpoint)


async def earlier_cases_of(
    services: Services, caller: Principal, case_id: str, *, endpoint: str
) -> list[dict[str, Any]]:
    """The same as `earlier_cases` for a case already indexed (its page): its own entries are
    looked up, so nothing of its sealed person needs opening (a surname matches here when any
    of its words' keys does, its other names included: they are indexed as surnames)."""
    kinds = {e.hash: e.kind for e in await entries_of(services.pool, case_id)}
    if not kinds:
        return []
    found = await find(services.pool, kinds, caller.states, limit=CANDIDATES, excluding=case_id)
    matches: list[tuple[str, tuple[str, ...]]] = []
    for other, hashes in found.items():
        have = {kinds[h] for h in hashes}
        reasons = tuple(
            name
            for name, kind in (
                ("surname", Kind.SURNAME),
                ("birth_date", Kind.BIRTH_DATE),
                ("document_number", Kind.DOCUMENT),
            )
            if kind.value in have
        )
        if _same(reasons):
            matches.append((other, reasons))
    return await _answer(services, caller, matches, endpoint)


async def _same_person(
    services: Services,
    caller: Principal,
    index: BlindIndex,
    asked: dict[str, list[set[Token]] | set[Token]],
    documents: set[Token],
    case_id: str,
    endpoint: str | None,
) -> list[dict[str, Any]]:
    if documents:
        asked = {**asked, "document_number": documents}
    by_hash = {index.hash(t): t for t in all_tokens(asked)}
    found = await find(services.pool, by_hash, caller.states, limit=CANDIDATES, excluding=case_id)
    matches = []
    for other, hashes in found.items():
        tokens = {by_hash[h] for h in hashes}
        reasons = tuple(
            criterion for criterion, wanted in asked.items() if _exact(criterion, wanted, tokens)
        )
        if _same(reasons):
            matches.append((other, reasons))
    return await _answer(services, caller, matches, endpoint)


def _exact(criterion: str, wanted: list[set[Token]] | set[Token], found: set[Token]) -> bool:
    """Every word of a name found by its keys (not only its skeleton); the one token else."""
    if isinstance(wanted, list):
        exact = Kind.SURNAME if criterion == "surname" else Kind.GIVEN_NAME
        return all(any(kind is exact for kind, _ in word & found) for word in wanted)
    return bool(wanted & found)


def _same(reasons: tuple[str, ...]) -> bool:
    return any(rule <= set(reasons) for rule in SAME_PERSON)


async def _answer(
    services: Services,
    caller: Principal,
    matches: list[tuple[str, tuple[str, ...]]],
    endpoint: str | None,
) -> list[dict[str, Any]]:
    rows = await case_rows(services.pool, [c for c, _ in matches])
    known = sorted((rows[c]["opened_at"], c, reasons) for c, reasons in matches if c in rows)
    items = [
        {
            "case_id": c,
            "status": rows[c]["status"],
            "opened_at": opened.isoformat(),
            "reasons": list(reasons),
        }
        for opened, c, reasons in known
    ]
    if endpoint is not None:
        await disclose_earlier(services, caller, items, endpoint=endpoint)
    return items


async def disclose_earlier(
    services: Services, caller: Principal, items: list[dict[str, Any]], *, endpoint: str
) -> None:
    """One row of the disclosure log naming the earlier cases shown (none: nothing)."""
    if items:
        await record_shown(
            services.pool,
            caller,
            [i["case_id"] for i in items],
            purpose="earlier applications",
            endpoint=endpoint,
            fields=("case_id", "status"),
        )


def _item(row: Any, value: float, reasons: tuple[str, ...]) -> dict[str, Any]:
    return {
        "case_id": row["case_id"],
        "score": value,
        "reasons": list(reasons),
        "status": row["status"],
        "requesting": row["requesting"],
        "requested": row["requested"],
        "person": row["person_summary"],
        "opened_at": row["opened_at"].isoformat(),
    }
