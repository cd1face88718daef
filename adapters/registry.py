"""The default registry adapter: the requested state's registry held in PostgreSQL.

`PostgresRegistry` answers the identity activity's lookups from `registry_persons` and
`registry_documents` (migration 0003). `import_registry_csv` fills those tables from a CSV file,
one row per document: every row is validated first and every problem reported with its line and
column; only a clean file is written, in one transaction, as an idempotent upsert (documents and
persons missing from the file are kept, not deleted).
"""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

import asyncpg

from domain.identity.unzr import validate_unzr
from domain.identity.verification import (
    UNZR_STATE,
    DocumentStatus,
    RegistryDocument,
    RegistryRecord,
    normalise_document_number,
    normalise_personal_number,
)
from domain.values import Person

CANDIDATE_LIMIT = 50  # persons sharing a birth date considered per lookup
CHUNK_ROWS = 1000  # rows written per statement (and per progress report)

COLUMNS = (
    "state", "person_id", "surname", "given_names", "birth_date", "birth_place", "sex",
    "nationality", "personal_number", "document_kind", "document_number", "issued_on",
    "valid_until", "document_status",
)  # fmt: skip
_PERSON_COLUMNS = COLUMNS[:9]
_DOCUMENT_COLUMNS = COLUMNS[9:]

_CANDIDATE_IDS = f"""
SELECT person_id FROM registry_documents WHERE state = $1 AND number = ANY($2::text[])
UNION
(SELECT person_id FROM registry_persons WHERE state = $1 AND birth_date = ANY($3::date[])
 ORDER BY person_id LIMIT {CANDIDATE_LIMIT})
UNION
SELECT person_id FROM registry_persons WHERE state = $1 AND personal_number = $4
"""
_PERSONS = """
SELECT person_id, surname, given_names, birth_date, personal_number, nationality
FROM registry_persons WHERE state = $1 AND person_id = ANY($2::text[]) ORDER BY person_id
"""
_DOCUMENTS = """
SELECT person_id, kind, number, issued_on, valid_until, status
FROM registry_documents WHERE state = $1 AND person_id = ANY($2::text[]) ORDER BY number
"""

# Upserts that touch only rows whose data changed, so a re-import reports them as unchanged.
_UPSERT_PERSONS = """
INSERT INTO registry_persons AS p (state, person_id, surname, given_names, birth_date,
                                   birth_place, sex, nationality, personal_number)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[],
                     $7::text[], $8::text[], $9::text[])
ON CONFLICT (state, person_id) DO UPDATE SET
    surname = EXCLUDED.surname, given_names = EXCLUDED.given_names,
    birth_date = EXCLUDED.birth_date, birth_place = EXCLUDED.birth_place, sex = EXCLUDED.sex,
    nationality = EXCLUDED.nationality, personal_number = EXCLUDED.personal_number,
    updated_at = now()
WHERE (p.surname, p.given_names, p.birth_date, p.birth_place, p.sex, p.nationality,
       p.personal_number)
      IS DISTINCT FROM (EXCLUDED.surname, EXCLUDED.given_names, EXCLUDED.birth_date,
                        EXCLUDED.birth_place, EXCLUDED.sex, EXCLUDED.nationality,
                        EXCLUDED.personal_number)
RETURNING (xmax = 0) AS inserted
"""
_UPSERT_DOCUMENTS = """
INSERT INTO registry_documents AS d (state, number, kind, person_id, issued_on, valid_until,
                                     status)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::date[],
                     $7::text[])
ON CONFLICT (state, number) DO UPDATE SET
    kind = EXCLUDED.kind, person_id = EXCLUDED.person_id, issued_on = EXCLUDED.issued_on,
    valid_until = EXCLUDED.valid_until, status = EXCLUDED.status, updated_at = now()
WHERE (d.kind, d.person_id, d.issued_on, d.valid_until, d.status)
      IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.person_id, EXCLUDED.issued_on,
                        EXCLUDED.valid_until, EXCLUDED.status)
RETURNING (xmax = 0) AS inserted
"""


