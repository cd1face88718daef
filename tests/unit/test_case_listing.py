"""What a case shows in operators' lists (`domain.listing`) and how it becomes Temporal search
attributes (`workflows.search_attributes`): the agreement, the states, kind, status, the next
due instant of a running limit and whether one has passed; nothing about the person."""

from __future__ import annotations

from datetime import timedelta

from factories import T0, limit, open_case, run, terms
from transit_factories import open_transit

from domain.commands import ExpireLimit
from domain.listing import CaseListing, listing_of, listing_of_opening
from domain.state import initial_state
from workflows.search_attributes import (
    AGREEMENT,
    KEYS,
    NEXT_DUE,
    OVERDUE,
    REGISTRATION,
    STATUS,
    initial,
    updates,
)

ESCALATING = terms(
    limits={**terms().limits, "submission": limit(1, "hours", "knowledge", on_expiry="escalate")}
)


def test_no_listing_before_the_case_is_opened() -> None:
    assert listing_of(initial_state()) is None


def test_an_opened_case_lists_its_agreement_states_and_next_due_instant() -> None:
    state, _ = run([open_case()])
    listing = listing_of(state)
    assert listing == CaseListing(
        agreement="EU-UA",
        requesting="PL",
        requested="UA",
        kind="readmission",
        status="draft",
        next_due=state.deadlines["submission"].due,
        overdue=False,
    )
    assert listing_of_opening(open_case()) == CaseListing(
        "EU-UA", "PL", "UA", "readmission", "draft", None, False
    )


def test_a_passed_limit_is_overdue_and_no_longer_the_next_due() -> None:
    opened, _ = run([open_case(terms=ESCALATING, knowledge_at=T0 - timedelta(hours=2))])
    state, _ = run([ExpireLimit(at=T0, limit="submission")], opened)
    listing = listing_of(state)
    assert listing is not None and listing.overdue and listing.next_due is None
    # a limit that stopped running (met, answered, ended) is no longer overdue
    ended = listing_of(state.model_copy(update={"open_limits": ()}))
    assert ended is not None and not ended.overdue


def test_a_transit_case_is_listed_as_one() -> None:
    command = open_transit()
    state, _ = run([command])
    listing = listing_of(state)
    assert listing is not None and listing.kind == "transit" == listing_of_opening(command).kind
    assert (listing.requesting, listing.requested) == (
        command.terms.requesting,
        command.terms.requested,
    )


def test_nothing_personal_is_listed() -> None:
    state, _ = run([open_case()])
    listed = " ".join(str(v) for v in vars(listing_of(state)).values())
    assert state.person is not None
    for personal in ("Shevchenko", "Oleksandr", "FA123456", "1990"):
        assert personal not in listed


def test_attributes_at_start_and_upserted() -> None:
    listing = CaseListing("EU-UA", "PL", "UA", "readmission", "accepted", None, True)
    started = initial(listing)
    assert started.get(AGREEMENT) == "EU-UA" and started.get(OVERDUE) is True
    assert started.get(NEXT_DUE) is None  # none to set
    names = [u.key.name for u in updates(listing)]
    assert sorted(names) == sorted(k.name for k in KEYS if k is not NEXT_DUE)
    due = listing.__class__(**{**vars(listing), "next_due": T0, "status": "received"})
    values = {u.key.name: u.value for u in updates(due)}
    assert values[NEXT_DUE.name] == T0 and values[STATUS.name] == "received"


def test_registration_names_every_key_with_its_cli_type() -> None:
    assert dict(REGISTRATION) == {
        "ReadmitAgreement": "Keyword",
        "ReadmitRequestingState": "Keyword",
        "ReadmitRequestedState": "Keyword",
        "ReadmitKind": "Keyword",
        "ReadmitStatus": "Keyword",
        "ReadmitNextDue": "Datetime",
        "ReadmitOverdue": "Bool",
    }
