"""The timeline drawn as an inline SVG chart: an axis with round ticks, a lane of event marks,
one lane per deadline (bars coloured running / met / missed, the time an extension added
hatched, the due instant an extension replaced as a dashed tick, reminders and escalations as
triangles) and "now" as a line; with a window, only that span, bars running on ending in an
arrow. Pure: words and date formats come from the page, so the chart is tested as XML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from api.web.timeline import Alert, Bar, Timeline

WIDTH = 960
LEFT = 170  # room for lane labels
RIGHT = 24
AXIS_Y = 34
MARK_ROW = 14
MARK_ROWS = 3
LANE = 30
BAR = 14

COLOURS = {
    "running": "#1f5fa8",
    "met": "#2e7d32",
    "late": "#b00020",
}
MARK_COLOUR = "#3a3a3a"
EXTENSION_COLOUR = "#6a3d9a"
NOW_COLOUR = "#c2185b"
REMINDER_COLOUR = "#8a5a00"
ESCALATION_COLOUR = "#b00020"


@dataclass(frozen=True)
class Words:
    """How the chart speaks: translated words and formatted instants, from the page."""

    title: str
    now: str
    events: str
    event: Callable[[str], str]
    limit: Callable[[str], str]
    level: Callable[[str], str]
    status: Callable[[str], str]
    instant: Callable[[datetime], str]
    tick: Callable[[datetime, bool], str]  # (instant, with the time of day)
    extension: str = "extension"
    due: str = "due"


@dataclass(frozen=True)
class Scale:
    start: datetime
    end: datetime
    left: float = LEFT
    right: float = WIDTH - RIGHT

    def x(self, at: datetime) -> float:
        """The position of `at`, held at the edges when the chart shows a window."""
        span = (self.end - self.start).total_seconds()
        offset = (at - self.start).total_seconds()
        x = self.left + (self.right - self.left) * offset / span
        return round(min(max(x, self.left), self.right), 1)

    def shows(self, at: datetime) -> bool:
        return self.start <= at <= self.end


def scale_for(instants: Sequence[datetime]) -> Scale:
    first, last = min(instants), max(instants)
    if last - first < timedelta(hours=1):
        last = first + timedelta(hours=1)
    pad = (last - first) * 0.03
    return Scale(first - pad, last + pad)


_STEPS = [
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=7),
    timedelta(days=14),
    timedelta(days=30),
    timedelta(days=91),
    timedelta(days=182),
    timedelta(days=365),
]


def ticks(scale: Scale, most: int = 8) -> tuple[list[datetime], timedelta]:
    """Round instants across the scale (at most `most`, on UTC midnights from a day up), and
    the step between them."""
    span = scale.end - scale.start
    step = next((s for s in _STEPS if span / s <= most), _STEPS[-1] * (span / _STEPS[-1] / most))
    start = scale.start.astimezone(UTC)
    if step >= timedelta(days=1):
        start = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    else:
        hours = int(step.total_seconds() // 3600)
        start = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        while start.hour % hours:
            start += timedelta(hours=1)
    found: list[datetime] = []
    while start <= scale.end and len(found) <= most:
        found.append(start)
        start += step
    return found, step


def _rows(xs: Sequence[float], rows: int = MARK_ROWS, gap: float = 10) -> list[int]:
    """A row per mark so that marks closer than `gap` pixels do not overlap (as far as can be)."""
    last = [-1e9] * rows
    chosen = []
    for x in xs:
        row = next(
            (r for r in range(rows) if x - last[r] >= gap), min(range(rows), key=last.__getitem__)
        )
        last[row] = x
        chosen.append(row)
    return chosen


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>"


def render_svg(
    timeline: Timeline,
    words: Words,
    *,
    ident: str = "timeline",
    window: tuple[datetime, datetime] | None = None,
) -> str:
    """The chart as an inline SVG element (scales to its container's width); with a `window`,
    only that span, bars running beyond it ending in an arrow."""
    scale = Scale(*window) if window else scale_for(timeline.instants())
    lanes = timeline.limits
    marks_top = AXIS_Y + 10
    lanes_top = marks_top + MARK_ROW * MARK_ROWS + 12
    height = lanes_top + LANE * max(len(lanes), 1) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" id="{ident}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{ident}-title" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="{ident}-title">{escape(words.title)}</title>',
        f'<defs><pattern id="{ident}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{EXTENSION_COLOUR}" stroke-width="3"/>'
        f"</pattern></defs>",
    ]
    # axis and grid
    out.append(
        f'<line x1="{LEFT}" y1="{AXIS_Y}" x2="{WIDTH - RIGHT}" y2="{AXIS_Y}" stroke="#555555"/>'
    )
    instants, step = ticks(scale)
    for tick in instants:
        x = scale.x(tick)
        out.append(
            f'<line x1="{x}" y1="{AXIS_Y - 4}" x2="{x}" y2="{height - 6}" stroke="#d6d6d6"/>'
            f'<text x="{x}" y="{AXIS_Y - 8}" text-anchor="middle" fill="#333333">'
            f"{escape(words.tick(tick, step < timedelta(days=1)))}</text>"
        )
    # events lane
    out.append(
        f'<text x="8" y="{marks_top + MARK_ROW + 4}" fill="#1a1a1a" font-weight="600">'
        f"{escape(words.events)}</text>"
    )
    marks = [m for m in timeline.marks if scale.shows(m.at)]
    xs = [scale.x(m.at) for m in marks]
    for mark, x, row in zip(marks, xs, _rows(xs), strict=True):
        y = marks_top + MARK_ROW * row + MARK_ROW / 2
        text = f"{mark.version}. {words.event(mark.type)} — {words.instant(mark.at)}"
        out.append(
            f'<g class="tl-mark" data-type="{escape(mark.type)}">{_title(text)}'
            f'<circle cx="{x}" cy="{y}" r="5" fill="{MARK_COLOUR}" stroke="#ffffff"/></g>'
        )
    # deadline lanes
    for index, limit in enumerate(lanes):
        top = lanes_top + LANE * index
        out.append(
            f'<text x="8" y="{top + BAR - 1}" fill="#1a1a1a">{escape(words.limit(limit))}</text>'
        )
        bars = [b for b in timeline.bars if b.limit == limit]
        earlier: datetime | None = None
        for bar in bars:
            if bar.superseded:
                if scale.shows(bar.due):
                    out.append(_superseded(bar, scale, top, words))
                earlier = bar.due
            elif bar.due >= scale.start:
                out.append(_bar(bar, scale, top, words, timeline.now, ident, earlier))
        for extension in (e for e in timeline.extensions if e.limit == limit and scale.shows(e.at)):
            x = scale.x(extension.at)
            tip = _title(f"{words.extension} — {words.instant(extension.at)}")
            out.append(
                f'<g class="tl-extension">{tip}'
                f'<rect x="{x - 4}" y="{top - 3}" width="8" height="8" fill="{EXTENSION_COLOUR}" '
                f'transform="rotate(45 {x} {top + 1})"/></g>'
            )
        for alert in (a for a in timeline.alerts if a.limit == limit and scale.shows(a.at)):
            out.append(_alert(alert, scale, top, words))
    # now (or the replay's moment)
    x = scale.x(timeline.now)
    out.append(
        f'<g class="tl-now">{_title(f"{words.now} — {words.instant(timeline.now)}")}'
        f'<line x1="{x}" y1="{AXIS_Y}" x2="{x}" y2="{height - 4}" stroke="{NOW_COLOUR}" '
        f'stroke-width="2" stroke-dasharray="5 3"/>'
        f'<text x="{x + 4}" y="{height - 6}" fill="{NOW_COLOUR}" font-weight="600">'
        f"{escape(words.now)}</text></g>"
    )
    out.append("</svg>")
    return "".join(out)


def _bar(
    bar: Bar,
    scale: Scale,
    top: float,
    words: Words,
    now: datetime,
    ident: str,
    earlier_due: datetime | None,
) -> str:
    status = bar.status(now)
    x1, x2 = scale.x(bar.start), scale.x(bar.due)
    colour = COLOURS[status]
    text = (
        f"{words.limit(bar.limit)}: {words.status(status)} — {words.due} {words.instant(bar.due)}"
    )
    parts = [
        f'<g class="tl-bar tl-{status}" data-limit="{escape(bar.limit)}">{_title(text)}',
        f'<rect x="{x1}" y="{top}" width="{max(x2 - x1, 2):.1f}" height="{BAR}" rx="2" '
        f'fill="{colour}"/>',
    ]
    if bar.extended and earlier_due is not None and earlier_due < bar.due:
        xe = scale.x(earlier_due)
        parts.append(
            f'<rect class="tl-extended" x="{xe}" y="{top + 2}" width="{max(x2 - xe, 2):.1f}" '
            f'height="{BAR - 4}" fill="url(#{ident}-hatch)" stroke="{EXTENSION_COLOUR}"/>'
        )
    if bar.due > scale.end:  # runs on beyond the window
        parts.append(
            f'<polygon class="tl-continues" points="{x2},{top - 3} {x2 + 9},{top + BAR / 2} '
            f'{x2},{top + BAR + 3}" fill="{colour}"/>'
        )
    if bar.closed_at is not None and scale.shows(bar.closed_at):
        xc = scale.x(bar.closed_at)
        parts.append(
            f'<line x1="{xc}" y1="{top - 3}" x2="{xc}" y2="{top + BAR + 3}" '
            f'stroke="#1a1a1a" stroke-width="2"/>'
        )
    parts.append("</g>")
    return "".join(parts)


def _superseded(bar: Bar, scale: Scale, top: float, words: Words) -> str:
    """The due instant of a deadline an extension replaced: a dashed tick."""
    x = scale.x(bar.due)
    text = (
        f"{words.limit(bar.limit)}: {words.status('superseded')} — {words.due} "
        f"{words.instant(bar.due)}"
    )
    return (
        f'<g class="tl-bar tl-superseded" data-limit="{escape(bar.limit)}">{_title(text)}'
        f'<line x1="{x}" y1="{top - 4}" x2="{x}" y2="{top + BAR + 4}" '
        f'stroke="{COLOURS["running"]}" stroke-width="2" stroke-dasharray="3 2"/></g>'
    )


def _alert(alert: Alert, scale: Scale, top: float, words: Words) -> str:
    x = scale.x(alert.at)
    colour = ESCALATION_COLOUR if alert.is_escalation else REMINDER_COLOUR
    y = top + BAR + 2
    shape = (
        f'<polygon points="{x},{y - 8} {x - 5},{y + 2} {x + 5},{y + 2}" fill="{colour}" '
        f'stroke="#ffffff"/>'
    )
    text = f"{words.level(alert.level)} — {words.instant(alert.at)}"
    kind = "escalation" if alert.is_escalation else "reminder"
    return f'<g class="tl-alert tl-{kind}">{_title(text)}{shape}</g>'
