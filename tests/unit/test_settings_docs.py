"""The configuration page's table names every setting, with its variable and default.

The table sits between two markers in docs/configuration.md and is generated from the settings
models: `python tests/unit/test_settings_docs.py --write` rewrites it after a setting changes.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from adapters.settings import Settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
PREFIX = "READMIT_"
# Meanings of fields whose model gives no description.
MEANINGS = {
    "temporal_namespace": "Temporal namespace of the case workflows",
    "log_level": "level of the JSON logs on stderr (`readmit run`: WARNING unless set)",
    "smtp_host": "SMTP server of e-mail notices",
    "smtp_port": "its port",
    "smtp_username": "SMTP login, if the server wants one",
    "smtp_password": "SMTP password",
    "mail_from": "sender address of e-mail notices",
    "max_attempts": "delivery attempts of one notice before it is given up",
    "backoff_base_seconds": "first retry delay (doubles on each attempt)",
    "backoff_max_seconds": "longest retry delay",
    "lease_seconds": "how long a dispatcher holds a claimed notice",
    "send_timeout_seconds": "timeout of one SMTP or webhook delivery",
    "concurrency": "deliveries in flight per dispatcher",
}


def render(value: Any) -> str:
    """A default as one would write it in the environment."""
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return "(empty)" if not value.get_secret_value() else "(set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple | list | dict):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def _default(field: FieldInfo) -> Any:
    if field.default is not PydanticUndefined:
        return field.default
    assert field.default_factory is not None
    return field.default_factory()  # type: ignore[call-arg]


def _variable(name: str, field: FieldInfo, prefix: str) -> str:
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return " or ".join(f"`{choice}`" for choice in alias.choices)
    return f"`{prefix}{name.upper()}`"


def rows() -> Iterator[tuple[str, str, str]]:
    """(variables, default, meaning) of every setting, nested models flattened with `__`."""
    seen: set[str] = set()
    for model in (Settings,):
        for name, field in model.model_fields.items():
            if name in seen:
                continue
            seen.add(name)
            default = _default(field)
            if isinstance(default, BaseModel):
                nested = f"{PREFIX}{name.upper()}__"
                for sub, subfield in type(default).model_fields.items():
                    meaning = subfield.description or MEANINGS.get(sub, "")
                    yield _variable(sub, subfield, nested), render(_default(subfield)), meaning
                continue
            meaning = field.description or MEANINGS.get(name, "")
            yield _variable(name, field, PREFIX), render(default), meaning


def table() -> str:
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for variable, default, meaning in rows():
        shown = f"`{default}`" if not default.startswith("(") else default
        lines.append(f"| {variable} | {shown} | {meaning.replace('|', '/')} |")
    return "\n".join(lines)


def documented_block(text: str) -> str:
    match = _BLOCK.search(text)
    assert match, f"docs/configuration.md lacks the {BEGIN} … {END} block"
    return match.group(1).strip("\n")


_BLOCK = re.compile(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), re.S)


def test_every_setting_is_documented_with_its_default() -> None:
    block = documented_block(PAGE.read_text(encoding="utf-8"))
    documented = {}
    for line in block.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        documented[cells[0]] = cells[1]
    expected = {
        variable: f"`{default}`" if not default.startswith("(") else default
        for variable, default, _ in rows()
    }
    hint = "run `python tests/unit/test_settings_docs.py --write`"
    missing = sorted(set(expected) - set(documented))
    assert not missing, f"settings missing from docs/configuration.md: {missing}; {hint}"
    stale = sorted(set(documented) - set(expected))
    assert not stale, f"docs/configuration.md documents settings that do not exist: {stale}; {hint}"
    wrong = {v: (documented[v], d) for v, d in expected.items() if documented[v] != d}
    assert not wrong, f"docs/configuration.md shows other defaults (page, code): {wrong}; {hint}"


def test_every_setting_says_what_it_is_for() -> None:
    unexplained = [variable for variable, _, meaning in rows() if not meaning]
    assert not unexplained, f"give these a description (or a MEANINGS entry): {unexplained}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        text = PAGE.read_text(encoding="utf-8")
        block = f"{BEGIN}\n{table()}\n{END}"
        PAGE.write_text(_BLOCK.sub(lambda _: block, text), encoding="utf-8")
    else:
        print(table())
