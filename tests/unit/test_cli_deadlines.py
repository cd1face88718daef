"""`readmit deadlines` and `readmit agreements`: JSON output, one-line errors, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from adapters.settings import get_settings
from readmit.cli import agreements

FIXTURES = Path(__file__).parents[1] / "fixtures" / "agreements"
BASE = [
    "deadlines",
    "--agreement",
    "EU-UA",
    "--limit",
    "reply",
    "--requesting",
    "PL",
    "--requested",
    "UA",
]


@pytest.fixture(autouse=True)
def no_operator_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("READMIT_AGREEMENTS_DIR", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    agreements.register(app)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_reply_deadline_as_json(app: typer.Typer) -> None:
    code, out, err = run(app, *BASE, "--from", "2027-01-04T10:00:00+01:00")
    assert code == 0, err
    data = json.loads(out)
    assert data["due"] == "2027-01-18T23:59:59+02:00"
    assert (data["amount"], data["unit"], data["calendar"]) == (14, "calendar_days", "UA")
    assert data["verified"] is False
    assert data["source"].startswith("Art. 8(2)")
    assert data["time_zone"] == "Europe/Kyiv"
    assert data["triggered_at"] == "2027-01-04T10:00:00+01:00"
    assert "not verified" in err


def test_extended_and_obstacle_days(app: typer.Typer) -> None:
    code, out, _ = run(app, *BASE, "--from", "2027-01-04T10:00:00+01:00", "--extended")
    assert code == 0
    assert json.loads(out)["due"] == "2027-03-05T23:59:59+02:00"
    transfer = ["--limit", "transfer", "--from", "2027-01-04T10:00:00+01:00", "--extra-days", "10"]
    code, out, _ = run(app, *BASE, *transfer)
    assert code == 0
    data = json.loads(out)
    assert (data["due"], data["extra_days"], data["calendar"]) == (
        "2027-04-14T23:59:59+02:00",
        10,
        "PL",
    )


def test_protocol_option_and_protocol_file(app: typer.Typer) -> None:
    args = [*BASE, "--from", "2027-01-04T10:00:00+01:00", "--protocol", "PL"]
    code, out, _ = run(app, *args, "--agreement-file", str(FIXTURES / "eu-ua.pl.reply10.toml"))
    assert code == 0
    assert json.loads(out)["due"] == "2027-01-14T23:59:59+02:00"


def test_custom_agreement_file(app: typer.Typer) -> None:
    code, out, err = run(
        app,
        "deadlines",
        "--agreement",
        "UA-MD",
        "--agreement-file",
        str(FIXTURES / "ua-md.toml"),
        "--limit",
        "reply",
        "--requesting",
        "UA",
        "--requested",
        "MD",
        "--from",
        "2027-01-05T12:00:00+02:00",
    )
    assert code == 0, err
    data = json.loads(out)
    # 10 Moldovan working days, skipping 7-8 January (Christmas, old style)
    assert data["due"] == "2027-01-21T23:59:59+02:00"
    assert (data["verified"], data["source"]) == (True, "fixture: 10 working days")
    assert err == ""


def test_agreements_dir_from_settings(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ua-md.toml").write_text((FIXTURES / "ua-md.toml").read_text(encoding="utf-8"))
    monkeypatch.setenv("READMIT_AGREEMENTS_DIR", str(tmp_path))
    get_settings.cache_clear()
    code, out, _ = run(
        app,
        "deadlines",
        *("--agreement", "UA-MD", "--limit", "transfer", "--requesting", "UA"),
        *("--requested", "MD", "--from", "2027-01-05T12:00:00+02:00"),
    )
    assert code == 0
    # 30 calendar days in Kyiv end on Thu 4 Feb
    assert json.loads(out)["due"] == "2027-02-04T23:59:59+02:00"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--agreement", "EU-XX"], "unknown agreement 'EU-XX'"),
        (["--limit", "coffee"], "unknown limit 'coffee'"),
        (["--requested", "XX"], "XX is not a party to EU-UA"),
        (["--requesting", "DK"], "DK is excluded from EU-UA"),
        (["--protocol", "DE"], "no DE protocol for EU-UA"),
        (["--from", "2027-01-04T10:00:00"], "has no UTC offset"),
        (["--from", "next tuesday"], "is not an ISO 8601 instant"),
        (["--limit", "submission", "--extended"], "no 'up_to' extension"),
        (["--extra-days", "-3"], "cannot be negative"),
        (["--agreement-file", str(FIXTURES / "broken.toml")], "8 problems in agreement files"),
        (["--agreement-file", str(FIXTURES / "syntax-error.toml")], "at line 4, column 23"),
    ],
)
def test_bad_input_exits_2_with_one_line(app: typer.Typer, args: list[str], reason: str) -> None:
    full = [*BASE, "--from", "2027-01-04T10:00:00+01:00"]
    for i in range(0, len(args), 2):  # a repeated option takes its last value
        full += args[i : i + 2]
    code, out, err = run(app, *full)
    assert code == 2
    assert out == ""
    assert reason in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_agreements_list(app: typer.Typer) -> None:
    code, out, _ = run(app, "agreements", "list", "--json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    assert set(rows) == {"EU-UA", "EU-MD", "EU-BY", "EU-GE", "EU-RU"}
    assert rows["EU-BY"]["status"] == "suspended by BY since 2021-10-14"
    assert rows["EU-UA"]["protocols"] == ["AT", "PL"]
    code, out, _ = run(app, "agreements", "list")
    assert code == 0
    assert out.splitlines()[0].split() == [
        "ID",
        "PARTIES",
        "IN",
        "FORCE",
        "STATUS",
        "PROTOCOLS",
        "UNVERIFIED",
        "FILE",
    ]
    assert any(line.startswith("EU-GE") for line in out.splitlines())


def test_agreements_show(app: typer.Typer) -> None:
    code, out, _ = run(app, "agreements", "show", "EU-UA", "--protocol", "PL", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["files"] == ["eu-ua.toml", "protocols/eu-ua.pl.toml"]
    assert data["limits"]["reply"]["from"] == "receipt"
    assert "Medyka–Shehyni" in data["transfer"]["bcps"]
    code, out, _ = run(app, "agreements", "show", "EU-GE")
    assert code == 0
    assert "  reply: 12 calendar_days from receipt" in out
    assert "[verified]" in out and "[UNVERIFIED]" in out
    code, _, err = run(app, "agreements", "show", "EU-XX")
    assert code == 2 and "unknown agreement" in err


def test_agreements_check(app: typer.Typer) -> None:
    code, out, _ = run(app, "agreements", "check", str(FIXTURES / "ua-md.toml"))
    assert code == 0
    assert out.startswith("ok: 1 file(s), defining UA-MD")
    code, out, err = run(
        app,
        "agreements",
        "check",
        str(FIXTURES / "broken.toml"),
        str(FIXTURES / "syntax-error.toml"),
    )
    assert code == 2
    assert len(out.splitlines()) == 9
    assert "broken.toml: limits.reply.unit: Input should be" in out
    assert "9 problem(s) found" in err
