"""How cases look in a terminal: the list table, one case in full, its history, command results.

Deadlines are shown in their own time zone (the one that governs them) with a countdown from
now, so an officer in Warsaw reads a Kyiv reply limit as Kyiv does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.console import Console
from rich.table import Table

from domain.actions import waiting_for
from domain.state import CaseState
from domain.values import Status
from readmit.api_client import CommandResult


def console(err: bool = False) -> Console:
    """A console on the current stdout/stderr; wide when not a terminal so rows never wrap."""
    # No markup or emoji: names, reasons and sources are data, never styling.
    found = Console(stderr=err, highlight=False, markup=False, emoji=False, soft_wrap=False)
    if not found.is_terminal:
        found.width = 200
    return found


def span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h"
    return f"{max(rest // 60, 1)} min"


def countdown(due: datetime, now: datetime) -> str:
    """'in 3 d 4 h' before the due instant, 'overdue 2 h' after it."""
    seconds = int((due - now).total_seconds())
    return f"in {span(seconds)}" if seconds >= 0 else f"overdue {span(-seconds)}"


def local_time(instant: datetime, time_zone: str | None) -> str:
    """The instant as a wall-clock time of `time_zone` (falling back to UTC)."""
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} {time_zone or 'UTC'}"


def waits_for(item: dict[str, Any]) -> str:
    """The party whose move the case awaits: the API's answer, else derived from the status."""
    side = item.get("waiting_for")
    if side is None and item.get("status") in {s.value for s in Status}:
        running = (item["next_limit"],) if item.get("next_limit") else ()
        derived = waiting_for(CaseState(status=Status(item["status"]), open_limits=running))
        side = derived.value if derived else None
    if side is None:
        return "-"
    state = item.get(side) or side
    return f"{state} (you)" if side == item.get("side") else str(state)


def case_table(items: Iterable[dict[str, Any]], now: datetime) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("CASE", "PERSON", "COUNTERPART", "STATUS", "NEXT DEADLINE", "DUE", "WAITS FOR"):
        table.add_column(title, no_wrap=True)
    for item in items:
        due, left, style = "-", "-", ""
        if item.get("next_due"):
            at = datetime.fromisoformat(item["next_due"])
            due = f"{item['next_limit']} {local_time(at, item.get('next_due_time_zone'))}"
            left = countdown(at, now)
            style = "red" if item.get("overdue") or at < now else ""
        if item.get("overdue") and not left.startswith("overdue"):
            left += f" (overdue: {', '.join(item.get('overdue_limits') or [])})"
        table.add_row(
            item["case_id"],
            item.get("person") or "-",
            item.get("counterpart") or "-",
            item["status"],
            due,
            left,
            waits_for(item),
            style=style,
        )
    return table


def deadline_table(deadlines: dict[str, dict[str, Any]], now: datetime) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("LIMIT", "DUE", "LEFT", "RUNNING", "RULE", "VERIFIED"):
        table.add_column(title, no_wrap=True)
    for name, d in deadlines.items():
        due = datetime.fromisoformat(d["due"])
        extended = " extended" if d.get("extended") or d.get("extra_days") else ""
        table.add_row(
            name,
            local_time(due, d.get("time_zone")),
            countdown(due, now) if d.get("running") else "-",
            ("yes" if d.get("running") else "no") + extended,
            f"{d.get('amount')} {str(d.get('unit')).replace('_', ' ')} ({d.get('calendar')})",
            "yes" if d.get("verified") else "NO",
            style="red" if d.get("running") and due < now else "",
        )
    return table


SIDES = ("requesting", "requested")


def case_lines(case: dict[str, Any], actions: list[str]) -> list[str]:
    """The readable summary of one case (without the deadlines table)."""
    agreement = case["agreement"]
    protocol = f", {agreement['protocol']} protocol" if agreement.get("protocol") else ""
    lines = [
        f"{case['case_id']}  {case['status']}  (version {case['version']})",
        f"agreement: {agreement['id']}{protocol}: {agreement.get('title') or ''}".rstrip(": "),
        f"parties:   {case['requesting']} (requesting) -> {case['requested']} (requested); "
        f"{case.get('category') or '-'}, {case.get('procedure') or '-'} procedure",
    ]
    if agreement.get("unverified_parameters"):
        lines.append(f"  unverified: {', '.join(agreement['unverified_parameters'])}")
    person = case.get("person") or {}
    if person:
        facts = [f"born {person['birth_date']}"]
        if person.get("birth_place"):
            facts.append(f"in {person['birth_place']}")
        if person.get("nationality"):
            facts.append(f"nationality {person['nationality']}")
        name = f"{person['surname'].upper()} {person['given_names']}"
        lines.append(f"person:    {name}, {', '.join(facts)}")
    lines.append("evidence:" + ("" if case.get("evidence") else "  none"))
    for graded in case.get("evidence") or []:
        item = graded["item"]
        described = " ".join(str(item[k]) for k in ("kind", "number") if item.get(k))
        lines.append(f"  {described}: {graded['grade']}")
    lines.append(f"verification: {_verification(case)}")
    assignees = case.get("assignees") or {}
    lines.append(
        "assigned:  " + "; ".join(f"{case[side]} {assignees.get(side) or '-'}" for side in SIDES)
    )
    lines += _reply_approval(case.get("reply_approval"))
    steps = ("opened", "submitted", "received", "replied", "transferred", "closed")
    happened = [f"{s} {_when(case.get(f'{s}_at'))}" for s in steps if case.get(f"{s}_at")]
    lines.append(f"timeline:  {', '.join(happened) or '-'}")
    if case.get("apprehension_place") or case.get("apprehended_at"):
        place = case.get("apprehension_place") or {}
        where = " ".join(_text(v) for v in place.values() if v is not None)
        lines.append(f"apprehended: {_when(case.get('apprehended_at'))} at {where or '-'}")
    if case.get("transfer"):
        t = case["transfer"]
        lines.append(f"transfer:  {t['on']} at {t['bcp']} by {t['mode']}, {t['escorts']} escorts")
    lines += transit_lines(case.get("transit"))
    if case.get("refusal_reasons"):
        lines.append(f"refused:   {_text(case['refusal_reasons'])}")
    if case.get("transfer_objection"):
        lines.append(f"objected:  {_text(case['transfer_objection'])}")
    if case.get("withdrawal_reasons"):
        lines.append(f"withdrawn: {_text(case['withdrawal_reasons'])}")
    lines += _error_claim(case.get("error_claim"))
    if case.get("person_amended_at"):
        lines.append(f"corrected: {', '.join(_when(at) for at in case['person_amended_at'])}")
    if case.get("overdue"):
        lines.append(f"OVERDUE:   {', '.join(case['overdue'])}")
    waiting = case.get("waiting_for")
    party = case.get(waiting) if waiting else None
    lines.append(f"waits for: {f'{party} ({waiting})' if waiting else '-'}")
    lines.append(f"you may:   {', '.join(actions) or '-'}")
    return lines


