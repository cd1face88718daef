"""The PostgreSQL registry, its CSV import and CLI, and the identity activity; real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import typer
from structlog.testing import capture_logs
from temporalio.api.failure.v1 import Failure
from temporalio.converter import DefaultFailureConverter, DefaultPayloadConverter
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from typer.testing import CliRunner

from activities import identity
from activities.identity import IdentityActivities
from adapters.protection.vault import PersonalDataVault
from adapters.registry import (
    COLUMNS,
    PostgresRegistry,
    RegistryImportError,
    import_registry_csv,
)
from adapters.temporal.codec import Keyring
from domain.identity.verification import RegistryRecord
from domain.values import (
    EvidenceItem,
    Grade,
    GradedEvidence,
    Person,
    VerificationOutcome,
    VerificationStatus,
)
from readmit.cli import registry as registry_cli
from readmit.demo import REGISTRY_CSV
from workflows.contracts import VerifyIdentityInput

AT = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
HEADER = ",".join(COLUMNS)
SHEVCHENKO = "UA,P1,Шевченко,Олександр,1990-05-17,Київ,M,UKR,19900517-38843"


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


async def counts(pool: asyncpg.Pool) -> tuple[int, int]:
    persons = await pool.fetchval("SELECT count(*) FROM registry_persons")
    documents = await pool.fetchval("SELECT count(*) FROM registry_documents")
    return int(persons), int(documents)


def demo_counts() -> tuple[int, int]:
    lines = REGISTRY_CSV.read_text(encoding="utf-8").splitlines()[1:]
    persons = {tuple(line.split(",")[:2]) for line in lines}
    return len(persons), len(lines)


# --- CSV import -------------------------------------------------------------------------------


async def test_demo_registry_imports_and_reimport_changes_nothing(pool: asyncpg.Pool) -> None:
    persons, documents = demo_counts()
    calls: list[tuple[int, int]] = []
    first = await import_registry_csv(pool, REGISTRY_CSV, progress=lambda *a: calls.append(a))
    assert (first.persons, first.persons_new, first.documents, first.documents_new) == (
        persons, persons, documents, documents,
    )  # fmt: skip
    assert first.states == ("DE", "MD", "PL", "RO", "UA")
    assert await counts(pool) == (persons, documents)
    assert calls[-1] == (persons + documents, persons + documents)
    again = await import_registry_csv(pool, REGISTRY_CSV)
    assert (again.persons_new, again.persons_updated, again.persons_unchanged) == (0, 0, persons)
    assert (again.documents_new, again.documents_updated) == (0, 0)
    assert await counts(pool) == (persons, documents)


async def test_demo_registry_has_what_the_demo_needs(pool: asyncpg.Pool) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    rows = await pool.fetch("SELECT state, count(*) FROM registry_persons GROUP BY state")
    by_state: dict[str, int] = {r["state"]: r["count"] for r in rows}
    assert by_state["UA"] >= 30 and by_state["MD"] >= 15
    assert all(by_state[s] >= 5 for s in ("PL", "RO", "DE"))
    row = await pool.fetchrow(
        "SELECT p.* FROM registry_persons p JOIN registry_documents d USING (state, person_id)"
        " WHERE d.state = 'UA' AND d.number = 'FA123456'"
    )
    assert row is not None
    assert (row["surname"], row["given_names"], row["birth_date"]) == (
        "Шевченко", "Олександр", date(1990, 5, 17),
    )  # fmt: skip
    statuses = await pool.fetch(
        "SELECT status, valid_until FROM registry_documents WHERE kind = 'passport'"
    )
    assert any(r["status"] == "lost" for r in statuses)
    assert any(r["valid_until"] < date(2025, 1, 1) for r in statuses)


async def test_an_import_updates_changed_rows(pool: asyncpg.Pool, tmp_path: Path) -> None:
    await import_registry_csv(pool, write(tmp_path, SHEVCHENKO + ",passport,FA123456,,,valid"))
    report = await import_registry_csv(
        pool, write(tmp_path, SHEVCHENKO + ",passport,fa 123456,,,lost")
    )
    assert (report.documents_updated, report.persons_unchanged) == (1, 1)
    status = await pool.fetchval("SELECT status FROM registry_documents WHERE number = 'FA123456'")
    assert status == "lost"


async def test_every_bad_row_is_reported_and_nothing_written(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        SHEVCHENKO + ",passport,FA123456,2018-03-02,2028-03-02,valid",
        "UA,P2,Шевчук,Олександр,1990-13-01,,Q,UKR,12345,passport,FB1,,,misplaced",
        ",P3,Коваль,Іван,1980-01-01,,M,UKR,19800101-00017,passport,FC1,2020-01-01,2019-01-01,",
        "UA,P1,Шевченко,Олександр,1991-05-17,Київ,M,UKR,,passport,FA123456,,,",
        "UA,P4,Мороз,Ганна,1970-02-02,,F,UKR,,,,,,",
        "UA,P5,,Ганна",
    )
    with pytest.raises(RegistryImportError) as caught:
        await import_registry_csv(pool, path)
    found = {(p.line, p.column) for p in caught.value.problems}
    assert {
        (3, "birth_date"),
        (3, "sex"),
        (3, "personal_number"),
        (3, "document_status"),
        (4, "state"),
        (4, "valid_until"),
        (5, "birth_date"),
        (5, "personal_number"),
        (5, "document_number"),
        (7, None),
    } <= found
    assert (2, "birth_date") not in found and not any(line == 6 for line, _ in found)
    assert await counts(pool) == (0, 0)


async def test_a_bad_file_leaves_an_earlier_import_alone(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    before = await counts(pool)
    bad = write(tmp_path, "UA,X1,Нова,Особа,1999-01-01,,M,UKR,,passport,NEW1,,,valid", "UA,X2")
    with pytest.raises(RegistryImportError):
        await import_registry_csv(pool, bad)
    assert await counts(pool) == before


async def test_default_state_fills_empty_state(pool: asyncpg.Pool, tmp_path: Path) -> None:
    path = write(tmp_path, ",M1,Rusu,Ion,1980-01-01,,M,MDA,,passport,AB1234567,,,")
    report = await import_registry_csv(pool, path, default_state="MD")
    assert report.states == ("MD",)
    with pytest.raises(RegistryImportError):
        await import_registry_csv(pool, path)


@pytest.mark.parametrize(
    ("header", "column"),
    [(HEADER.replace(",sex", ""), "sex"), (HEADER + ",extra", "extra")],
)
async def test_header_problems(
    pool: asyncpg.Pool, tmp_path: Path, header: str, column: str
) -> None:
    with pytest.raises(RegistryImportError) as caught:
        await import_registry_csv(pool, write(tmp_path, header=header))
    assert [(p.line, p.column) for p in caught.value.problems] == [(1, column)]


async def test_missing_file_is_a_problem_not_a_crash(pool: asyncpg.Pool, tmp_path: Path) -> None:
    with pytest.raises(RegistryImportError) as caught:
        await import_registry_csv(pool, tmp_path / "absent.csv")
    assert "no such file" in caught.value.problems[0].message


# --- the adapter --------------------------------------------------------------------------------


def shevchenko(given: str = "Olexandr", **extra: Any) -> Person:
    return Person.model_validate(
        {"surname": "Shevchenko", "given_names": given, "birth_date": date(1990, 5, 17)} | extra
    )


async def test_candidates_by_document_birth_date_and_personal_number(pool: asyncpg.Pool) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    registry = PostgresRegistry(pool)
    by_document = await registry.candidates(
        "UA", shevchenko(birth_date=date(2000, 1, 1)), ["fa 123456"]
    )
    assert [r.person_id for r in by_document] == ["DEMO-UA-001"]
    assert {d.number for d in by_document[0].documents} >= {"FA123456"}
    by_birth = await registry.candidates("UA", shevchenko(), [])
    assert {r.person_id for r in by_birth} == {"DEMO-UA-001", "DEMO-UA-002"}
    unzr = by_document[0].personal_number
    by_number = await registry.candidates(
        "UA", shevchenko(birth_date=date(2000, 1, 1), personal_number=unzr), []
    )
    assert [r.person_id for r in by_number] == ["DEMO-UA-001"]
    assert await registry.candidates("MD", shevchenko(), ["FA123456"]) == []


async def test_candidates_include_swapped_day_and_month(pool: asyncpg.Pool, tmp_path: Path) -> None:
    row = "UA,S1,Шевченко,Олександр,1990-03-07,,M,UKR,,passport,FS1,,,"
    await import_registry_csv(pool, write(tmp_path, row))
    registry = PostgresRegistry(pool)
    swapped = await registry.candidates("UA", shevchenko(birth_date=date(1990, 7, 3)), [])
    assert [r.person_id for r in swapped] == ["S1"]
    assert await registry.candidates("UA", shevchenko(birth_date=date(1990, 7, 4)), []) == []


async def test_lookups_use_the_indexes(pool: asyncpg.Pool) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    async with pool.acquire() as conn:
        await conn.execute("SET enable_seqscan = off")
        for sql in (
            "SELECT person_id FROM registry_persons WHERE state = 'UA' AND birth_date = '1990-1-1'",
            "SELECT person_id FROM registry_persons WHERE state = 'UA' AND personal_number = 'x'",
            "SELECT number FROM registry_documents WHERE state = 'UA' AND person_id = 'x'",
        ):
            plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + sql))
            assert "Seq Scan" not in plan, plan


# --- the activity -------------------------------------------------------------------------------


def request(person: Person, *evidence: GradedEvidence, at: datetime = AT) -> VerifyIdentityInput:
    return VerifyIdentityInput(
        case_id="PL-UA-2027-000123", state="UA", person=person, evidence=evidence, at=at
    )


def passport(number: str, **extra: Any) -> GradedEvidence:
    item = EvidenceItem.model_validate({"kind": "passport", "number": number} | extra)
    return GradedEvidence(item=item, grade=Grade.PROOF)


async def verify(
    pool: asyncpg.Pool,
    req: VerifyIdentityInput,
    heartbeats: list[Any] | None = None,
    registry: PostgresRegistry | None = None,
) -> VerificationOutcome:
    """Run the activity as a case does (person and evidence sealed); return the opened outcome."""
    env = ActivityEnvironment()
    if heartbeats is not None:
        env.on_heartbeat = lambda *details: heartbeats.append(details)
    master = Keyring({"m": bytes(32)}, "m", what="master")
    sealer = await PersonalDataVault(pool, master).create(req.case_id)
    sealed = req.model_copy(
        update={
            "person": sealer.seal_person(req.person),
            "evidence": tuple(
                GradedEvidence(item=sealer.seal_item(g.item), grade=g.grade) for g in req.evidence
            ),
        }
    )
    activities = IdentityActivities(
        registry or PostgresRegistry(pool, name="UA demo registry"),
        PersonalDataVault(pool, master),
    )
    outcome = (await env.run(activities.verify_identity, sealed)).outcome
    assert not outcome.reasons, "the reasons leave the activity sealed"
    return sealer.open_outcome(outcome)


@pytest.mark.parametrize("given", ["Olexandr", "Aleksandr"])
async def test_shevchenko_with_his_passport_is_confirmed(pool: asyncpg.Pool, given: str) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    heartbeats: list[Any] = []
    outcome = await verify(pool, request(shevchenko(given), passport("FA123456")), heartbeats)
    assert outcome.status is VerificationStatus.CONFIRMED
    assert not outcome.interview_needed
    assert outcome.registry == "UA demo registry"
    assert "document FA123456 is registered to this person" in outcome.reasons
    assert "birth date matches" in outcome.reasons
    assert any(
        r.startswith(f"name '{given} Shevchenko' ~ 'Олександр Шевченко'") for r in outcome.reasons
    )
    assert "best registry record DEMO-UA-001" in outcome.reasons[-1]
    assert heartbeats == []  # a quick lookup costs no heartbeat


class SlowRegistry(PostgresRegistry):
    """The real registry behind a slow link."""

    async def candidates(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.35)
        return await super().candidates(*args, **kwargs)


async def test_a_slow_lookup_heartbeats_while_it_runs(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity, "HEARTBEAT_EVERY", 0.1)
    await import_registry_csv(pool, REGISTRY_CSV)
    heartbeats: list[Any] = []
    slow = SlowRegistry(pool, name="UA demo registry")
    outcome = await verify(pool, request(shevchenko(), passport("FA123456")), heartbeats, slow)
    assert outcome.status is VerificationStatus.CONFIRMED
    assert len(heartbeats) >= 2, heartbeats
    assert all(h[0] == {"stage": "registry lookup", "documents": 1} for h in heartbeats)


async def test_lost_passport_is_inconclusive(pool: asyncpg.Pool) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    irina = Person(surname="Kovalenko", given_names="Iryna", birth_date=date(1963, 2, 4))
    outcome = await verify(pool, request(irina, passport("FB456789")))
    assert outcome.status is VerificationStatus.INCONCLUSIVE
    assert outcome.interview_needed
    assert any("FB456789 is registered as lost" in r for r in outcome.reasons)


async def test_unknown_person_is_not_confirmed(pool: asyncpg.Pool) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    nobody = Person(surname="Nobody", given_names="Nemo", birth_date=date(1901, 1, 1))
    outcome = await verify(pool, request(nobody, passport("ZZ000000")))
    assert outcome.status is VerificationStatus.NOT_CONFIRMED
    assert outcome.interview_needed
    assert outcome.reasons[-1] == "no record in the UA registry"


async def test_today_is_the_requested_states_date(pool: asyncpg.Pool) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    expiring = passport("FA123456", valid_until=date(2027, 3, 1))
    late_evening_utc = datetime(2027, 3, 1, 22, 30, tzinfo=UTC)  # 2 March 00:30 in Kyiv
    before = await verify(pool, request(shevchenko(), expiring, at=AT))
    after = await verify(pool, request(shevchenko(), expiring, at=late_evening_utc))
    assert not any("expired" in r for r in before.reasons)
    assert any("expired on 2027-03-01" in r for r in after.reasons)


async def test_logs_carry_no_personal_data(pool: asyncpg.Pool) -> None:
    await import_registry_csv(pool, REGISTRY_CSV)
    with capture_logs() as logs:
        await verify(
            pool, request(shevchenko(personal_number="19900517-38843"), passport("FA123456"))
        )
    (entry,) = [e for e in logs if e["event"] == "identity verified"]
    assert entry["case_id"] == "PL-UA-2027-000123" and entry["state"] == "UA"
    assert entry["status"] == "confirmed" and "workflow_id" in entry
    text = repr(logs)
    for secret in ("Shevchenko", "Olexandr", "1990", "FA123456", "19900517"):
        assert secret not in text


async def test_database_errors_fail_the_attempt_for_temporal_to_retry(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await pool.execute("DROP TABLE registry_documents")
    with capture_logs() as logs, pytest.raises(ApplicationError) as failed:
        await verify(pool, request(shevchenko(), passport("FA123456")))
    assert failed.value.type == "RegistryLookupFailed" and not failed.value.non_retryable
    assert failed.value.message == "registry lookup failed (UndefinedTableError)"
    assert logs[-1]["event"] == "registry lookup failed"
    assert logs[-1]["error"] == "UndefinedTableError"


class NameQuotingRegistry(PostgresRegistry):
    """A registry whose query fails the way drivers do: quoting the value it was given."""

    async def candidates(
        self, state: str, person: Person, document_numbers: Sequence[str]
    ) -> list[RegistryRecord]:
        await self.pool.fetchval("SELECT $1::text::date", person.surname)
        return []


async def test_a_driver_error_quoting_the_person_never_reaches_the_failure(
    pool: asyncpg.Pool,
) -> None:
    """The failure's text goes to Temporal (and its history once retries are spent): it names
    what failed and the error's class, never the driver's message or its cause."""
    with pytest.raises(asyncpg.InvalidDatetimeFormatError, match="Shevchenko"):
        await pool.fetchval("SELECT $1::text::date", "Shevchenko")  # what the driver says
    registry = NameQuotingRegistry(pool, name="UA registry")
    with pytest.raises(ApplicationError) as failed:
        await verify(pool, request(shevchenko(), passport("FA123456")), registry=registry)
    error = failed.value
    assert error.type == "RegistryLookupFailed"
    assert error.message == "registry lookup failed (InvalidDatetimeFormatError)"
    assert error.__cause__ is None and error.__suppress_context__
    failure = Failure()
    DefaultFailureConverter().to_failure(error, DefaultPayloadConverter(), failure)
    assert b"Shevchenko" not in failure.SerializeToString()


# --- the CLI -----------------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # a group with one sub-app needs a sibling to keep its name
    registry_cli.register(app)
    return app


def test_cli_imports_and_summarises(database_url: str, db_schema: str) -> None:
    args = ["registry", "import", str(REGISTRY_CSV), "--database-url", database_url]
    result = CliRunner().invoke(cli(), [*args, "--schema", db_schema])
    assert result.exit_code == 0, result.output
    persons, documents = demo_counts()
    assert f"persons:   {persons} ({persons} new, 0 updated, 0 unchanged)" in result.output
    assert f"documents: {documents} ({documents} new" in result.output


def test_cli_bad_file_exits_2_with_one_line_per_problem(
    database_url: str, db_schema: str, tmp_path: Path
) -> None:
    rows = [f"UA,P{i},Шевчук,Олександр,1990-13-{i:02d},,M,UKR,,passport,N{i},,," for i in range(25)]
    path = write(tmp_path, *rows)
    args = ["registry", "import", str(path), "--database-url", database_url, "--schema", db_schema]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("readmit: registry.csv line 2, column birth_date: ")
    assert "readmit: and 5 more" in lines
    assert lines[-1] == "readmit: nothing imported (25 problem(s))"
    assert "Traceback" not in result.output
    assert asyncio.run(_count_in(database_url, db_schema)) == 0


def test_cli_unreachable_database_exits_2() -> None:
    args = [
        "registry",
        "import",
        str(REGISTRY_CSV),
        "--database-url",
        "postgresql://nobody@127.0.0.1:1/x",
    ]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 2
    assert result.output.startswith("readmit: cannot connect to PostgreSQL")


async def _count_in(database_url: str, schema: str) -> int:
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    try:
        return int(await conn.fetchval("SELECT count(*) FROM registry_persons"))
    finally:
        await conn.close()
