"""What audits read from the database: a case's events (as stored, and folded) and its
disclosures; exporting records itself in the disclosure log."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from adapters.audit.bundle import CaseFiles
from adapters.db.eventstore import EventStore, Recorded
from adapters.protection.sealing import free_texts
from adapters.protection.vault import DataErased, PersonalDataVault
from domain.decider import fold
from domain.events import CaseOpened, PersonAmended
from domain.reply_approval import OWN_EVENTS
from domain.state import CaseState
from domain.values import Person


class UnknownCase(LookupError):
    pass


async def stored_events(store: EventStore, case_id: str) -> list[Recorded]:
    recorded = await store.read_stream(case_id)
    if not recorded:
        raise UnknownCase(case_id)
    return recorded


def replay(
    recorded: Sequence[Recorded], *, as_of: datetime | None = None, version: int | None = None
) -> tuple[CaseState, list[Recorded]]:
    """The state folded from the events recorded up to `as_of` (or up to `version`)."""
    kept = [
        r
        for r in recorded
        if (as_of is None or r.recorded_at <= as_of) and (version is None or r.version <= version)
    ]
    return fold(r.event() for r in kept), kept


async def disclosures(pool: asyncpg.Pool, case_id: str) -> list[dict[str, Any]]:
    """Every disclosure of the case: its own reads and exports, and the lists, dashboards and
    decodes that showed it among others (`cases_shown` says how many; the others are not named
    here, they are other cases' business)."""
    rows = await pool.fetch(
        "SELECT id, at, user_id, role, state, $1::text AS case_id, purpose, endpoint, fields,"
        " greatest(cardinality(case_ids), 1) AS cases_shown"
        " FROM disclosure_log WHERE case_id = $1 OR case_ids @> ARRAY[$1]::text[] ORDER BY id",
        case_id,
    )
    return [{**dict(r), "at": r["at"].isoformat(), "fields": list(r["fields"])} for r in rows]


async def log_disclosure(
    pool: asyncpg.Pool,
    user: str,
    role: str,
    case_id: str,
    purpose: str,
    endpoint: str,
    fields: Sequence[str] = ("person",),
    state: str | None = None,
) -> None:
    """Record that `user` (of `state`, if any) read or exported the case's personal data
    (through `record_disclosure`: the runtime role cannot write the log itself)."""
    await pool.execute(
        "SELECT record_disclosure($1, $2, $3, $4, $5, $6, $7)",
        user,
        role,
        state,
        case_id,
        purpose,
        endpoint,
        list(fields),
    )


async def log_shown(
    pool: asyncpg.Pool,
    user: str,
    role: str,
    case_ids: Sequence[str],
    purpose: str,
    endpoint: str,
    fields: Sequence[str] = ("person_summary",),
    state: str | None = None,
) -> None:
    """Record that `user` was shown the cases `case_ids` in one request (a list, a dashboard,
    decoded Temporal payloads): one row naming them all (through `record_shown`)."""
    await pool.execute(
        "SELECT record_shown($1, $2, $3, $4, $5, $6, $7)",
        user,
        role,
        state,
        sorted(set(case_ids)),
        purpose,
        endpoint,
        list(fields),
    )


async def personal_data(vault: PersonalDataVault, state: CaseState) -> dict[str, Any]:
    """The case's personal data opened with its key, or the record of the key's erasure."""
    assert state.case_id is not None
    status = await vault.status(state.case_id)
    if status.erased_at is not None:
        return {
            "erased": True,
            "erased_at": status.erased_at.isoformat(),
            "reason": status.erasure_reason,
        }
    opened = await vault.reveal(state)
    return {
        "erased": False,
        "person": opened.person.model_dump(mode="json") if opened.person else None,
        "evidence": [g.item.model_dump(mode="json", exclude={"sealed"}) for g in opened.evidence],
        "verification_reasons": list(opened.verification.reasons) if opened.verification else [],
    }


async def person_versions(
    vault: PersonalDataVault, recorded: Sequence[Recorded]
) -> list[dict[str, Any]]:
    """Every version of the person the history holds (as opened, then as each correction left
    it): the event that set it, its version and instant, and the data opened with the case key
    (None once the key is erased). A replay up to a version shows the one that applied then."""
    if not recorded:
        return []
    try:
        sealer = await vault.sealer(recorded[0].stream_id)
    except DataErased:
        sealer = None
    versions = []
    for row in recorded:
        if row.type not in ("CaseOpened", "PersonAmended"):
            continue
        event = row.event()
        assert isinstance(event, CaseOpened | PersonAmended)
        person = event.person
        if sealer is not None:
            person = sealer.open_person(person)
        versions.append(
            {
                "version": row.version,
                "event": row.type,
                "at": event.at.isoformat(),
                "person": person.model_dump(mode="json") if isinstance(person, Person) else None,
            }
        )
    return versions


async def written_texts(
    vault: PersonalDataVault, recorded: Sequence[Recorded], withheld: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Every free text the history holds (reasons, notes, the apprehension place's name), event
    by event, opened with the case key (`{"erased": true}` once the key is erased); the texts
    of events whose type is in `withheld` stay sealed (left out)."""
    if not recorded:
        return []
    sealer = (await vault.sealers([recorded[0].stream_id]))[recorded[0].stream_id]
    found = []
    for row in recorded:
        if row.type in withheld:
            continue
        texts = free_texts(row.event(), sealer)
        if texts:
            found.append({"version": row.version, "event": row.type, **texts})
    return found


async def collect_for_export(
    pool: asyncpg.Pool,
    vault: PersonalDataVault,
    case_ids: Sequence[str],
    exported_by: str,
    role: str = "auditor",
    sees: Callable[[str], bool] | None = None,
) -> list[CaseFiles]:
    """Everything a bundle holds for `case_ids`; each export is logged as a disclosure first.
    `sees(state)`: whether the exporter sees that state's own deliberation (None: every
    state's); a reply's draft and its return are the requested state's (domain.reply_approval),
    so their texts are opened only for an exporter who sees the requested state."""
    store = EventStore(pool)
    cases = []
    for case_id in case_ids:
        recorded = await stored_events(store, case_id)
        opened = recorded[0]
        requested = str(opened.data.get("terms", {}).get("requested", ""))
        withheld = () if sees is None or sees(requested) else OWN_EVENTS
        await log_disclosure(
            pool,
            exported_by,
            role,
            case_id,
            "export",
            "readmit audit export",
            ("person", "evidence", "events", "texts"),
        )
        cases.append(
            CaseFiles(
                case_id=case_id,
                events=recorded,
                terms=dict(opened.data.get("terms", {})),
                disclosures=await disclosures(pool, case_id),
                personal={
                    **await personal_data(vault, fold(r.event() for r in recorded)),
                    "person_versions": await person_versions(vault, recorded),
                    "texts": await written_texts(vault, recorded, withheld),
                },
            )
        )
    return cases
