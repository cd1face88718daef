"""The agreement catalogue: shipped TOML files, overridden by an operator's directory and files.

Layers load in order (shipped, `READMIT_AGREEMENTS_DIR`, `--agreement-file`); a later agreement
with the same id, or protocol with the same (agreement, state), replaces an earlier one. Loading
checks every file completely and raises one `CatalogueError` listing every problem with its file
and key path, so an operator fixes a file in one pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from pydantic import ValidationError

from domain.agreements import Agreement, AgreementTerms, Protocol, unverified_values
from domain.calendars import EU_MEMBER_STATES, UnknownState, check_state, zone_of
from domain.terms import EU, member_state_of, merge_protocol, party_states, resolve_terms

SHIPPED_PACKAGE = "adapters.agreements"
ProtocolKey = tuple[str, str]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one file: `key` is a dotted key path ("" for the file as a whole)."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.key}: {self.message}"
            if self.key
            else f"{self.file}: {self.message}"
        )


class CatalogueError(ValueError):
    """Agreement or protocol files that cannot be used; `problems` lists every one found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(map(str, self.problems)))

    def one_line(self) -> str:
        count = len(self.problems)
        return f"{count} problem{'s' if count != 1 else ''} in agreement files: " + "; ".join(
            map(str, self.problems)
        )


class NotInCatalogue(LookupError):
    """An agreement or protocol the catalogue does not hold."""


@dataclass(frozen=True)
class Catalogue:
    """Agreements by id and protocols by (agreement id, state), with the file each came from."""

    agreements: Mapping[str, Agreement]
    protocols: Mapping[ProtocolKey, Protocol]
    origins: Mapping[str | ProtocolKey, str] = field(default_factory=dict)

    def agreement(self, agreement_id: str) -> Agreement:
        found = self.agreements.get(agreement_id)
        if found is None:
            known = ", ".join(sorted(self.agreements)) or "none"
            raise NotInCatalogue(f"unknown agreement {agreement_id!r}; known: {known}")
        return found

    def protocol(self, agreement_id: str, state: str) -> Protocol | None:
        return self.protocols.get((agreement_id, state))

    def protocols_of(self, agreement_id: str) -> tuple[Protocol, ...]:
        keys = sorted(key for key in self.protocols if key[0] == agreement_id)
        return tuple(self.protocols[key] for key in keys)

    def list_agreements(self) -> tuple[Agreement, ...]:
        return tuple(self.agreements[key] for key in sorted(self.agreements))

    def unverified_in_force(self) -> dict[str, tuple[str, ...]]:
        """Key paths of the values research has not confirmed, for each agreement (`EU-UA`) and
        each agreement as a protocol changes it (`EU-UA/AT`); those without any are left out."""
        found: dict[str, tuple[str, ...]] = {}
        for agreement in self.list_agreements():
            found[agreement.id] = tuple(key for key, _ in unverified_values(agreement))
            for protocol in self.protocols_of(agreement.id):
                other = next(p for p in agreement.parties if p != EU)
                terms = self.terms(agreement.id, protocol.state, other, protocol.state)
                found[f"{agreement.id}/{protocol.state}"] = tuple(
                    key for key, _ in unverified_values(terms)
                )
        return {name: keys for name, keys in found.items() if keys}

    def terms(
        self, agreement_id: str, requesting: str, requested: str, protocol_state: str | None = None
    ) -> AgreementTerms:
        """Resolved terms; the protocol defaults to that of the pair's Member State, if any."""
        agreement = self.agreement(agreement_id)
        if protocol_state is not None:
            protocol = self.protocol(agreement_id, protocol_state)
            if protocol is None:
                states = ", ".join(p.state for p in self.protocols_of(agreement_id)) or "none"
                raise NotInCatalogue(
                    f"no {protocol_state} protocol for {agreement_id}; protocols: {states}"
                )
        else:
            member = member_state_of(agreement, requesting, requested)
            protocol = self.protocol(agreement_id, member) if member else None
        return resolve_terms(agreement, protocol, requesting, requested)


def load_catalogue(extra_dir: Path | None = None, extra_files: Sequence[Path] = ()) -> Catalogue:
    """Shipped files, then `extra_dir` (recursively), then `extra_files`; raise `CatalogueError`."""
    problems: list[Problem] = []
    agreements: dict[str, Agreement] = {}
    protocols: dict[ProtocolKey, Protocol] = {}
    origins: dict[str | ProtocolKey, str] = {}
    layers: list[list[tuple[str, str | None]]] = [list(_shipped_sources())]
    if extra_dir is not None:
        layers.append(list(_dir_sources(extra_dir, problems)))
    layers.append([(str(path), _read(path, problems)) for path in extra_files])
    for layer in layers:
        seen: dict[str | ProtocolKey, str] = {}
        for label, text in layer:
            if text is None:
                continue
            model = _parse(label, text, problems)
            key: str | ProtocolKey
            if isinstance(model, Agreement):
                key, what = model.id, f"agreement {model.id}"
                agreements[model.id] = model
            elif isinstance(model, Protocol):
                key, what = (
                    (model.agreement, model.state),
                    f"{model.state} protocol of {model.agreement}",
                )
                protocols[key] = model
            else:
                continue
            if key in seen:
                problems.append(Problem(label, "", f"duplicate {what}, also in {seen[key]}"))
            seen[key] = origins[key] = label
    for agreement in agreements.values():
        problems += _agreement_problems(agreement, origins[agreement.id])
    for key, protocol in protocols.items():
        problems += _protocol_problems(protocol, agreements, origins[key])
    if problems:
        raise CatalogueError(problems)
    return Catalogue(agreements, protocols, origins)


