"""What a transit case carries: the request (destination, its assurance, the planned transit)
and the plan the requesting state schedules once the requested state has consented.

None of it is personal data: the person travels in the case's sealed `person`, as in a
readmission case. The rules that apply these values are `domain.transit`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from domain.agreements import Frozen
from domain.values import ShortText

StateCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code")]


class Assurance(Frozen):
    """The destination state's assurance that it will admit the person (EU–UA Art. 13(2))."""

    reference: ShortText
    given_on: date
    given_by: ShortText | None = Field(default=None, description="the destination's authority")


class FlightDetails(Frozen):
    """The flight the person travels on, where the transit is by air."""

    number: ShortText = Field(description="e.g. 'OS 655'")
    departs_from: ShortText | None = None
    arrives_at: ShortText | None = None


class TransitRequest(Frozen):
    """The request a transit case is opened with: through the requested state, from its entry
    point to its exit point, to `destination`, at `planned_at`."""

    destination: StateCode
    assurance: Assurance
    planned_at: AwareDatetime = Field(description="the planned start of the transit")
    entry_point: ShortText = Field(description="where the person enters the requested state")
    exit_point: ShortText = Field(description="where the person leaves it for the destination")
    escorts: int = Field(default=0, ge=0, le=20, description="0: unescorted")
    flight: FlightDetails | None = None


class TransitPlan(Frozen):
    """The transit as scheduled after consent: never earlier than the instant consented to."""

    on: AwareDatetime
    entry_point: ShortText
    exit_point: ShortText
    escorts: int = Field(default=0, ge=0, le=20)
    flight: FlightDetails | None = None