class PostgresRegistry:
    """The registry port over `registry_persons` / `registry_documents` (every query indexed)."""

    def __init__(self, pool: asyncpg.Pool, name: str = "readmit registry (PostgreSQL)") -> None:
        self.pool = pool
        self.name = name

    async def candidates(
        self, state: str, person: Person, document_numbers: Sequence[str]
    ) -> list[RegistryRecord]:
        """Owners of the documents, persons born that day (or day and month swapped), and the
        holder of the personal number, each with all their documents."""
        numbers = sorted({n for n in map(normalise_document_number, document_numbers) if n})
        born = person.birth_date
        birth_dates = [born] + ([swapped] if (swapped := _swapped(born)) else [])
        personal = (
            normalise_personal_number(state, person.personal_number)
            if person.personal_number
            else None
        )
        async with self.pool.acquire() as conn:
            ids = [
                r["person_id"]
                for r in await conn.fetch(_CANDIDATE_IDS, state, numbers, birth_dates, personal)
            ]
            if not ids:
                return []
            persons = await conn.fetch(_PERSONS, state, ids)
            documents = await conn.fetch(_DOCUMENTS, state, ids)
        owned: dict[str, list[RegistryDocument]] = {}
        for d in documents:
            owned.setdefault(d["person_id"], []).append(
                RegistryDocument(
                    kind=d["kind"],
                    number=d["number"],
                    issued_on=d["issued_on"],
                    valid_until=d["valid_until"],
                    status=DocumentStatus(d["status"]),
                )
            )
        return [
            RegistryRecord(
                person_id=p["person_id"],
                surname=p["surname"],
                given_names=p["given_names"],
                birth_date=p["birth_date"],
                personal_number=p["personal_number"],
                nationality=p["nationality"],
                documents=tuple(owned.get(p["person_id"], ())),
            )
            for p in persons
        ]


def _swapped(day: date) -> date | None:
    if day.day == day.month or day.day > 12:
        return None
    return date(day.year, day.day, day.month)


