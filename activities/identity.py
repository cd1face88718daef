"""Identity verification as an activity, run on the requested state's own task queue.

The activity only looks the person up through a `RegistryPort` and hands the records to the pure
`assess_identity`; it decides nothing itself. Its date is the request's instant in the requested
state's time zone, never the machine clock. Logs carry ids and counts only, never personal data.

A failure's text is kept in Temporal's history (encrypted, but read by anyone holding the
payload key or the codec endpoint), and a database driver's message may quote the parameters
it was given: a surname, a birth date. So every error is raised again as an `ApplicationError`
whose type names what failed (`RegistryLookupFailed`, ...) with fixed text and the error's class
name only, never its message nor its cause. Those of the registry and the vault stay
retryable, so Temporal retries them under the workflow's retry policy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterator, Sequence
from typing import Protocol, TypeVar

import structlog
from structlog.typing import FilteringBoundLogger
from temporalio import activity
from temporalio.exceptions import ApplicationError

from adapters.protection.vault import DataErased, PersonalDataVault
from domain.calendars import UnknownState, zone_of
from domain.identity.verification import RegistryRecord, assess_identity, document_numbers
from domain.values import Person
from workflows.contracts import VERIFY_IDENTITY, VerifyIdentityInput, VerifyIdentityResult

log = structlog.get_logger(__name__)


HEARTBEAT_EVERY = 10.0  # seconds; the workflow's heartbeat timeout for this activity is 30 s

T = TypeVar("T")


async def _beating(lookup: Awaitable[T], details: dict[str, object]) -> T:
    """Await a registry `lookup`, heartbeating `details` every `HEARTBEAT_EVERY` seconds while
    it runs: a slow registry keeps the attempt alive and shows where it is; a quick one (the
    usual case) costs no heartbeat at all."""
    task = asyncio.ensure_future(lookup)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            activity.heartbeat(details)
    finally:
        task.cancel()  # the attempt was cancelled or timed out: stop the lookup too


# What failed, as the failure's type says it (the workflow logs it; operators search for it).
CASE_KEY_UNREADABLE = "CaseKeyUnreadable"
SEAL_UNREADABLE = "SealUnreadable"
REGISTRY_LOOKUP_FAILED = "RegistryLookupFailed"
ASSESSMENT_FAILED = "IdentityAssessmentFailed"


@contextlib.contextmanager
def _failing_as(type_: str, what: str, log: FilteringBoundLogger) -> Iterator[None]:
    """Raise any error of the block again as `ApplicationError(type=type_)` with fixed text
    naming `what` failed and the error's class: its message and cause are dropped (`from None`),
    since a driver's message may quote personal data and a failure's text is kept in history."""
    try:
        yield
    except ApplicationError:
        raise
    except Exception as error:
        kind = type(error).__name__
        log.warning(f"{what} failed", error=kind)
        raise ApplicationError(f"{what} failed ({kind})", {"error": kind}, type=type_) from None


class RegistryPort(Protocol):
    """A state's population and document registry, as identity verification needs it."""

    name: str

    async def candidates(
        self, state: str, person: Person, document_numbers: Sequence[str]
    ) -> list[RegistryRecord]:
        """Records that may be `person`: owners of the documents, same birth date, same
        personal number (each with all their documents)."""
        ...


class IdentityActivities:
    """Opens the case's sealed person and evidence with the case key, and seals the reasons."""

    def __init__(self, registry: RegistryPort, vault: PersonalDataVault) -> None:
        self.registry = registry
        self.vault = vault

    @activity.defn(name=VERIFY_IDENTITY)
    async def verify_identity(self, request: VerifyIdentityInput) -> VerifyIdentityResult:
        info = activity.info()
        bound = log.bind(case_id=request.case_id, workflow_id=info.workflow_id, state=request.state)
        try:
            today = request.at.astimezone(zone_of(request.state)).date()
        except UnknownState as error:
            raise ApplicationError(str(error), type="UnknownState", non_retryable=True) from None
        with _failing_as(CASE_KEY_UNREADABLE, "case key lookup", bound):
            try:
                sealer = await self.vault.sealer(request.case_id)
            except DataErased as error:
                raise ApplicationError(str(error), type="DataErased", non_retryable=True) from None
        if sealer is None:
            raise ApplicationError(
                f"case {request.case_id} has no data key", type="NoDataKey", non_retryable=True
            )
        with _failing_as(SEAL_UNREADABLE, "unsealing the person", bound):
            person = sealer.open_person(request.person)
            evidence = sealer.open_evidence(request.evidence)
            numbers = document_numbers(evidence, today)
        with _failing_as(REGISTRY_LOOKUP_FAILED, "registry lookup", bound):
            records = await _beating(
                self.registry.candidates(request.state, person, numbers),
                {"stage": "registry lookup", "documents": len(numbers)},
            )
        with _failing_as(ASSESSMENT_FAILED, "identity assessment", bound):
            outcome = assess_identity(
                person,
                evidence,
                records,
                today,
                state=request.state,
                registry=self.registry.name,
            )
        bound.info(
            "identity verified",
            status=outcome.status.value,
            score=str(outcome.score),
            interview_needed=outcome.interview_needed,
            candidates=len(records),
            evidence=len(evidence),
            documents=len(numbers),
            attempt=info.attempt,
        )
        return VerifyIdentityResult(outcome=sealer.seal_outcome(outcome))
