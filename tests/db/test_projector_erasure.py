"""A projection racing an erasure never brings a name back into the list: the key was read just
before the erasure, the row written just after. Both ways in: the row updated, and the row
inserted (a rebuild, or the case's first projection)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from factories import CASE_ID, open_case
from test_projector import new_events

from adapters.db.eventstore import EventStore
from adapters.db.projector import ERASED_SUMMARY, CaseProjector
from adapters.protection.sealing import CaseSealer
from adapters.protection.vault import PersonalDataVault
from adapters.temporal.codec import Keyring
from domain.decider import decide
from domain.state import initial_state

MASTER = Keyring.from_encoded({"m1": Keyring.new_key()}, "m1", what="master")


class ErasedMeanwhile(PersonalDataVault):
    """Hands the projector the keys, then erases them before it writes: the race, made sure."""

    async def sealers(self, case_ids: Sequence[str]) -> dict[str, CaseSealer | None]:
        found = await super().sealers(case_ids)
        await self.erase(list(case_ids), datetime.now(UTC), "test: erased meanwhile")
        return found


async def summary(pool: asyncpg.Pool) -> str:
    return str(await pool.fetchval("SELECT person_summary FROM cases WHERE case_id = $1", CASE_ID))


async def test_a_projection_racing_the_erasure_keeps_the_summary_blank(pool: asyncpg.Pool) -> None:
    vault = PersonalDataVault(pool, MASTER)
    await vault.create(CASE_ID)
    sealed = await vault.seal(CASE_ID, open_case())
    await EventStore(pool).append(CASE_ID, 0, new_events(decide(sealed, initial_state())))
    await CaseProjector(pool, vault=vault).catch_up()
    assert await summary(pool) == "SHEVCHENKO O., 1990"

    racing = CaseProjector(pool, vault=ErasedMeanwhile(pool, MASTER))
    await racing.rebuild()  # the row inserted again, with the key read before the erasure
    assert await summary(pool) == ERASED_SUMMARY


async def test_an_update_racing_the_erasure_keeps_the_summary_blank(pool: asyncpg.Pool) -> None:
    vault = PersonalDataVault(pool, MASTER)
    await vault.create(CASE_ID)
    sealed = await vault.seal(CASE_ID, open_case())
    store = EventStore(pool)
    opened = decide(sealed, initial_state())
    await store.append(CASE_ID, 0, new_events(opened[:1]))
    await CaseProjector(pool, vault=vault).catch_up()
    assert await summary(pool) == "SHEVCHENKO O., 1990"
    assert len(opened) > 1  # the opening and its deadline: the second projected on its own
    await store.append(CASE_ID, 1, new_events(opened[1:]))
    await CaseProjector(pool, vault=ErasedMeanwhile(pool, MASTER)).catch_up()
    assert await summary(pool) == ERASED_SUMMARY
