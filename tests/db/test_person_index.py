"""The person search's index on real PostgreSQL: written when a case is opened, made again when
its person is amended or evidence added, the same after a rebuild, deleted with the case's key
(also by an erasure racing the projection), and found only within the caller's scope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import asyncpg
from factories import CASE_ID, T0, open_case, passport
from test_projector import new_events
from test_projector_erasure import MASTER, ErasedMeanwhile

from adapters.db.case_queries import some_case_ids
from adapters.db.eventstore import EventStore
from adapters.db.person_index import entries_of, find, replace_entries
from adapters.db.projector import CaseProjector
from adapters.protection.blind_index import BlindIndex, Entry, PersonQuery, all_tokens
from adapters.protection.vault import PersonalDataVault
from bench.read_model import fill
from domain.commands import AddEvidence, AmendPerson, Command
from domain.decider import decide, fold
from domain.identity.search_tokens import Kind
from domain.values import EvidenceItem, Person

INDEX = BlindIndex(bytes(range(32)))


async def record(pool: asyncpg.Pool, vault: PersonalDataVault, command: Command) -> None:
    """Seal `command`, decide it on the stored case and append its events."""
    store = EventStore(pool)
    recorded = await store.read_stream(CASE_ID)
    state = fold(r.event() for r in recorded)
    sealed = await vault.seal(CASE_ID, command)
    await store.append(CASE_ID, len(recorded), new_events(decide(sealed, state)))


def hashes(**criteria: object) -> set[bytes]:
    return {INDEX.hash(t) for t in all_tokens(PersonQuery(**criteria).asked())}  # type: ignore[arg-type]


async def kinds_found(pool: asyncpg.Pool, found: Sequence[bytes]) -> set[str]:
    return {e.kind for e in await entries_of(pool, CASE_ID) if e.hash in found}


async def opened(pool: asyncpg.Pool) -> tuple[PersonalDataVault, CaseProjector]:
    vault = PersonalDataVault(pool, MASTER)
    await record(pool, vault, open_case())
    projector = CaseProjector(pool, vault=vault, index=INDEX)
    await projector.catch_up()
    return vault, projector


async def test_opening_indexes_the_person_and_documents(pool: asyncpg.Pool) -> None:
    await opened(pool)
    entries = await entries_of(pool, CASE_ID)
    assert {e.kind for e in entries} == {k.value for k in Kind}
    assert await kinds_found(pool, list(hashes(surname="Шевченко"))) >= {"surname"}
    assert await kinds_found(pool, list(hashes(document_number="fa-123456"))) == {"document"}
    assert await kinds_found(pool, list(hashes(birth_date=date(1990, 5, 17)))) == {"birth_date"}
    stored = await pool.fetch("SELECT kind, hash::text AS hash FROM person_index")
    assert not any("1990" in r["hash"] or "Shevchenko" in r["hash"] for r in stored)


async def test_an_amendment_and_new_evidence_index_the_person_again(pool: asyncpg.Pool) -> None:
    vault, projector = await opened(pool)
    amended = Person(surname="Bondarenko", given_names="Oleksandr", birth_date=date(1991, 1, 2))
    await record(pool, vault, AmendPerson(at=T0 + timedelta(hours=1), person=amended))
    await projector.catch_up()
    assert not await kinds_found(pool, list(hashes(surname="Shevchenko")))
    assert await kinds_found(pool, list(hashes(surname="Бондаренко"))) >= {"surname"}
    assert await kinds_found(pool, list(hashes(document_number="FA123456"))) == {"document"}

    visa = EvidenceItem(kind="visa", number="V-778899")
    await record(pool, vault, AddEvidence(at=T0 + timedelta(hours=2), items=(visa, passport())))
    await projector.catch_up()
    assert await kinds_found(pool, list(hashes(document_number="v778899"))) == {"document"}

    before = await entries_of(pool, CASE_ID)
    await projector.rebuild()
    assert await entries_of(pool, CASE_ID) == before


async def test_the_erasure_deletes_the_entries(pool: asyncpg.Pool) -> None:
    vault, projector = await opened(pool)
    assert await entries_of(pool, CASE_ID)
    await vault.erase([CASE_ID], datetime.now(UTC), "test")
    assert await entries_of(pool, CASE_ID) == []
    await projector.rebuild()  # the key is gone: nothing to index from
    assert await entries_of(pool, CASE_ID) == []


async def test_a_projection_racing_the_erasure_indexes_nothing(pool: asyncpg.Pool) -> None:
    vault = PersonalDataVault(pool, MASTER)
    await record(pool, vault, open_case())
    racing = CaseProjector(pool, vault=ErasedMeanwhile(pool, MASTER), index=INDEX)
    await racing.catch_up()  # the keys were read just before the erasure
    assert await entries_of(pool, CASE_ID) == []


async def test_the_search_finds_only_cases_known_to_the_caller(pool: asyncpg.Pool) -> None:
    await opened(pool)  # PL asks UA; not submitted yet
    wanted = hashes(surname="Shevchenko", birth_date=date(1990, 5, 17))
    assert set(await find(pool, wanted, ["PL"])) == {CASE_ID}
    assert set(await find(pool, wanted, ["*"])) == {CASE_ID}
    assert await find(pool, wanted, ["UA"]) == {}  # a draft is not disclosed to UA
    assert await find(pool, wanted, ["DE"]) == {}
    assert await find(pool, wanted, ["PL"], excluding=CASE_ID) == {}
    found = await find(pool, wanted, ["PL"])
    assert found[CASE_ID] <= wanted and len(found[CASE_ID]) >= 2


async def test_candidates_are_chosen_by_the_weight_of_what_they_match(pool: asyncpg.Pool) -> None:
    """However many cases share a surname (many hashes each), the one with the same document
    number and birth date is among the few candidates the search scores."""
    await fill(pool, 60)
    ids = sorted(await some_case_ids(pool, 60))
    surname = [INDEX.hash((Kind.SURNAME, f"key{i}")) for i in range(8)]
    document, born = INDEX.hash((Kind.DOCUMENT, "FA1")), INDEX.hash((Kind.BIRTH_DATE, "1990-01-01"))
    async with pool.acquire() as conn:
        await replace_entries(
            conn,
            {c: [Entry("surname", h) for h in surname] for c in ids[:-1]}
            | {ids[-1]: [Entry("document", document), Entry("birth_date", born)]},
        )
    found = await find(pool, [*surname, document, born], ["*"], limit=3)
    assert ids[-1] in found and len(found) == 3
    assert next(iter(found)) == ids[-1]  # the heaviest first
