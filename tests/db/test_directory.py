"""Loading the officers' directory: every problem reported with its place, imports atomic."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import typer
from asyncpg.pool import PoolConnectionProxy
from typer.testing import CliRunner

from adapters.directory import (
    DirectoryError,
    ImportSummary,
    Officer,
    import_directory,
    load_directory,
    parse_csv,
    parse_toml,
)
from adapters.settings import get_settings
from adapters.temporal.codec import Keyring
from readmit.cli import directory as directory_cli

DEMO = Path(__file__).parents[2] / "readmit" / "demo" / "officers.toml"

GOOD_TOML = """
[[officer]]
user_id = "anna.pl"
state = "PL"
role = "officer"
display_name = "Anna Nowak"
email = "anna@border.example"
locale = "pl"

[[officer]]
user_id = "piotr.pl"
state = "PL"
role = "supervisor"
display_name = "Piotr Zieliński"
webhook_url = "https://hooks.border.example/readmit"

[[officer]]
user_id = "olena.ua"
state = "UA"
role = "officer"
display_name = "Olena Kovalenko"
"""

GOOD_CSV = """user_id,state,role,display_name,email,webhook_url,locale
anna.pl,PL,officer,Anna Nowak,anna@border.example,,pl
piotr.pl,PL,supervisor,Piotr Zieliński,,https://hooks.border.example/readmit,
olena.ua,UA,officer,Olena Kovalenko,,,
"""


def toml(*entries: dict[str, str]) -> list[Officer]:
    text = "".join(
        "[[officer]]\n" + "".join(f'{k} = "{v}"\n' for k, v in e.items()) for e in entries
    )
    return parse_toml(text, "test.toml")


def entry(user_id: str, state: str = "PL", **more: str) -> dict[str, str]:
    return {"user_id": user_id, "state": state, "role": "officer", "display_name": user_id} | more


async def officers(pool: asyncpg.Pool) -> dict[str, asyncpg.Record]:
    return {r["user_id"]: r for r in await pool.fetch("SELECT * FROM officers")}


MASTER = Keyring.from_encoded({"master-1": Keyring.new_key()}, "master-1", what="master")


async def imported(
    conn: asyncpg.Connection | PoolConnectionProxy, entries: list[Officer], **options: bool
) -> ImportSummary:
    return await import_directory(conn, entries, master=MASTER, **options)


# --- checking files --------------------------------------------------------------------------


def test_toml_and_csv_give_the_same_officers() -> None:
    from_toml = parse_toml(GOOD_TOML, "d.toml")
    assert parse_csv(GOOD_CSV, "d.csv") == from_toml
    assert [o.locale for o in from_toml] == ["pl", "en", "en"]
    assert from_toml[1].email is None


def test_every_problem_in_a_toml_file_is_reported_with_line_entry_and_field() -> None:
    text = """
[[officer]]
user_id = "anna.pl"
state = "pl"
role = "officer"
display_name = "Anna"

[[officer]]
user_id = "piotr pl"
state = "PL"
role = "boss"
email = "not-an-address"
phone = "+48 123"

