"""Readmission agreements and implementing protocols as data.

An `Agreement` is the parsed form of one agreement file; a `Protocol` overlays one agreement for
one Member State. `domain.terms.resolve_terms` merges the two into the `AgreementTerms` a case runs
under: the case records those terms when it opens, so later catalogue edits never change a running
case.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, assert_never

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

StateCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")]

LIMIT_NAMES: tuple[str, ...] = (
    "submission",
    "accelerated_submission",
    "reply",
    "accelerated_reply",
    "transfer",
    "readmission_in_error",
    "error_answer",
    "error_return",
    "transit_reply",
    "transfer_notice_reply",
)
# the other side's answer to a transfer notice: usually given by a protocol's `[transfer]`
# section (`domain.terms.notice_reply_limit`), so an agreement file need not name it
NOTICE_REPLY = "transfer_notice_reply"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Category(StrEnum):
    """Whom an application concerns. The agreements' provisions for third-country nationals
    (their annexes of evidence, their submission window, their transition period) cover
    stateless persons as well, unless a file says otherwise."""

    OWN_NATIONAL = "own_national"
    THIRD_COUNTRY_NATIONAL = "third_country_national"
    STATELESS = "stateless"

    @property
    def under_tcn_provisions(self) -> bool:
        """Whether the provisions for third-country nationals apply (TCN and stateless)."""
        return self is not Category.OWN_NATIONAL


def _some_category(categories: tuple[Category, ...]) -> tuple[Category, ...]:
    if not categories:
        raise ValueError("name at least one category, or leave 'applies_to' out for every one")
    return categories


# The categories a limit binds: none given = every category.
AppliesTo = Annotated[tuple[Category, ...], AfterValidator(_some_category)]


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
    CLAIM = "claim"  # a claim of readmission in error


class OnExpiry(StrEnum):
    DEEMED_ACCEPTED = "deemed_accepted"
    DEEMED_CONFIRMED = "deemed_confirmed"  # silence on a transfer notice confirms the transfer
    ESCALATE = "escalate"
    LAPSED = "lapsed"
    # a transit reply limit whose terms say silence is consent (`[transit] silence_is_consent`):
    # set on the computed deadline by `domain.transit`, never written in a limit of a file
    DEEMED_CONSENTED = "deemed_consented"


# The limits whose expiry may carry each deemed consequence (`Agreement` checks the files).
DEEMED_BY_LIMIT: dict[OnExpiry, frozenset[str]] = {
    OnExpiry.DEEMED_ACCEPTED: frozenset({"reply", "accelerated_reply", "error_answer"}),
    OnExpiry.DEEMED_CONFIRMED: frozenset({"transfer_notice_reply"}),
    OnExpiry.DEEMED_CONSENTED: frozenset(),
}


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
        description="whose working days and time zone govern: requested|requesting|both|ISO code",
    )
    roll_forward: bool = False
    extension: Extension | None = None
    on_expiry: OnExpiry = OnExpiry.ESCALATE
    applies_to: AppliesTo | None = Field(
        default=None, description="the categories of person the limit binds; none = every one"
    )

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def binds(self, category: Category | None) -> bool:
        """Whether the limit runs for a case of `category` (a limit that does not is never
        started for it: nothing reminds, lapses or refuses)."""
        return self.applies_to is None or category in self.applies_to

    @model_validator(mode="after")
    def _extension_lengthens(self) -> Limit:
        ext = self.extension
        if ext is None or ext.up_to is None or (ext.unit or self.unit) is not self.unit:
            return self
        if ext.up_to <= self.amount:
            raise ValueError(
                f"extension.up_to ({ext.up_to}) must exceed amount ({self.amount}): "
                "an extension never shortens a limit"
            )
        return self


class LimitOverride(Frozen):
    """A protocol's change to one limit: only the keys given replace the agreement's."""

    amount: int | None = Field(default=None, gt=0)
    unit: Unit | None = None
    from_: Trigger | None = Field(default=None, alias="from")
    calendar: str | None = Field(default=None, pattern=r"^(requested|requesting|both|[A-Z]{2})$")
    roll_forward: bool | None = None
    extension: Extension | None = None
    on_expiry: OnExpiry | None = None
    applies_to: AppliesTo | None = None
    source: str | None = None
    verified: bool | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _known_limit_name(name: str) -> str:
    if name not in LIMIT_NAMES:
        raise ValueError(f"unknown limit name {name!r}; known: {', '.join(LIMIT_NAMES)}")
    return name


# A key of a `limits` table: checked per key, so a file's errors name the offending limit.
LimitName = Annotated[str, AfterValidator(_known_limit_name)]


class BorderRegion(Sourced):
    land_km: Decimal | None = Field(default=None, ge=0, max_digits=6, decimal_places=2)
    sea_ports: bool = False
    international_airports: bool = False


class Suspension(Frozen):
    from_: date = Field(alias="from")
    by: StateCode
    until: date | None = Field(
        default=None, description="first day the agreement applies again; none = still suspended"
    )
    reason: str = ""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class EvidenceGrades(Sourced):
    """The annexes' kinds of evidence per grade. Stateless persons are proved with the
    third-country nationals' annexes unless `proof_stateless` / `prima_facie_stateless` say
    otherwise."""

    proof_of_nationality: tuple[str, ...] = ()
    prima_facie_nationality: tuple[str, ...] = ()
    proof_tcn: tuple[str, ...] = ()
    prima_facie_tcn: tuple[str, ...] = ()
    proof_stateless: tuple[str, ...] | None = None
    prima_facie_stateless: tuple[str, ...] | None = None

    def proof_for(self, category: Category) -> tuple[str, ...]:
        """The kinds that are conclusive for a person of `category`."""
        match category:
            case Category.OWN_NATIONAL:
                return self.proof_of_nationality
            case Category.THIRD_COUNTRY_NATIONAL:
                return self.proof_tcn
            case Category.STATELESS:
                return self.proof_tcn if self.proof_stateless is None else self.proof_stateless
            case _:
                assert_never(category)


class TransferRules(Sourced):
    """How a transfer is arranged: the notice's lead time, the other side's answer to it, the
    crossing points and modes (one `source` and `verified` for the whole section)."""

    notice_working_days: int | None = Field(
        default=None, ge=0, description="a transfer is notified at least N working days ahead"
    )
    notice_reply_working_days: int | None = Field(
        default=None, gt=0, description="the other side answers a notice within N working days"
    )
    silence_is_consent: bool = False
    bcps: tuple[str, ...] = ()
    modes: tuple[str, ...] = ("air", "land", "sea")


class TransitRules(Sourced):
    """How a transit request is timed (`[transit]` of an agreement or protocol file): lead times
    before the planned transit, and what the requested state's silence means. The reply limit
    itself is `limits.transit_reply`; `domain.transit` applies both (docs/transit.md)."""

    request_lead_working_days: int | None = Field(
        default=None, gt=0, description="request at least N working days before the transit"
    )
    request_lead_hours: int | None = Field(
        default=None, gt=0, description="request at least N hours before the transit"
    )
    reply_lead_hours: int | None = Field(
        default=None, gt=0, description="reply at least N hours before the transit"
    )
    weekend_reply_lead_hours: int | None = Field(
        default=None,
        gt=0,
        description="reply at least N hours before a transit on a weekend or public holiday",
    )
    silence_is_consent: bool = False
    calendar: str = Field(
        default="requested",
        pattern=r"^(requested|requesting|both|[A-Z]{2})$",
        description="whose working days and time zone count the lead times",
    )


class MessageRules(Sourced):
    """Limits on the conversation between the two states (`[messages]` of an agreement or
    protocol file, `domain.messages`): within how many calendar days a request for information
    is to be answered. None (the default, and every shipped file today): the agreement or
    protocol sets no such limit, and a request carries none."""

    information_answer_days: int | None = Field(
        default=None,
        gt=0,
        le=365,
        description="a request for information is answered within N days",
    )


class Retention(Sourced):
    personal_data_days_after_close: int = Field(default=1095, gt=0)


def unverified_values(terms: Agreement | AgreementTerms) -> tuple[tuple[str, str], ...]:
    """(key path, source) of every value of an agreement or of a case's terms that research has
    not confirmed: its limits, and the sections that matter besides (border region, evidence
    lists, transfer notice and crossing points, retention)."""
    found = [
        (f"limits.{name}", limit.source)
        for name, limit in sorted(terms.limits.items())
        if not limit.verified
    ]
    sections: list[tuple[str, Sourced]] = [
        ("border_region", terms.border_region),
        ("evidence", terms.evidence),
        ("transfer", terms.transfer),
        ("retention", terms.retention),
    ]
    if terms.messages.information_answer_days is not None:  # only a limit a file sets counts
        sections.append(("messages", terms.messages))
    found += [(key, part.source) for key, part in sections if not part.verified]
    return tuple(found)


class Agreement(Frozen):
    id: str = Field(pattern=r"^[A-Z]{2,3}-[A-Z]{2,3}$")
    title: str
    parties: tuple[str, str]
    excluded_states: tuple[StateCode, ...] = ()
    in_force: date
    tcn_obligations_from: date | None = Field(
        default=None, description="first day of the obligations for TCN and stateless persons"
    )
    suspensions: tuple[Suspension, ...] = ()
    time_zones: dict[str, str] = Field(
        default_factory=dict, description="IANA zone per state, overriding the built-in table"
    )
    border_region: BorderRegion = BorderRegion()
    limits: dict[LimitName, Limit]
    evidence: EvidenceGrades = EvidenceGrades()
    transfer: TransferRules = TransferRules()
    transit: TransitRules = TransitRules()
    retention: Retention = Retention()
    messages: MessageRules = MessageRules()
    source: str = ""
    verified: bool = False

    @model_validator(mode="after")
    def _consequences_that_fit(self) -> Agreement:
        """Each limit's `on_expiry` is one its procedure can apply: silence accepts an
        application (or a claim of readmission in error) only at the end of a reply limit, and
        confirms a transfer only at the end of the answer to its notice; what silence means for
        a transit is `[transit] silence_is_consent`. Anything else would wedge a case whose limit
        ends (the consequence refused, the limit never passed)."""
        for name, limit in self.limits.items():
            if name == "transit_reply" and limit.on_expiry is not OnExpiry.ESCALATE:
                raise ValueError(
                    "limits.transit_reply.on_expiry: keep 'escalate'; whether silence is consent "
                    "to a transit is said by '[transit] silence_is_consent'"
                )
            allowed = DEEMED_BY_LIMIT.get(limit.on_expiry)
            if allowed is not None and name not in allowed:
                raise ValueError(
                    f"limits.{name}.on_expiry: '{limit.on_expiry.value}' applies only to "
                    f"{', '.join(sorted(allowed)) or 'no limit of a file'}"
                )
        return self

    @field_validator("parties")
    @classmethod
    def _two_parties(cls, parties: tuple[str, str]) -> tuple[str, str]:
        for party in parties:
            if party != "EU" and not (len(party) == 2 and party.isascii() and party.isupper()):
                raise ValueError(f"party {party!r} is neither 'EU' nor an ISO 3166 alpha-2 code")
        if parties[0] == parties[1]:
            raise ValueError("an agreement needs two different parties")
        return parties


class Protocol(Frozen):
    """An implementing protocol: overrides for one agreement and one Member State."""

    agreement: str
    state: StateCode
    title: str = ""
    in_force: date | None = None
    limits: dict[LimitName, LimitOverride] = Field(default_factory=dict)
    border_region: BorderRegion | None = None
    evidence: EvidenceGrades | None = None
    transfer: TransferRules | None = None
    transit: TransitRules | None = None
    messages: MessageRules | None = None
    time_zones: dict[str, str] = Field(default_factory=dict)
    source: str = ""
    verified: bool = False

    @field_validator("limits", mode="before")
    @classmethod
    def _accept_whole_limits(cls, limits: Any) -> Any:
        """A complete `Limit` is also a valid override (it replaces every key)."""
        if isinstance(limits, dict):
            return {
                name: lim.model_dump(by_alias=True) if isinstance(lim, Limit) else lim
                for name, lim in limits.items()
            }
        return limits


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
    # absent from the terms recorded by cases opened before transit existed
    transit: TransitRules = TransitRules()
    retention: Retention
    # absent from the terms recorded by cases opened before messages existed
    messages: MessageRules = MessageRules()

    @property
    def unverified_parameters(self) -> tuple[str, ...]:
        """Names of limits whose values research has not confirmed."""
        return tuple(sorted(name for name, lim in self.limits.items() if not lim.verified))

    @property
    def unverified_values(self) -> tuple[tuple[str, str], ...]:
        """(key path, source) of every value in force that research has not confirmed."""
        return unverified_values(self)
