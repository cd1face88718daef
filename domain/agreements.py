"""Readmission agreements and implementing protocols as data.

An `Agreement` is the parsed form of one agreement file; a `Protocol` overlays one agreement for
one Member State. `resolve_terms` merges the two into the `AgreementTerms` a case runs under: the
case records those terms when it opens, so later catalogue edits never change a running case.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

StateCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")]

LIMIT_NAMES: tuple[str, ...] = (
    "submission",
    "accelerated_submission",
    "reply",
    "accelerated_reply",
    "transfer",
    "readmission_in_error",
    "transit_reply",
)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Unit(StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    MONTHS = "months"
    YEARS = "years"
    HOURS = "hours"


class Trigger(StrEnum):
    """The event a limit counts from."""

    KNOWLEDGE = "knowledge"
    APPREHENSION = "apprehension"
    RECEIPT = "receipt"
    ACCEPTANCE = "acceptance"
    TRANSFER = "transfer"
    NOTICE = "notice"


class OnExpiry(StrEnum):
    DEEMED_ACCEPTED = "deemed_accepted"
    ESCALATE = "escalate"
    LAPSED = "lapsed"


class Sourced(Frozen):
    """Every shipped parameter says where it comes from and whether that was checked."""

    source: str = ""
    verified: bool = False


class Extension(Frozen):
    """How a limit may be extended: to a larger amount (`up_to`) or by the obstacle's duration."""

    up_to: int | None = Field(default=None, gt=0)
    unit: Unit | None = None
    by: Literal["obstacle"] | None = None
    max_days: int | None = Field(default=None, gt=0, description="cap for an obstacle extension")

    @model_validator(mode="after")
    def _one_kind(self) -> Extension:
        if (self.up_to is None) == (self.by is None):
            raise ValueError("give exactly one of 'up_to' (with 'unit') or 'by = \"obstacle\"'")
        return self


class Limit(Sourced):
    amount: int = Field(gt=0)
    unit: Unit
    from_: Trigger = Field(alias="from")
    calendar: str = Field(
        default="requested",
        pattern=r"^(requested|requesting|both|[A-Z]{2})$",
        description="whose working days and time zone govern: requested | requesting | both | ISO code",
    )
    roll_forward: bool = False
    extension: Extension | None = None
    on_expiry: OnExpiry = OnExpiry.ESCALATE

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class BorderRegion(Sourced):
    land_km: float | None = Field(default=None, ge=0)
    sea_ports: bool = False
    international_airports: bool = False


class Suspension(Frozen):
    from_: date = Field(alias="from")
    by: StateCode
    until: date | None = None
    reason: str = ""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class EvidenceGrades(Frozen):
    proof_of_nationality: tuple[str, ...] = ()
    prima_facie_nationality: tuple[str, ...] = ()
    proof_tcn: tuple[str, ...] = ()
    prima_facie_tcn: tuple[str, ...] = ()


class TransferRules(Sourced):
    notice_working_days: int | None = Field(default=None, ge=0)
    notice_reply_working_days: int | None = Field(default=None, ge=0)
    silence_is_consent: bool = False
    bcps: tuple[str, ...] = ()
    modes: tuple[str, ...] = ("air", "land", "sea")


class Retention(Sourced):
    personal_data_days_after_close: int = Field(default=1095, gt=0)


class Agreement(Frozen):
    id: str = Field(pattern=r"^[A-Z]{2,3}-[A-Z]{2,3}$")
    title: str
    parties: tuple[str, str]
    excluded_states: tuple[StateCode, ...] = ()
    in_force: date
    tcn_obligations_from: date | None = None
    suspensions: tuple[Suspension, ...] = ()
    time_zones: dict[str, str] = Field(
        default_factory=dict, description="IANA zone per state, overriding the built-in table"
    )
    border_region: BorderRegion = BorderRegion()
    limits: dict[str, Limit]
    evidence: EvidenceGrades = EvidenceGrades()
    transfer: TransferRules = TransferRules()
    retention: Retention = Retention()
    source: str = ""
    verified: bool = False

    @model_validator(mode="after")
    def _known_limits(self) -> Agreement:
        unknown = sorted(set(self.limits) - set(LIMIT_NAMES))
        if unknown:
            raise ValueError(f"unknown limit name(s) {unknown}; known: {list(LIMIT_NAMES)}")
        return self


class Protocol(Frozen):
    """An implementing protocol: overrides for one agreement and one Member State."""

    agreement: str
    state: StateCode
    title: str = ""
    in_force: date | None = None
    limits: dict[str, Limit] = Field(default_factory=dict)
    border_region: BorderRegion | None = None
    evidence: EvidenceGrades | None = None
    transfer: TransferRules | None = None
    time_zones: dict[str, str] = Field(default_factory=dict)
    source: str = ""
    verified: bool = False


class AgreementTerms(Frozen):
    """The agreement as it applies between two states, with a protocol merged in if any."""

    agreement_id: str
    protocol_state: StateCode | None = None
    title: str
    requesting: StateCode
    requested: StateCode
    in_force: date
    tcn_obligations_from: date | None
    suspensions: tuple[Suspension, ...]
    time_zones: dict[str, str]
    border_region: BorderRegion
    limits: dict[str, Limit]
    evidence: EvidenceGrades
    transfer: TransferRules
    retention: Retention

    @property
    def unverified_parameters(self) -> tuple[str, ...]:
        """Names of limits whose values research has not confirmed."""
        return tuple(sorted(name for name, lim in self.limits.items() if not lim.verified))
