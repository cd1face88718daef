"""The timeline chart: what `build_timeline` reads from a case's events and what `render_svg`
draws (parsed back as XML), without a browser or a server."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from factories import T0, open_case, run

from api.web.charts import Chart, Row, Segment, render_bars
from api.web.timeline import build_timeline, focus
from api.web.timeline_svg import Words, render_svg, scale_for, ticks
from domain.commands import (
    AcceptApplication,
    Command,
    ConfirmReceipt,
    ExpireLimit,
    ExtendReplyLimit,
    RecordEscalation,
    SubmitApplication,
)
from domain.events import Event
from domain.values import EscalationLevel

SVG = "{http://www.w3.org/2000/svg}"
WORDS = Words(
    title="Timeline",
    now="now",
    events="Events",
    event=lambda code: f"event:{code}",
    limit=lambda code: f"limit:{code}",
    level=lambda code: f"level:{code}",
    status=lambda code: f"status:{code}",
    instant=lambda at: at.isoformat(),
    tick=lambda at, timed: at.strftime("%d %H:%M" if timed else "%d %b"),
)


def history(*extra: Command) -> list[tuple[int, Event]]:
    """Opened, submitted (so delivered) on T0+1d, acknowledged on T0+2d, then `extra` commands."""
    commands = [
        open_case(),
        SubmitApplication(at=T0 + timedelta(days=1)),
        ConfirmReceipt(at=T0 + timedelta(days=2)),
        *extra,
    ]
    _, events = run(commands)
    return list(enumerate(events, start=1))


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def title_of(element: ET.Element) -> str:
    title = element.find(f"{SVG}title")
    assert title is not None and title.text is not None
    return title.text


def attr(element: ET.Element, name: str) -> str:
    value = element.get(name)
    assert value is not None, name
    return value


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in (g.get("class") or "").split()]


def test_deadlines_are_bars_from_trigger_to_due_and_events_are_marks() -> None:
    events = history()
    timeline = build_timeline(events, now=T0 + timedelta(days=3))
    assert [b.limit for b in timeline.bars] == ["submission", "reply"]
    reply = timeline.bars[1]
    assert reply.start == T0 + timedelta(days=1) and reply.due > reply.start  # from delivery
    assert [m.type for m in timeline.marks] == [
        "CaseOpened",
        "ApplicationSubmitted",
        "ApplicationDelivered",
        "ReceiptAcknowledged",
    ]
    submission = timeline.bars[0]
    assert submission.closed_at == T0 + timedelta(days=1)
    assert submission.status(T0 + timedelta(days=3)) == "met"
    assert reply.status(T0 + timedelta(days=3)) == "running"

    root = parsed(render_svg(timeline, WORDS))
    assert root.get("role") == "img" and title_of(root) == "Timeline"
    assert len(groups(root, "tl-mark")) == 4
    bars = {g.get("data-limit"): g for g in groups(root, "tl-bar")}
    assert set(bars) == {"submission", "reply"}
    assert "tl-met" in attr(bars["submission"], "class")
    assert "tl-running" in attr(bars["reply"], "class")
    tip = title_of(bars["reply"])
    assert tip.startswith("limit:reply: status:running — due ")
    assert len(groups(root, "tl-now")) == 1


def test_an_extension_replaces_the_bar_and_hatches_the_added_time() -> None:
    events = history(ExtendReplyLimit(at=T0 + timedelta(days=5), reasons=("registry down",)))
    timeline = build_timeline(events, now=T0 + timedelta(days=6))
    replies = [b for b in timeline.bars if b.limit == "reply"]
    assert [b.superseded for b in replies] == [True, False]
    assert replies[1].extended and replies[1].due > replies[0].due
    assert [e.limit for e in timeline.extensions] == ["reply"]
    root = parsed(render_svg(timeline, WORDS))
    assert len(groups(root, "tl-superseded")) == 1
    assert len(groups(root, "tl-extension")) == 1
    hatched = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "tl-extended"]
    assert len(hatched) == 1 and hatched[0].get("fill", "").startswith("url(#timeline-hatch")


def test_reminders_escalations_and_a_missed_limit() -> None:
    received = T0 + timedelta(days=2)
    timeline0 = build_timeline(history(), now=received)
    due = timeline0.bars[1].due
    events = history(
        RecordEscalation(
            at=received + timedelta(days=7), limit="reply", level=EscalationLevel.REMINDER_HALF
        ),
        RecordEscalation(
            at=due - timedelta(hours=12), limit="reply", level=EscalationLevel.ESCALATION_NEAR
        ),
        ExpireLimit(at=due + timedelta(seconds=1), limit="reply"),
    )
    timeline = build_timeline(events, now=due + timedelta(days=1))
    levels = [a.level for a in timeline.alerts]
    assert levels == ["reminder_half", "escalation_near", "escalation_passed"]
    reply = next(b for b in timeline.bars if b.limit == "reply" and not b.superseded)
    assert reply.overdue and reply.status(due + timedelta(days=1)) == "late"
    assert "DeemedAccepted" in [m.type for m in timeline.marks]
    root = parsed(render_svg(timeline, WORDS))
    assert len(groups(root, "tl-reminder")) == 1 and len(groups(root, "tl-escalation")) == 2
    bars = [g for g in groups(root, "tl-bar") if g.get("data-limit") == "reply"]
    assert "tl-late" in attr(bars[-1], "class")


def test_a_window_keeps_the_events_readable_and_marks_what_runs_on() -> None:
    events = history(AcceptApplication(at=T0 + timedelta(days=4)))
    timeline = build_timeline(events, now=T0 + timedelta(days=5))
    window = focus(timeline)  # a year's submission window would squeeze five days
    assert window is not None and window[0] <= T0 and window[1] >= T0 + timedelta(days=5)
    assert window[1] - window[0] < timedelta(days=60)
    root = parsed(render_svg(timeline, WORDS, window=window))
    assert len(root.findall(f".//{SVG}polygon[@class='tl-continues']")) >= 1  # the transfer
    xs = [float(attr(c, "cx")) for c in root.iter(f"{SVG}circle")]
    assert max(xs) - min(xs) > 200  # four days spread (a whole year would give them 9 px)
    short = build_timeline(history(), now=T0 + timedelta(days=3))
    short.bars = [b for b in short.bars if b.limit == "reply"]
    assert focus(short) is None  # nothing to zoom into


def test_ticks_are_round_and_few() -> None:
    start = datetime.fromisoformat("2027-01-04T10:00:00+00:00")
    scale = scale_for([start, start + timedelta(days=30)])
    instants, step = ticks(scale)
    assert 2 <= len(instants) <= 9 and step == timedelta(days=7)
    assert all(t.hour == 0 and t.minute == 0 for t in instants)
    hours, step = ticks(scale_for([start, start + timedelta(hours=10)]))
    assert step < timedelta(days=1) and all(t.minute == 0 for t in hours)


def test_text_is_escaped_in_the_charts() -> None:
    svg = render_bars(
        Chart("<b>title</b>", [Row("EU-UA · <UA>", [Segment(3, title="a & b")], "3")]),
        ident="c",
    )
    root = parsed(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "EU-UA · <UA>" in texts and title_of(root) == "<b>title</b>"
    assert "&lt;UA&gt;" in svg and "<UA>" not in svg