def transit_lines(transit: dict[str, Any] | None) -> list[str]:
    """A transit case's request, schedule and outcome (docs/transit.md)."""
    if not transit:
        return []
    r = transit["request"]
    assurance = r["assurance"]
    flight = f", flight {r['flight']['number']}" if r.get("flight") else ""
    lines = [
        f"transit:   to {r['destination']} ({assurance['reference']} of "
        f"{assurance['given_on']}), planned {_when(r['planned_at'])}",
        f"  via {r['entry_point']} -> {r['exit_point']}, {r['escorts']} escorts{flight}",
    ]
    if plan := transit.get("plan"):
        lines.append(
            f"  scheduled {_when(plan['on'])} via {plan['entry_point']} -> {plan['exit_point']}"
        )
    if transit.get("transited_at"):
        lines.append(f"  done {_when(transit['transited_at'])}")
    if transit.get("failure_reasons"):
        refused = " (entry refused)" if transit.get("entry_refused") else ""
        lines.append(f"  FAILED{refused}: {_text(transit['failure_reasons'])}")
    if transit.get("taken_back_at"):
        lines.append(f"  taken back {_when(transit['taken_back_at'])}")
    return lines


def _text(value: Any) -> str:
    """Reasons (a list) or a name as the API shows them: `{"erased": true}` once the case's
    key is erased."""
    if isinstance(value, dict) and value.get("erased"):
        return "[erased]"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return str(value)


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _verification(case: dict[str, Any]) -> str:
    found = case.get("verification")
    needed = ["interview needed"] if case.get("interview_needed") else []
    if not found:
        return ", ".join(["not recorded", *(["needed"] if case.get("verification_needed") else [])])
    reasons = f" ({'; '.join(found['reasons'])})" if found.get("reasons") else ""
    return ", ".join([f"{found['status']} score {found['score']}{reasons}", *needed])


def history_table(history: dict[str, Any]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for title in ("V", "RECORDED", "EVENT", "ACTOR", "HASH"):
        table.add_column(title, no_wrap=True)
    for e in history["events"]:
        actor = e.get("actor") or {}
        role = actor.get("role")
        who = f"{actor.get('user_id')} ({'system' if role == 'system' else actor.get('state')}"
        who += ")" if role == "system" else f" {role})"
        table.add_row(
            str(e["version"]),
            f"{datetime.fromisoformat(e['recorded_at']).astimezone(UTC):%Y-%m-%d %H:%M:%S}Z",
            e["type"],
            who if actor.get("user_id") else "system",
            e["hash"][:12],
        )
    return table


def result_lines(result: CommandResult) -> list[str]:
    lines = [f"{result.case_id}: {result.status} (version {result.version})"]
    lines += [
        f"  v{e.version} {e.type}  {e.at.isoformat(timespec='seconds')}" for e in result.events
    ]
    if result.sending is not None:
        lines.append(
            f"  sent to {result.sending.recipient} (message {result.sending.seq}): in effect"
            f" on both nodes once {result.sending.recipient}'s receipt is back"
        )
    if result.approval == "awaiting":
        lines.append("  drafted: the reply leaves once a supervisor approves it")
    return lines


def _reply_approval(found: dict[str, Any] | None) -> list[str]:
    """A reply awaiting a supervisor's approval, or the last one returned (the requested
    state's own: the API shows it to that state only)."""
    if not found:
        return []
    if draft := found.get("draft"):
        return [
            f"reply:     {draft['reply']} drafted by {draft['by']} {_when(draft['at'])},"
            " awaiting a supervisor's approval"
        ]
    back = found["returned"]
    return [f"reply:     returned {_when(back['at'])} ({_text(back['reasons'])})"]


def _error_claim(claim: dict[str, Any] | None) -> list[str]:
    """The claim of readmission in error, its answer and the return, if there is a claim."""
    if not claim:
        return []
    lines = [f"error claim: {_when(claim.get('claimed_at'))} ({_text(claim['reasons'])})"]
    if claim.get("dispute_reasons"):
        lines.append(f"  disputed: {_text(claim['dispute_reasons'])}")
    elif claim.get("answered_at"):
        lines.append(f"  accepted: {_when(claim['answered_at'])}")
    if claim.get("return"):
        r = claim["return"]
        lines.append(f"  return:   {r['on']} at {r['bcp']} by {r['mode']}, {r['escorts']} escorts")
    if claim.get("returned_at"):
        lines.append(f"  returned: {_when(claim['returned_at'])}")
    return lines
