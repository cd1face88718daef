"""Notices go to the assignee first (migration 0017, `domain.notices`): a notice naming the
side's assignee reaches that officer alone, in the inbox and by e-mail; one naming nobody, or an
assignee no longer active in that state, reaches the whole team of the notice's role (or its
shared inbox); a supervisor's notice is never narrowed."""

from __future__ import annotations

import uuid

import asyncpg

from adapters.notices import record_notices
from domain.notices import Notice

CASE_ID = "PL-UA-2027-000123"
DIRECTORY = (
    ("anna.pl", "PL", "officer", "anna@pl.example"),
    ("marek.pl", "PL", "officer", None),
    ("piotr.pl", "PL", "supervisor", "piotr@pl.example"),
    ("ewa.pl", "PL", "supervisor", None),
    ("olena.ua", "UA", "officer", None),
)


def notice(key: str, role: str = "officer", assignee: str | None = None) -> Notice:
    return Notice(
        key=key,
        case_id=CASE_ID,
        state="PL",
        role=role,
        kind="ApplicationAccepted",
        subject=f"{CASE_ID}: Application accepted",
        event_id=uuid.uuid4(),
        assignee=assignee,
    )


async def recipients(pool: asyncpg.Pool, *notices: Notice) -> dict[str, set[tuple[str, str]]]:
    await pool.execute(
        "INSERT INTO officers (user_id, state, role, display_name, email)"
        " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $1::text[], $4::text[])"
        " ON CONFLICT DO NOTHING",
        *(list(column) for column in zip(*DIRECTORY, strict=True)),
    )
    call = record_notices(notices, {"inbox", "email"})
    await pool.execute(f"SELECT {call.text(1)}", *call.args)
    rows = await pool.fetch("SELECT notice_key, recipient, channel FROM notifications")
    found: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        found.setdefault(row["notice_key"], set()).add((row["recipient"], row["channel"]))
    return found


async def test_the_assignee_alone_hears_of_their_case(pool: asyncpg.Pool) -> None:
    found = await recipients(
        pool,
        notice("assigned", assignee="anna.pl"),
        notice("team"),
        notice("held-by-a-supervisor", assignee="ewa.pl"),
    )
    assert found["assigned"] == {("anna.pl", "inbox"), ("anna.pl", "email")}
    assert found["team"] == {("anna.pl", "inbox"), ("anna.pl", "email"), ("marek.pl", "inbox")}
    assert found["held-by-a-supervisor"] == {("ewa.pl", "inbox")}


async def test_an_assignee_gone_or_of_another_state_leaves_it_to_the_team(
    pool: asyncpg.Pool,
) -> None:
    await pool.execute(
        "INSERT INTO officers (user_id, state, role, display_name, active)"
        " VALUES ('gone.pl', 'PL', 'officer', 'Gone', false)"
    )
    team = {("anna.pl", "inbox"), ("anna.pl", "email"), ("marek.pl", "inbox")}
    found = await recipients(
        pool,
        notice("deactivated", assignee="gone.pl"),
        notice("foreign", assignee="olena.ua"),
        notice("unknown", assignee="nobody.pl"),
    )
    assert found == {"deactivated": team, "foreign": team, "unknown": team}


async def test_supervisors_notices_and_shared_inboxes_as_before(pool: asyncpg.Pool) -> None:
    found = await recipients(
        pool,
        notice("escalation", role="supervisor"),
        Notice(**(notice("nobody-holds-it").model_dump() | {"state": "DE"})),
    )
    assert found["escalation"] == {
        ("piotr.pl", "inbox"),
        ("piotr.pl", "email"),
        ("ewa.pl", "inbox"),
    }
    assert found["nobody-holds-it"] == {("@DE:officer", "inbox")}
