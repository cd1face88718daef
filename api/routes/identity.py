"""Identity helpers for the people who examine applications: MRZ check digits, Ukraine's UNZR,
and names across scripts. Each answers the JSON `readmit identity` prints, from the same code.

Officers, supervisors and auditors may use them; administrators manage the directory and get 403.
The checks are CPU work, so the handlers are plain functions (run in the thread pool).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.deps import principal
from api.problems import Problem
from domain.identity.mrz import MrzResult, NotAnMrz, read_mrz
from domain.identity.names import name_match
from domain.identity.unzr import UnzrResult, validate_unzr

router = APIRouter(
    prefix="/identity",
    tags=["identity"],
    responses={403: {"description": "administrators cannot use these checks (problem+json)"}},
)


def examiner(caller: Annotated[Principal, Depends(principal)]) -> Principal:
    """Officers, supervisors and auditors: the people who examine a person's identity."""
    if caller.role not in ("officer", "supervisor", "auditor"):
        raise Problem(
            403, "Forbidden", f"a {caller.role} cannot use the identity checks", type_="forbidden"
        )
    return caller


ExaminerDep = Annotated[Principal, Depends(examiner)]
MrzLine = Annotated[str, Field(min_length=1, max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class MrzBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[MrzLine] = Field(
        min_length=1,
        max_length=3,
        description="the MRZ lines (2 or 3), or one string holding them all",
        examples=[
            [
                "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
            ]
        ],
    )
    today: date | None = Field(
        default=None, description="reference date for two-digit years (default: today)"
    )


class MatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    a: Name = Field(examples=["Олександр Шевченко"])
    b: Name = Field(examples=["Oleksandr Shevchenko"])


class UnzrBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Annotated[str, Field(min_length=1, max_length=40, examples=["19900517-01234"])]


class WordMatchOut(BaseModel):
    a: str
    b: str
    score: float
    variant_a: str
    variant_b: str
    gender_mismatch: bool


class NameMatchOut(BaseModel):
    score: float
    is_match: bool
    reasons: list[str]
    best_variant_a: str
    best_variant_b: str
    pairs: list[WordMatchOut]
    threshold: float


def _not_usable(field: str, message: str) -> Problem:
    return Problem(
        422,
        "Invalid input",
        message,
        type_="invalid-input",
        errors=[{"field": field, "in": "body", "message": message, "type": "value_error"}],
    )


@router.post(
    "/mrz",
    response_model=MrzResult,
    summary="Parse an ICAO Doc 9303 MRZ (TD1, TD2, TD3) and verify every check digit",
)
def mrz(body: MrzBody, _: ExaminerDep) -> MrzResult:
    try:
        return read_mrz(body.lines, body.today or date.today())
    except NotAnMrz as error:
        raise _not_usable("lines", str(error)) from error


@router.post(
    "/match",
    response_model=NameMatchOut,
    summary="Score how likely two names denote the same person, with the reasons",
)
def match(body: MatchBody, _: ExaminerDep) -> dict[str, Any]:
    return name_match(body.a, body.b)


@router.post(
    "/unzr",
    response_model=UnzrResult,
    summary="Validate a UNZR (Ukraine's demographic register number) and show its birth date",
)
def unzr(body: UnzrBody, _: ExaminerDep) -> UnzrResult:
    result = validate_unzr(body.number)
    if not result.well_formed:
        raise _not_usable("number", result.reason)
    return result
