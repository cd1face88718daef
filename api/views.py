"""How cases look in API answers: list rows, one case in full, and its event history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from adapters.db.eventstore import Recorded
from adapters.protection.sealing import ERASED, CaseSealer, free_texts
from api.auth import Principal
from api.reply_draft_view import reply_approval_view
from domain.actions import expected_actions, waiting_for
from domain.deadline_starts import counted_from
from domain.escalations import acknowledgeable
from domain.state import CaseState
from domain.values import (
    ApprehensionPlace,
    CaseKind,
    GradedEvidence,
    PersonRecord,
    ReasonsRecord,
    Sealed,
    Side,
    Status,
    VerificationOutcome,
)


def caller_side(caller: Principal, requesting: str, requested: str) -> Side | None:
    if caller.state == requesting:
        return Side.REQUESTING
    if caller.state == requested:
        return Side.REQUESTED
    return None


PARTY_SIDES = (Side.REQUESTING, Side.REQUESTED)


def next_actions(state: CaseState, caller: Principal) -> list[str]:
    """Commands the caller's side may take now (none for auditors and admins)."""
    terms = state.terms
    if terms is None or not caller.can_write:
        return []
    side = caller_side(caller, terms.requesting, terms.requested)
    return [command for who, command in expected_actions(state) if who is side]