[[officer]]
user_id = "anna.pl"
state = "PL"
role = "officer"
webhook_url = "ftp://example.org/x"
"""
    with pytest.raises(DirectoryError) as caught:
        parse_toml(text, "officers.toml")
    reported = {str(p) for p in caught.value.problems}
    assert reported == {
        "officers.toml:2: officer #1: state: two capital letters (ISO 3166-1 alpha-2), not 'pl'",
        "officers.toml:2: officer #1: user_id: 'anna.pl' appears 2 times",
        "officers.toml:8: officer #2: user_id: 1-100 letters, digits or . _ @ -",
        "officers.toml:8: officer #2: role: Input should be 'officer', 'supervisor', 'auditor'"
        " or 'admin'",
        "officers.toml:8: officer #2: display_name: required",
        "officers.toml:8: officer #2: email: not an e-mail address",
        "officers.toml:8: officer #2: phone: unknown field",
        "officers.toml:15: officer #3: display_name: required",
        "officers.toml:15: officer #3: webhook_url: not an http(s) URL",
        "officers.toml:15: officer #3: user_id: 'anna.pl' appears 2 times",
    }


def test_csv_problems_name_the_line_and_bad_headers_are_refused() -> None:
    text = "user_id,state,role,display_name,email\nanna.pl,PL,officer,Anna,\nx,PLN,officer,,\n"
    with pytest.raises(DirectoryError) as caught:
        parse_csv(text, "d.csv")
    assert {str(p) for p in caught.value.problems} == {
        "d.csv:3: officer #2: state: two capital letters (ISO 3166-1 alpha-2), not 'PLN'",
        "d.csv:3: officer #2: display_name: String should have at least 1 character",
    }
    with pytest.raises(DirectoryError) as caught:
        parse_csv("user_id,state,name\n", "d.csv")
    assert [str(p) for p in caught.value.problems] == [
        "d.csv:1: unknown column(s): ['name']",
        "d.csv:1: missing column(s): ['role', 'display_name']",
    ]


def test_unreadable_and_empty_files_are_problems_too(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[officer]]\nuser_id = "a\n')
    empty = tmp_path / "empty.toml"
    empty.write_text("# nobody yet\n")
    for path, expected in [
        (broken, "broken.toml: Illegal character"),
        (empty, "empty.toml: no officers in the file"),
        (tmp_path / "missing.toml", "missing.toml: No such file or directory"),
        (tmp_path / "d.json", "d.json: "),
    ]:
        with pytest.raises(DirectoryError) as caught:
            load_directory(path)
        assert str(caught.value.problems[0]).startswith(expected)


def test_the_demo_directory_is_valid_and_staffs_every_demo_state() -> None:
    demo = load_directory(DEMO)
    staffed = {(o.state, o.role) for o in demo}
    for state in ("PL", "UA", "MD", "RO", "DE"):
        assert {(state, "officer"), (state, "supervisor"), (state, "auditor")} <= staffed
    assert any(o.role == "admin" for o in demo)
    assert {"anna.pl", "piotr.pl", "olena.ua", "taras.ua"} <= {o.user_id for o in demo}


# --- importing -------------------------------------------------------------------------------


async def test_import_adds_then_is_idempotent(pool: asyncpg.Pool) -> None:
    entries = parse_toml(GOOD_TOML)
    async with pool.acquire() as conn:
        first = await imported(conn, entries)
        stored = await officers(pool)
        second = await imported(conn, entries)

    assert first.added == ("anna.pl", "piotr.pl", "olena.ua") and first.total == 3
    assert (second.added, second.updated) == ((), ())
    assert second.unchanged == ("anna.pl", "piotr.pl", "olena.ua")
    assert await officers(pool) == stored  # not even updated_at moved
    anna = stored["anna.pl"]
    assert (anna["state"], anna["role"], anna["email"], anna["locale"], anna["active"]) == (
        "PL",
        "officer",
        "anna@border.example",
        "pl",
        True,
    )
    assert stored["piotr.pl"]["webhook_url"] == "https://hooks.border.example/readmit"


async def test_import_updates_changed_officers(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await imported(conn, toml(entry("anna.pl"), entry("ion.md", "MD")))
        summary = await imported(
            conn, toml(entry("anna.pl", email="anna@border.example"), entry("ion.md", "MD"))
        )
    assert (summary.added, summary.updated, summary.unchanged) == ((), ("anna.pl",), ("ion.md",))
    assert (await officers(pool))["anna.pl"]["email"] == "anna@border.example"


async def test_missing_officers_are_deactivated_only_when_asked(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await imported(conn, toml(entry("a.pl"), entry("b.pl"), entry("c.pl")))
        kept = await imported(conn, toml(entry("a.pl"), entry("b.pl")))
        assert kept.deactivated == () and (await officers(pool))["c.pl"]["active"]

        dropped = await imported(conn, toml(entry("a.pl"), entry("b.pl")), deactivate_missing=True)
        assert dropped.deactivated == ("c.pl",)
        assert not (await officers(pool))["c.pl"]["active"]

        back = await imported(conn, toml(entry("a.pl"), entry("b.pl"), entry("c.pl")))
    assert back.updated == ("c.pl",)  # being in the file makes an officer active again
    assert all(r["active"] for r in (await officers(pool)).values())


async def test_a_failing_import_writes_nothing(pool: asyncpg.Pool) -> None:
    good = Officer(user_id="anna.pl", state="PL", role="officer", display_name="Anna")
    bad = Officer.model_construct(  # slips past the file checks; the table refuses it
        user_id="ion.md", state="Moldova", role="officer", display_name="Ion", locale="ro"
    )
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError):
            await imported(conn, [good, bad])
    assert await officers(pool) == {}


# --- the command -----------------------------------------------------------------------------


def cli() -> typer.Typer:
    app = typer.Typer()
    directory_cli.register(app)
    return app


@pytest.fixture
def master_env(
    monkeypatch: pytest.MonkeyPatch, master_keys: dict[str, str], tmp_path: Path
) -> Iterator[None]:
    """The CLI's settings: the session's master key, a home of the test's own."""
    monkeypatch.setenv("READMIT_MASTER_KEYS", json.dumps(master_keys))
    monkeypatch.setenv("READMIT_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("master_env")
def test_cli_imports_and_prints_a_summary(
    database_url: str, db_schema: str, tmp_path: Path
) -> None:
    file = tmp_path / "officers.csv"
    file.write_text(GOOD_CSV)
    args = ["directory", "import", str(file), "--database-url", database_url]
    runner = CliRunner()

    first = runner.invoke(cli(), [*args, "--schema", db_schema])
    file.write_text(GOOD_CSV.replace("olena.ua,UA", "taras.ua,UA"))
    second = runner.invoke(cli(), [*args, "--schema", db_schema, "--deactivate-missing"])

    assert first.exit_code == 0, first.output
    summary, secret = first.stdout.splitlines()
    assert summary == "officers.csv: 3 officers: 3 added, 0 updated, 0 unchanged, 0 deactivated"
    assert re.fullmatch(r"webhook secret of piotr\.pl: whsec_[A-Za-z0-9+/]{43}=", secret)
    assert first.stderr.splitlines() == [
        "give it to the owner of https://hooks.border.example/readmit; it is not shown again"
    ]
    assert second.exit_code == 0, second.output
    assert second.output.splitlines() == [  # the secret is not shown again
        "officers.csv: 3 officers: 1 added, 0 updated, 2 unchanged, 1 deactivated",
        "deactivated: olena.ua",
    ]


@pytest.mark.usefixtures("master_env")
def test_cli_refuses_bad_input_with_one_line_per_problem(
    database_url: str, db_schema: str, tmp_path: Path
) -> None:
    file = tmp_path / "officers.toml"
    file.write_text('[[officer]]\nuser_id = "anna.pl"\nstate = "Poland"\nrole = "officer"\n')
    args = ["directory", "import", str(file), "--database-url", database_url, "--schema", db_schema]

    result = CliRunner().invoke(cli(), args)
    file.write_text(GOOD_TOML)
    unreachable = CliRunner().invoke(
        cli(), [*args[:3], "--database-url", "postgresql://nobody@127.0.0.1:1/none"]
    )

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "readmit: officers.toml:1: officer #1: state: two capital letters (ISO 3166-1 alpha-2),"
        " not 'Poland'",
        "readmit: officers.toml:1: officer #1: display_name: required",
    ]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert unreachable.exit_code == 2
    assert unreachable.stderr.startswith("readmit: cannot connect to PostgreSQL:")
    assert "Traceback" not in unreachable.output
