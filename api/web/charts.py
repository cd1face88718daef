"""Horizontal bar charts as inline SVG (plain or stacked), for the statistics page.

Pure: labels and value texts come from the caller, already translated and formatted. Every
segment carries a `<title>` (the browser's tooltip, and what a screen reader announces); the
page shows the same figures in a table beside the chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

WIDTH = 960
LABEL_WIDTH = 200
VALUE_WIDTH = 90
ROW = 26
BAR = 16
LEGEND_ROW = 20

STATUS_COLOURS = {
    "draft": "#6b6b6b",
    "submitted": "#1f5fa8",
    "received": "#3f7fbf",
    "accepted": "#2e7d32",
    "deemed_accepted": "#66a23a",
    "refused": "#b00020",
    "transfer_scheduled": "#6a3d9a",
    "transfer_objected": "#9c4f96",
    "transferred": "#00695c",
    "error_claimed": "#b35900",
    "error_accepted": "#a0522d",
    "error_disputed": "#7b1f3a",
    "return_scheduled": "#8e5b9e",
    "returned_in_error": "#8a5a00",
    "withdrawn": "#9e9e9e",
    "lapsed": "#5d4037",
    "closed": "#263238",
    # transit cases
    "consented": "#2e7d32",
    "deemed_consented": "#66a23a",
    "transit_scheduled": "#6a3d9a",
    "transited": "#00695c",
    "transit_failed": "#c62828",
    "taken_back": "#8a5a00",
}
PLAIN_COLOUR = "#1f5fa8"


@dataclass(frozen=True)
class Segment:
    value: float
    colour: str = PLAIN_COLOUR
    title: str = ""


@dataclass(frozen=True)
class Row:
    label: str
    segments: Sequence[Segment]
    text: str = ""

    @property
    def total(self) -> float:
        return sum(s.value for s in self.segments)


@dataclass(frozen=True)
class Chart:
    title: str
    rows: Sequence[Row]
    legend: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (label, colour)
    max_value: float | None = None
    empty: str = "—"


def render_bars(chart: Chart, *, ident: str) -> str:
    rows = list(chart.rows)
    top = 8
    legend_rows = (len(chart.legend) + 3) // 4
    height = top + ROW * max(len(rows), 1) + (LEGEND_ROW * legend_rows + 10 if legend_rows else 4)
    biggest = chart.max_value or max((r.total for r in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{ident}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{ident}-title" '
        f'font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{ident}-title">{escape(chart.title)}</title>',
    ]
    if not rows:
        out.append(
            f'<text x="{LABEL_WIDTH}" y="{top + 16}" fill="#333333">{escape(chart.empty)}</text>'
        )
    for index, row in enumerate(rows):
        y = top + ROW * index
        out.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + BAR - 3}" text-anchor="end" fill="#1a1a1a">'
            f"{escape(row.label)}</text>"
        )
        x = float(LABEL_WIDTH)
        for segment in row.segments:
            if segment.value <= 0:
                continue
            width = span * segment.value / biggest
            tip = f"<title>{escape(segment.title)}</title>" if segment.title else ""
            out.append(
                f'<g class="chart-bar">{tip}<rect x="{x:.1f}" y="{y}" width="{max(width, 1):.1f}" '
                f'height="{BAR}" fill="{segment.colour}"/></g>'
            )
            x += width
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + BAR - 3}" fill="#1a1a1a">{escape(row.text)}</text>'
        )
    legend_top = top + ROW * max(len(rows), 1) + 6
    for index, (label, colour) in enumerate(chart.legend):
        lx = LABEL_WIDTH + (index % 4) * 180
        ly = legend_top + (index // 4) * LEGEND_ROW
        out.append(
            f'<rect x="{lx}" y="{ly}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{lx + 18}" y="{ly + 11}" fill="#1a1a1a">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