# --- CSV import -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One reason a row (or the file) cannot be imported; `line` counts the header as line 1."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class RegistryImportError(ValueError):
    """The file has problems; nothing was written. `problems` lists every one of them."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} problem(s), first: {self.problems[0]}")


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: int
    persons: int
    persons_new: int
    persons_updated: int
    documents: int
    documents_new: int
    documents_updated: int
    states: tuple[str, ...]

    @property
    def persons_unchanged(self) -> int:
        return self.persons - self.persons_new - self.persons_updated

    @property
    def documents_unchanged(self) -> int:
        return self.documents - self.documents_new - self.documents_updated


@dataclass(frozen=True, slots=True)
class _Person:
    state: str
    person_id: str
    surname: str
    given_names: str
    birth_date: date
    birth_place: str | None
    sex: str | None
    nationality: str | None
    personal_number: str | None


@dataclass(frozen=True, slots=True)
class _Document:
    state: str
    number: str
    kind: str
    person_id: str
    issued_on: date | None
    valid_until: date | None
    status: str


@dataclass
class ParsedRegistry:
    """A registry file read and checked: persons and documents in file order, or problems."""

    rows: int
    persons: list[_Person]
    documents: list[_Document]
    problems: list[RowProblem]


_STATE = re.compile(r"^[A-Z]{2}$")
_NATIONALITY = re.compile(r"^[A-Z]{2,3}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_KIND = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_TEXT_MAX = 200


def parse_registry_csv(path: Path, default_state: str | None = None) -> ParsedRegistry:
    """Read and validate a registry CSV without touching the database (see `COLUMNS`)."""
    parsed = ParsedRegistry(rows=0, persons=[], documents=[], problems=[])
    problems = parsed.problems
    if default_state is not None and not _STATE.match(default_state):
        message = f"--state {default_state!r} is not a two-letter state code (e.g. UA)"
        problems.append(RowProblem(0, None, message))
        return parsed
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            _parse_rows(handle, default_state, parsed)
    except FileNotFoundError:
        problems.append(RowProblem(0, None, f"no such file: {path}"))
    except IsADirectoryError:
        problems.append(RowProblem(0, None, f"{path} is a directory"))
    except UnicodeDecodeError as error:
        problems.append(RowProblem(0, None, f"not UTF-8 text (byte {error.start})"))
    except csv.Error as error:
        problems.append(RowProblem(0, None, f"not a readable CSV file: {error}"))
    return parsed


def _parse_rows(handle: TextIO, default_state: str | None, parsed: ParsedRegistry) -> None:
    reader = csv.reader(handle)
    problems = parsed.problems
    header = next(reader, None)
    if header is None:
        problems.append(RowProblem(1, None, "the file is empty; expected a header row"))
        return
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    unknown = [h for h in header if h not in COLUMNS]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    for column in missing:
        problems.append(RowProblem(1, column, "column missing from the header"))
    for column in unknown:
        problems.append(RowProblem(1, column, f"unknown column; expected {', '.join(COLUMNS)}"))
    for column in duplicated:
        problems.append(RowProblem(1, column, "column appears twice in the header"))
    if problems:
        return
    persons: dict[tuple[str, str], tuple[int, _Person]] = {}
    documents: dict[tuple[str, str], int] = {}
    for raw in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in raw):
            continue
        parsed.rows += 1
        if len(raw) != len(header):
            problems.append(
                RowProblem(line, None, f"{len(raw)} fields, the header has {len(header)}")
            )
            continue
        row = {name: cell.strip() for name, cell in zip(header, raw, strict=True)}
        _parse_row(line, row, default_state, parsed, persons, documents)


def _parse_row(
    line: int,
    row: dict[str, str],
    default_state: str | None,
    parsed: ParsedRegistry,
    persons: dict[tuple[str, str], tuple[int, _Person]],
    documents: dict[tuple[str, str], int],
) -> None:
    problems: list[RowProblem] = []

    def bad(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    def text(column: str, *, required: bool) -> str | None:
        value = row[column]
        if not value:
            if required:
                bad(column, "required, but empty")
            return None
        if len(value) > _TEXT_MAX:
            bad(column, f"longer than {_TEXT_MAX} characters")
        return value

    def day(column: str, *, required: bool) -> date | None:
        value = text(column, required=required)
        if value is None:
            return None
        try:
            if _DATE.match(value):
                return date.fromisoformat(value)
        except ValueError:
            pass
        bad(column, f"{value!r} is not a date YYYY-MM-DD")
        return None

    state = row["state"] or default_state or ""
    if not state:
        bad("state", "required, but empty (or give --state)")
    elif not _STATE.match(state):
        bad("state", f"{state!r} is not a two-letter state code (e.g. UA)")
    person_id = text("person_id", required=True)
    surname = text("surname", required=True)
    given_names = text("given_names", required=True)
    birth_date = day("birth_date", required=True)
    birth_place = text("birth_place", required=False)
    sex = text("sex", required=False)
    if sex is not None and sex not in ("F", "M", "X"):
        bad("sex", f"{sex!r} is not F, M or X")
    nationality = text("nationality", required=False)
    if nationality is not None and not _NATIONALITY.match(nationality):
        bad("nationality", f"{nationality!r} is not a 2- or 3-letter code (e.g. UKR)")
    personal_number = text("personal_number", required=False)
    if personal_number is not None:
        personal_number = normalise_personal_number(state, personal_number)
        if state == UNZR_STATE:
            unzr = validate_unzr(personal_number)
            if not unzr.well_formed:
                bad("personal_number", unzr.reason)
            elif not unzr.valid:
                bad("personal_number", f"UNZR {personal_number}: {unzr.reason}")
            elif birth_date is not None and unzr.birth_date != birth_date:
                bad("personal_number", f"UNZR {personal_number} embeds another birth date")
    has_document = any(row[c] for c in _DOCUMENT_COLUMNS)
    kind = number = status = None
    issued_on = valid_until = None
    if has_document:
        kind = text("document_kind", required=True)
        if kind is not None and not _KIND.match(kind):
            bad("document_kind", f"{kind!r} is not a kind like passport or id_card")
        raw_number = text("document_number", required=True)
        number = normalise_document_number(raw_number) if raw_number else None
        if raw_number is not None and not number:
            bad("document_number", f"{raw_number!r} has no characters besides fillers")
        issued_on = day("issued_on", required=False)
        valid_until = day("valid_until", required=False)
        if issued_on and valid_until and valid_until < issued_on:
            bad("valid_until", f"{valid_until} is before issued_on {issued_on}")
        status = row["document_status"] or DocumentStatus.VALID.value
        if status not in {s.value for s in DocumentStatus}:
            bad("document_status", f"{status!r} is not one of valid, lost, stolen, revoked")
    duplicate = documents.get((state, number)) if number is not None else None
    if person_id is None or surname is None or given_names is None or birth_date is None:
        if duplicate is not None:
            bad("document_number", f"{number} already appears on line {duplicate}")
        parsed.problems.extend(problems)
        return
    person = _Person(
        state, person_id, surname, given_names, birth_date, birth_place, sex, nationality,
        personal_number,
    )  # fmt: skip
    seen = persons.get((state, person_id))
    if seen is not None and seen[1] != person and not problems:
        first_line, first = seen
        for column in _PERSON_COLUMNS:
            if getattr(first, column) != getattr(person, column):
                bad(column, f"person {person_id} has another {column} on line {first_line}")
    if duplicate is not None:
        bad("document_number", f"{number} already appears on line {duplicate}")
    if problems:
        parsed.problems.extend(problems)
        return
    if seen is None:
        persons[(state, person_id)] = (line, person)
        parsed.persons.append(person)
    if number is not None and kind is not None and status is not None:
        documents[(state, number)] = line
        parsed.documents.append(
            _Document(state, number, kind, person_id, issued_on, valid_until, status)
        )


async def import_registry_csv(
    pool: asyncpg.Pool,
    path: Path | str,
    default_state: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Validate `path` and upsert its persons and documents in one transaction.

    Raises `RegistryImportError` with every problem (nothing written) when any row is bad.
    `progress(done, total)` is called after each chunk of rows written (persons, then documents).
    """
    parsed = await asyncio.to_thread(parse_registry_csv, Path(path), default_state)
    if parsed.problems:
        raise RegistryImportError(parsed.problems)
    total = len(parsed.persons) + len(parsed.documents)
    done = 0
    persons_new = persons_updated = documents_new = documents_updated = 0
    async with pool.acquire() as conn, conn.transaction():
        for start in range(0, len(parsed.persons), CHUNK_ROWS):
            chunk = parsed.persons[start : start + CHUNK_ROWS]
            columns = [[getattr(p, c) for p in chunk] for c in _PERSON_COLUMNS]
            changed = await conn.fetch(_UPSERT_PERSONS, *columns)
            persons_new += sum(r["inserted"] for r in changed)
            persons_updated += sum(not r["inserted"] for r in changed)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        for start in range(0, len(parsed.documents), CHUNK_ROWS):
            docs = parsed.documents[start : start + CHUNK_ROWS]
            columns = [
                [d.state for d in docs], [d.number for d in docs], [d.kind for d in docs],
                [d.person_id for d in docs], [d.issued_on for d in docs],
                [d.valid_until for d in docs], [d.status for d in docs],
            ]  # fmt: skip
            changed = await conn.fetch(_UPSERT_DOCUMENTS, *columns)
            documents_new += sum(r["inserted"] for r in changed)
            documents_updated += sum(not r["inserted"] for r in changed)
            done += len(docs)
            if progress is not None:
                progress(done, total)
    return ImportReport(
        rows=parsed.rows,
        persons=len(parsed.persons),
        persons_new=persons_new,
        persons_updated=persons_updated,
        documents=len(parsed.documents),
        documents_new=documents_new,
        documents_updated=documents_updated,
        states=tuple(sorted({p.state for p in parsed.persons})),
    )
