"""The metric names Readmit exports, and the metric names a PromQL expression reads: what the
alert rules (test_alert_rules.py) and the dashboards (test_dashboards.py) are checked against.

Exported names come from the collectors defined in adapters/metrics.py, as Prometheus's text
format spells them (a counter `x` is read as `x_total`, a histogram as `x_bucket`, `x_sum`,
`x_count`), plus `up`, which Prometheus itself writes for every target."""

from __future__ import annotations

import re
from functools import cache

from prometheus_client.metrics import MetricWrapperBase

from adapters import metrics

PROMETHEUS_OWN = frozenset({"up"})
_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count", ""),
}
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"}
    | {"bool", "offset", "inf", "nan"}
)


@cache
def exported() -> frozenset[str]:
    """Every series name adapters/metrics.py exports."""
    names = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            kind = str(value._type)  # prometheus_client keeps the kind and name there
            names |= {value._name + suffix for suffix in _SUFFIXES[kind]}
    return frozenset(names)


def read_by(expr: str) -> set[str]:
    """The metric names `expr` selects: identifiers that are not functions, keywords, label
    names (inside `{...}` or a grouping's `(...)`) or parts of quoted strings and durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or match[0].lower() in _KEYWORDS:
            continue
        names.add(match[0])
    return names
