"""`readmit identity`: exit codes 0/1/2 and the JSON each command prints."""

from __future__ import annotations

import json
from typing import Any

import typer
from typer.testing import CliRunner, Result

from domain.identity.mrz import check_digit
from readmit.cli.identity import register

TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
TD1 = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]


def run(*args: str) -> Result:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, ["identity", *args])


def output(result: Result) -> dict[str, Any]:
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def born(yymmdd: str) -> list[str]:
    """The TD3 specimen with another birth date, all check digits recomputed."""
    l2 = f"L898902C36UTO{yymmdd}{check_digit(yymmdd)}F1204159ZE184226B<<<<<1"
    return [TD3[0], l2 + str(check_digit(l2[0:10] + l2[13:20] + l2[21:43]))]


def assert_one_line_error(result: Result, text: str) -> None:
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("readmit: ") and result.stderr.count("\n") == 1
    assert text in result.stderr
    assert "Traceback" not in result.output


def test_group_is_registered_with_its_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert all(name in result.stdout for name in ("mrz", "unzr", "match"))


def test_mrz_valid_td3_exits_0_with_fields_and_checks() -> None:
    result = run("mrz", *TD3)
    assert result.exit_code == 0, result.output
    data = output(result)
    assert (data["valid"], data["format"]) == (True, "TD3")
    assert data["fields"]["document_number"] == "L898902C3"
    assert data["fields"]["birth_date"] == "1974-08-12"
    assert [c["name"] for c in data["checks"] if c["kind"] == "check_digit"] == [
        "document_number", "birth_date", "expiry_date", "personal_number", "composite"]  # fmt: skip
    assert all(set(c) >= {"name", "expected", "actual", "ok"} for c in data["checks"])


def test_mrz_td1_as_three_arguments_or_one() -> None:
    assert output(run("mrz", *TD1))["format"] == "TD1"
    assert output(run("mrz", "\n".join(TD1)))["valid"] is True


def test_mrz_failed_check_exits_1_and_names_it() -> None:
    broken = [TD3[0], TD3[1].replace("L898902C36", "L898902C37")]
    result = run("mrz", *broken)
    assert result.exit_code == 1
    data = output(result)
    assert data["valid"] is False
    failed = [c for c in data["checks"] if not c["ok"]]
    assert [c["name"] for c in failed] == ["document_number", "composite"]
    assert (failed[0]["expected"], failed[0]["actual"]) == ("6", "7")


def test_mrz_that_is_not_an_mrz_exits_2_with_one_line() -> None:
    assert_one_line_error(run("mrz", "hello"), "an MRZ has 3 lines of 30")
    assert_one_line_error(run("mrz", TD3[0].lower(), TD3[1]), "line 1 position 1")


def test_mrz_today_resolves_the_birth_century() -> None:
    assert output(run("mrz", *born("250101"), "--today", "2024-06-01"))["fields"]["birth_date"] == (
        "1925-01-01"
    )
    assert output(run("mrz", *born("250101"), "--today", "2026-06-01"))["fields"]["birth_date"] == (
        "2025-01-01"
    )
    assert_one_line_error(run("mrz", *TD3, "--today", "tomorrow"), "--today 'tomorrow'")


def test_unzr_exit_codes() -> None:
    valid = run("unzr", "19900517-01232")
    assert valid.exit_code == 0
    assert (output(valid)["valid"], output(valid)["birth_date"]) == (True, "1990-05-17")
    assert output(valid)["check"]["expected"] == "2"
    wrong = run("unzr", "19900517-01230")
    assert wrong.exit_code == 1
    assert output(wrong)["reason"] == "check digit is 0, expected 2"
    assert_one_line_error(run("unzr", "not-a-number"), "YYYYMMDD-NNNNC")


def test_match_prints_score_and_reasons_and_exits_0() -> None:
    result = run("match", "Олександр Шевченко", "Aleksandr Shevchenko")
    assert result.exit_code == 0
    data = output(result)
    assert data["score"] >= data["threshold"] and data["is_match"] is True
    assert any("'Шевченко' = 'Shevchenko'" in r for r in data["reasons"])
    different = output(run("match", "Ivan Petrov", "Ivanna Petrova"))
    assert different["score"] <= 0.5 and different["is_match"] is False