def case_summary(row: asyncpg.Record, caller: Principal) -> dict[str, Any]:
    """A list row from the read model (minimal personal data: a person summary)."""
    side = caller_side(caller, row["requesting"], row["requested"])
    counterpart = row["requested"] if side is Side.REQUESTING else row["requesting"]
    return {
        "case_id": row["case_id"],
        "status": row["status"],
        "agreement": row["agreement_id"],
        "protocol": row["protocol_state"],
        "requesting": row["requesting"],
        "requested": row["requested"],
        "side": side.value if side else None,
        "counterpart": counterpart,
        "assignees": {
            "requesting": row["requesting_assignee"],
            "requested": row["requested_assignee"],
        },
        "kind": row["kind"],
        "procedure": row["procedure"],
        "category": row["category"],
        "person": row["person_summary"],
        "next_limit": row["next_limit"],
        "next_due": row["next_due"].isoformat() if row["next_due"] else None,
        "next_due_time_zone": (row["deadlines"].get(row["next_limit"]) or {}).get("time_zone")
        if row["next_limit"]
        else None,
        "overdue": row["overdue"],
        "overdue_limits": list(row["overdue_limits"]),
        "unverified_parameters": list(row["unverified_parameters"]),
        "opened_at": row["opened_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "version": row["version"],
        "waiting_for": _waiting_for(row["status"], list(row["open_limits"]), row["kind"]),
        # a reply awaiting a supervisor's approval: the requested state's own (issue 17), so
        # always false for the requesting state
        "awaiting_approval": row["reply_drafted_at"] is not None
        and caller.sees_state(row["requested"]),
    }


def _waiting_for(status: str, open_limits: list[str], kind: str) -> str | None:
    """The side a listed case waits for, from its status (as `domain.actions` decides)."""
    state = CaseState(status=Status(status), open_limits=tuple(open_limits), kind=CaseKind(kind))
    side = waiting_for(state)
    return side.value if side else None


# What a still-sealed value shows (`ERASED`): `case_detail` is given states whose personal data
# the vault has opened, so a seal left closed means the case's key was erased.


def _person(person: PersonRecord | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return ERASED if isinstance(person, Sealed) else person.model_dump(mode="json")


def _evidence(graded: GradedEvidence) -> dict[str, Any]:
    item = graded.item.model_dump(mode="json", exclude={"sealed"})
    if graded.item.sealed is not None:
        item |= ERASED
    return {"item": item, "grade": graded.grade.value}


def _reasons(reasons: ReasonsRecord) -> list[str] | dict[str, Any]:
    return dict(ERASED) if isinstance(reasons, Sealed) else list(reasons)


def _place(place: ApprehensionPlace | None) -> dict[str, Any] | None:
    if place is None:
        return None
    shown = place.model_dump(mode="json")
    return shown | ({"name": ERASED} if isinstance(place.name, Sealed) else {})


def _verification(outcome: VerificationOutcome | None) -> dict[str, Any] | None:
    if outcome is None:
        return None
    shown = outcome.model_dump(mode="json", exclude={"sealed_reasons"})
    return shown | ({"reasons_erased": True} if outcome.sealed_reasons else {})


def case_detail(state: CaseState, caller: Principal) -> dict[str, Any]:
    """One case in full: parties, person, evidence with grades, verification, deadlines.

    Give it the state as `PersonalDataVault.reveal` opened it: what is still sealed is erased.
    """
    terms = state.terms
    assert terms is not None
    following = state.next_deadline
    waiting = waiting_for(state)
    return {
        "case_id": state.case_id,
        "status": state.status.value,
        "version": state.version,
        "agreement": {
            "id": terms.agreement_id,
            "protocol": terms.protocol_state,
            "title": terms.title,
            "unverified_parameters": list(state.unverified_parameters),
            "unverified_values": [
                {"key": key, "source": source} for key, source in terms.unverified_values
            ],
        },
        "requesting": terms.requesting,
        "requested": terms.requested,
        "kind": state.kind.value,
        "transit": _transit(state),
        "procedure": state.procedure.value if state.procedure else None,
        "category": state.category.value if state.category else None,
        "person": _person(state.person),
        "evidence": [_evidence(g) for g in state.evidence],
        "verification_needed": state.verification_needed,
        "interview_needed": state.interview_needed,
        "verification": _verification(state.verification),
        "knowledge_at": _iso(state.knowledge_at),
        "apprehended_at": _iso(state.apprehended_at),
        "apprehension_place": _place(state.apprehension_place),
        "deadlines": {
            name: {
                **d.model_dump(mode="json"),
                "running": name in state.open_limits,
                "counted_from": counted_from(d, state.ruleset),
            }
            for name, d in sorted(state.deadlines.items())
        },
        "next_deadline": following.model_dump(mode="json") if following else None,
        "overdue": list(state.overdue),
        "escalations": [e.model_dump(mode="json") for e in state.escalations],
        "transfer": state.transfer.model_dump(mode="json") if state.transfer else None,
        "refusal_reasons": _reasons(state.refusal_reasons),
        "transfer_objection": _reasons(state.transfer_objection),
        "withdrawal_reasons": _reasons(state.withdrawal_reasons),
        "error_claim": _error_claim(state),
        "person_amended_at": [_iso(at) for at in state.person_amended_at],
        # who works on the case for each side (user ids; None: nobody has claimed it)
        "assignees": {side.value: state.assignees.get(side.value) for side in PARTY_SIDES},
        # a reply awaiting a supervisor's approval (the requested state's own; api.reply_draft_view)
        "reply_approval": reply_approval_view(state, caller),
        # the limits of the caller's side whose escalation a supervisor may acknowledge
        "escalations_to_acknowledge": _to_acknowledge(state, caller),
        "opened_at": _iso(state.opened_at),
        "submitted_at": _iso(state.submitted_at),
        "received_at": _iso(state.received_at),
        "acknowledged_at": _iso(state.acknowledged_at),
        "ruleset": state.ruleset,
        "replied_at": _iso(state.replied_at),
        "transferred_at": _iso(state.transferred_at),
        "closed_at": _iso(state.closed_at),
        "updated_at": _iso(state.updated_at),
        "waiting_for": waiting.value if waiting else None,
        "next_actions": next_actions(state, caller),
    }


def _to_acknowledge(state: CaseState, caller: Principal) -> list[str]:
    """The limits of the caller's side with an escalation awaiting acknowledgement
    (`domain.escalations`); none for a caller of neither party (auditors of every state)."""
    terms = state.terms
    if terms is None or caller.state not in (terms.requesting, terms.requested):
        return []
    side = Side.REQUESTING if caller.state == terms.requesting else Side.REQUESTED
    return acknowledgeable(state, side)


def _transit(state: CaseState) -> dict[str, Any] | None:
    """A transit case's request, its schedule and how it ended (docs/transit.md)."""
    if state.transit is None:
        return None
    return {
        "request": state.transit.model_dump(mode="json"),
        "plan": state.transit_plan.model_dump(mode="json") if state.transit_plan else None,
        "lead": state.terms.transit.model_dump(mode="json") if state.terms else None,
        "transited_at": _iso(state.transited_at),
        "failure_reasons": _reasons(state.transit_failure_reasons),
        "entry_refused": state.entry_refused,
        "taken_back_at": _iso(state.taken_back_at),
    }


def _error_claim(state: CaseState) -> dict[str, Any] | None:
    """The claim of readmission in error, its answer and the person's return, if claimed."""
    if state.error_claimed_at is None and not state.error_claim_reasons:
        return None
    plan = state.return_plan
    return {
        "reasons": _reasons(state.error_claim_reasons),
        "claimed_at": _iso(state.error_claimed_at),
        "answered_at": _iso(state.error_answered_at),
        "dispute_reasons": _reasons(state.error_dispute_reasons),
        "return": plan.model_dump(mode="json") if plan else None,
        "returned_at": _iso(state.returned_at),
    }


def history_view(recorded: Sequence[Recorded], sealer: CaseSealer | None) -> dict[str, Any]:
    """The stored events as they are, with their actors and hashes, and each event's free text
    (reasons, note, place name) opened with the case's `sealer` (`{"erased": true}` without)."""
    return {
        "case_id": recorded[0].stream_id if recorded else None,
        "events": [
            {
                "version": r.version,
                "global_position": r.global_position,
                "event_id": str(r.event_id),
                "type": r.type,
                "schema_version": r.schema_version,
                "recorded_at": r.recorded_at.isoformat(),
                "actor": {
                    "user_id": r.metadata.get("actor"),
                    "state": r.metadata.get("actor_state"),
                    "role": r.metadata.get("actor_role"),
                },
                "data": r.data,
                "texts": free_texts(r.event(), sealer),
                "metadata": r.metadata,
                "hash": r.hash.hex(),
                "prev_hash": r.prev_hash.hex(),
            }
            for r in recorded
        ],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
