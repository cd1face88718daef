"""Each table's SQL has one owner, and only the settings module reads the environment.

The event store (`adapters/db/eventstore.py`, `adapters/db/event_queries.py`) owns `case_events`;
the read model (`adapters/db/projector.py` writes, `adapters/db/case_queries.py` reads) owns
`cases`. Any other module asks them. A source scan finds SQL naming a table by the keywords
that read, write or maintain it (written in capitals, as every query here is).
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "workflows", "adapters", "activities", "workers", "api", "readmit", "bench")
KEYWORDS = r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE|TRUNCATE|ANALYZE)\s+(?:ONLY\s+)?"

OWNERS = {
    "case_events": {"adapters/db/eventstore.py", "adapters/db/event_queries.py"},
    "cases": {"adapters/db/projector.py", "adapters/db/case_queries.py"},
}
EXCEPTIONS = {
    "case_events": {
        # the hash chain's definition: its docstring shows the psql query that recomputes it
        "adapters/db/canonical.py": "part of the event store: the hash chain it appends",
    },
    "cases": {
        # a million synthetic rows from one INSERT … SELECT generate_series, indexes dropped
        # and rebuilt: a bulk load no production path does
        "bench/read_model.py": "the read-model bench's synthetic bulk load",
        # hand-made rows for every status (no workflow ran), then ANALYZE
        "bench/web_pages.py": "the page bench's synthetic rows",
    },
}
# Reading the environment for configuration is the settings module's job alone (through
# pydantic-settings, so not `os.environ`); these read it to pass it on to child processes.
ENVIRONMENT_READERS = {
    "adapters/db/embedded.py": "initdb/pg_ctl get the environment without PG* variables",
    "bench/_support.py": "a bench's `readmit` child process inherits the environment",
    "adapters/mrz_scan/scan.py": "Tesseract's child processes inherit one OpenMP thread",
}


def sources() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def naming(table: str) -> set[str]:
    pattern = re.compile(KEYWORDS + re.escape(table) + r"\b")
    return {name for name, text in sources().items() if pattern.search(text)}


def test_only_the_event_store_names_case_events_in_sql() -> None:
    found = naming("case_events")
    assert found - OWNERS["case_events"] - set(EXCEPTIONS["case_events"]) == set()
    assert OWNERS["case_events"] <= found  # the scan does see the owners' SQL


def test_only_the_read_model_reads_or_writes_cases() -> None:
    found = naming("cases")
    assert found - OWNERS["cases"] - set(EXCEPTIONS["cases"]) == set()
    assert OWNERS["cases"] <= found


def test_the_exceptions_are_still_needed() -> None:
    """An exception whose module no longer names the table goes from the list."""
    for table, exceptions in EXCEPTIONS.items():
        assert set(exceptions) <= naming(table), table


def test_only_the_settings_module_reads_the_environment() -> None:
    reading = re.compile(r"\bos\.(?:environ|getenv)\b|\bgetenv\(")
    found = {name for name, text in sources().items() if reading.search(text)}
    assert found == set(ENVIRONMENT_READERS)