def _shipped_sources() -> Iterator[tuple[str, str | None]]:
    root = files(SHIPPED_PACKAGE)
    yield from _toml_texts(root, "")
    protocols = root / "protocols"
    if protocols.is_dir():
        yield from _toml_texts(protocols, "protocols/")


def _toml_texts(folder: Traversable, prefix: str) -> Iterator[tuple[str, str | None]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith(".toml"):
            yield prefix + entry.name, entry.read_text(encoding="utf-8")


def _dir_sources(folder: Path, problems: list[Problem]) -> Iterator[tuple[str, str | None]]:
    if not folder.is_dir():
        problems.append(Problem(str(folder), "", "agreements directory does not exist"))
        return
    for path in sorted(folder.rglob("*.toml")):
        yield str(path), _read(path, problems)


def _read(path: Path, problems: list[Problem]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), "", f"cannot read: {exc}"))
        return None


_TOML_POSITION = re.compile(
    r"^(?P<msg>.*) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$"
)


def _syntax_error(error: str, text: str) -> str:
    """'TOML syntax error at line L, column C: reason' (the end of the document has a line too)."""
    match = _TOML_POSITION.match(error)
    if match is None:
        return f"TOML syntax error: {error}"
    if match["line"] is None:
        return f"TOML syntax error at line {text.count(chr(10)) + 1} (end of file): {match['msg']}"
    return f"TOML syntax error at line {match['line']}, column {match['col']}: {match['msg']}"


def _parse(label: str, text: str, problems: list[Problem]) -> Agreement | Protocol | None:
    """Parse one file as a protocol (it names an `agreement`) or an agreement."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem(label, "", _syntax_error(str(exc), text)))
        return None
    kind: type[Agreement] | type[Protocol] = Protocol if "agreement" in data else Agreement
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        problems.extend(Problem(label, key, msg) for key, msg in validation_problems(exc))
        return None


def validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """(key path, message) for each error, in the file's own key names."""
    out = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"] if part != "[key]")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the agreement file format)"
        elif err["type"] != "missing" and "[key]" not in err["loc"] and _scalar(err["input"]):
            msg += f" (got {err['input']!r})"
        out.append((key, msg))
    return out


def _scalar(value: object) -> bool:
    return not isinstance(value, dict | list | tuple)


def _agreement_problems(agreement: Agreement, label: str) -> list[Problem]:
    """Checks beyond the model: every state named has a time zone and a calendar."""
    found: list[Problem] = []
    for state, zone in agreement.time_zones.items():
        try:
            zone_of(state, {state: zone})
        except UnknownState as exc:
            found.append(Problem(label, f"time_zones.{state}", str(exc)))
    named = [(f"parties.{i}", p) for i, p in enumerate(agreement.parties) if p != EU]
    named += [(f"limits.{n}.calendar", lim.calendar) for n, lim in agreement.limits.items()]
    for key, state in named:
        if len(state) == 2:
            try:
                check_state(state, agreement.time_zones)
            except UnknownState as exc:
                found.append(Problem(label, key, str(exc)))
    for i, state in enumerate(agreement.excluded_states):
        if EU in agreement.parties and state not in EU_MEMBER_STATES:
            found.append(
                Problem(label, f"excluded_states.{i}", f"{state} is not an EU Member State")
            )
    return found


def _protocol_problems(
    protocol: Protocol, agreements: Mapping[str, Agreement], label: str
) -> list[Problem]:
    """The protocol names a known agreement and one of its Member States, and merges cleanly."""
    agreement = agreements.get(protocol.agreement)
    if agreement is None:
        known = ", ".join(sorted(agreements)) or "none"
        return [
            Problem(label, "agreement", f"unknown agreement {protocol.agreement!r}; known: {known}")
        ]
    sides = party_states(agreement, EU) if EU in agreement.parties else set(agreement.parties)
    if protocol.state not in sides:
        return [
            Problem(
                label, "state", f"{protocol.state} is not a Member State bound by {agreement.id}"
            )
        ]
    data = merge_protocol(
        agreement.model_dump(by_alias=True), protocol.model_dump(by_alias=True, exclude_unset=True)
    )
    try:
        Agreement.model_validate(data)
    except ValidationError as exc:
        return [
            Problem(label, key, f"{msg} (after merging with {agreement.id})")
            for key, msg in validation_problems(exc)
        ]
    return []
