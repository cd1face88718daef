"""The terms between two states: an agreement, checked for the pair, with a protocol overlaid.

A protocol changes only the keys it gives (`[limits.reply] amount = 10` keeps the rest of the
agreement's reply limit). A section the protocol changes without naming a source says so in its
`source`, and stays verified only if both the agreement's value and the protocol are verified.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from domain.agreements import (
    Agreement,
    AgreementTerms,
    Limit,
    OnExpiry,
    Protocol,
    Suspension,
    TransferRules,
    Trigger,
    Unit,
)
from domain.calendars import EU_MEMBER_STATES, UnknownState, check_state

EU = "EU"
# Replaced as a whole: its two kinds (`up_to`, `by`) exclude each other.
_REPLACED_WHOLE = frozenset({"extension"})
# The sections of an agreement a protocol may overlay.
OVERLAY_SECTIONS = (
    "limits",
    "border_region",
    "evidence",
    "transfer",
    "transit",
    "time_zones",
    "messages",
)


class TermsError(ValueError):
    """The agreement does not apply as asked: the message names the rule that says so."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{detail} (rule: {rule})")
        self.rule = rule
        self.detail = detail


def party_states(agreement: Agreement, party: str) -> frozenset[str]:
    """The states a party stands for: "EU" is every Member State not in `excluded_states`."""
    if party == EU:
        return EU_MEMBER_STATES - set(agreement.excluded_states)
    return frozenset({party})


def member_state_of(agreement: Agreement, requesting: str, requested: str) -> str | None:
    """The state of the pair on the EU side, the one a protocol may belong to (None if no EU)."""
    if EU not in agreement.parties:
        return None
    members = party_states(agreement, EU)
    return next((state for state in (requesting, requested) if state in members), None)


def check_pair(agreement: Agreement, requesting: str, requested: str) -> None:
    """Raise `TermsError` unless one state stands for each party, in either direction."""
    rule = "one state of each party, in either direction"
    if requesting == requested:
        raise TermsError(rule, f"{requesting} cannot request readmission from itself")
    sides = []
    for state in (requesting, requested):
        if state in agreement.excluded_states:
            raise TermsError(
                "excluded states are not bound", f"{state} is excluded from {agreement.id}"
            )
        side = [
            i
            for i, party in enumerate(agreement.parties)
            if state in party_states(agreement, party)
        ]
        if not side:
            parties = " and ".join(agreement.parties)
            raise TermsError(rule, f"{state} is not a party to {agreement.id} ({parties})")
        sides.append(side[0])
    if sides[0] == sides[1]:
        raise TermsError(
            rule, f"{requesting} and {requested} are on the same side of {agreement.id}"
        )
    for state in (requesting, requested):
        try:
            check_state(state, agreement.time_zones)
        except UnknownState as exc:
            raise TermsError("every state has a time zone and a calendar", str(exc)) from exc


def check_protocol(
    agreement: Agreement, protocol: Protocol, requesting: str, requested: str
) -> None:
    """Raise `TermsError` unless `protocol` implements `agreement` for the pair's Member State."""
    if protocol.agreement != agreement.id:
        raise TermsError(
            "a protocol implements one agreement",
            f"the {protocol.state} protocol implements {protocol.agreement}, not {agreement.id}",
        )
    member = member_state_of(agreement, requesting, requested)
    own_state = member if member is not None else protocol.state
    if protocol.state not in (requesting, requested) or protocol.state != own_state:
        raise TermsError(
            "a protocol applies only to its Member State",
            f"the {protocol.state} protocol does not apply between {requesting} and {requested}",
        )


def merge_protocol(
    agreement_data: Mapping[str, Any], protocol_data: Mapping[str, Any]
) -> dict[str, Any]:
    """Overlay a protocol's given keys (alias names, unset keys left out) on an agreement dict."""
    label = str(protocol_data.get("source") or f"{protocol_data.get('state', '?')} protocol")
    trusted = bool(protocol_data.get("verified", False))
    merged = dict(agreement_data)
    for section in OVERLAY_SECTIONS:
        if section in protocol_data:
            merged[section] = _overlay(merged.get(section), protocol_data[section], label, trusted)
    return merged


def _overlay(base: Any, over: Any, label: str, trusted: bool) -> Any:
    if not (isinstance(base, Mapping) and isinstance(over, Mapping)):
        return over
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            value if key in _REPLACED_WHOLE else _overlay(out.get(key), value, label, trusted)
        )
    changed = sorted(set(over) - {"source", "verified"})
    if "verified" in base and changed:  # a sourced section: record who changed what
        if "source" not in over:
            out["source"] = f"{label} ({', '.join(changed)}); otherwise: {base.get('source', '')}"
        if "verified" not in over:
            out["verified"] = bool(base["verified"]) and trusted
    return out


def resolve_terms(
    agreement: Agreement, protocol: Protocol | None, requesting: str, requested: str
) -> AgreementTerms:
    """The terms a case between `requesting` and `requested` runs under."""
    check_pair(agreement, requesting, requested)
    merged = agreement
    if protocol is not None:
        check_protocol(agreement, protocol, requesting, requested)
        data = merge_protocol(
            agreement.model_dump(by_alias=True),
            protocol.model_dump(by_alias=True, exclude_unset=True),
        )
        try:
            merged = Agreement.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc']))}: {err['msg'].removeprefix('Value error, ')}"
                for err in exc.errors()
            )
            raise TermsError(
                "a protocol overlay yields a complete agreement",
                f"the {protocol.state} protocol of {agreement.id} does not merge: {problems}",
            ) from exc
    return AgreementTerms(
        agreement_id=merged.id,
        protocol_state=protocol.state if protocol else None,
        title=merged.title,
        requesting=requesting,
        requested=requested,
        in_force=merged.in_force,
        tcn_obligations_from=merged.tcn_obligations_from,
        suspensions=merged.suspensions,
        time_zones=merged.time_zones,
        border_region=merged.border_region,
        limits={**notice_reply_limit(merged.transfer), **merged.limits},
        evidence=merged.evidence,
        transfer=merged.transfer,
        transit=merged.transit,
        retention=merged.retention,
        messages=merged.messages,
    )


def notice_reply_limit(transfer: TransferRules) -> dict[str, Limit]:
    """The limit within which the other side answers a transfer notice, as the `[transfer]`
    section gives it (`notice_reply_working_days`, `silence_is_consent`), so that it runs, reminds
    and expires like any limit; a file's own `[limits.transfer_notice_reply]` takes precedence."""
    if transfer.notice_reply_working_days is None:
        return {}
    consent = "silence confirms the transfer" if transfer.silence_is_consent else "escalated"
    return {
        "transfer_notice_reply": Limit(
            amount=transfer.notice_reply_working_days,
            unit=Unit.WORKING_DAYS,
            from_=Trigger.NOTICE,
            calendar="requested",
            on_expiry=(
                OnExpiry.DEEMED_CONFIRMED if transfer.silence_is_consent else OnExpiry.ESCALATE
            ),
            source=f"[transfer] notice_reply_working_days ({consent}): {transfer.source}",
            verified=transfer.verified,
        )
    }


def suspension_in_effect(terms: AgreementTerms, on: date) -> Suspension | None:
    """The suspension covering day `on` (from `from` up to the day before `until`), latest first.

    A datetime counts by its own local date."""
    day = on.date() if isinstance(on, datetime) else on
    current = [
        s for s in terms.suspensions if s.from_ <= day and (s.until is None or day < s.until)
    ]
    return max(current, key=lambda s: s.from_, default=None)
