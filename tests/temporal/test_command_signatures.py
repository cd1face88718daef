"""Commands sent straight to Temporal, past the API: the case queue's workers refuse what the API
did not sign, the workflow refuses an actor who may not act on the command's side and a run
started with a state of its own. Refused in the update's validator: nothing reaches the
workflow's history or the event store. (On the dev server: tests/e2e/test_forged_commands.py.)"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date, timedelta

import pytest
from case_system import CaseSystem
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from test_case_workflow import ANNA, OLENA, new_case_id, now
from workers_support import signer

from adapters.agreements.catalogue import load_catalogue
from adapters.temporal.cases import CommandRefused
from adapters.temporal.command_signing import CommandSigner
from domain.commands import (
    AcceptApplication,
    Command,
    ConfirmReceipt,
    OpenCase,
    SubmitApplication,
)
from domain.values import EvidenceItem, Person, Status
from workflows.contracts import Actor, CaseInput, CommandRequest, cases_queue
from workflows.readmission_case import ReadmissionCase

pytestmark = pytest.mark.temporal


async def received_case(system: CaseSystem) -> str:
    """A case opened and submitted by PL, its receipt confirmed by UA, all through the
    gateway (signed, as the API sends them)."""
    case_id: str = new_case_id()
    at = await now(system)
    opening = OpenCase(
        at=at,
        case_id=case_id,
        terms=load_catalogue().terms("EU-UA", "PL", "UA"),
        category="own_national",
        person=Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)),
        evidence=(EvidenceItem(kind="passport", number="FA123456"),),
        knowledge_at=at - timedelta(days=1),
    )
    await system.gateway.open(opening, ANNA)
    await system.gateway.execute(case_id, SubmitApplication(at=at), ANNA)
    await system.gateway.execute(case_id, ConfirmReceipt(at=at), OLENA)
    for _ in range(200):  # the registry's verification, recorded by the case itself
        if "VerificationRecorded" in {r.type for r in await system.store.read_stream(case_id)}:
            return case_id
        await asyncio.sleep(0.05)
    raise AssertionError("the identity verification was never recorded")


def request(command: Command, actor: Actor, update_id: str) -> CommandRequest:
    return CommandRequest(command=command, actor=actor, correlation_id=update_id)


async def refused(system: CaseSystem, case_id: str, sent: CommandRequest, update_id: str) -> str:
    """Send `sent` as the `execute` update, straight to Temporal; the refusal's type."""
    handle = system.client.get_workflow_handle(case_id)
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await handle.execute_update(ReadmissionCase.execute, sent, id=update_id)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type is not None
    return cause.type


async def accepted_updates(system: CaseSystem, case_id: str) -> int:
    history = await system.client.get_workflow_handle(case_id).fetch_history()
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return sum(1 for e in history.events if e.event_type == accepted)


async def test_commands_the_api_did_not_sign_are_refused_before_history(
    case_system: CaseSystem,
) -> None:
    case_id = await received_case(case_system)
    versions, updates = len(await case_system.store.read_stream(case_id)), 3
    assert await accepted_updates(case_system, case_id) == updates
    api = signer()
    accept = AcceptApplication(at=await now(case_system))

    # unsigned, though the payload is encrypted with the right key
    unsigned = request(accept, OLENA, "forged-1")
    assert await refused(case_system, case_id, unsigned, "forged-1") == "UnsignedCommand"
    # signed by a key the workers do not know
    stranger = CommandSigner.throwaway().sign(
        case_id, "forged-2", request(accept, OLENA, "forged-2")
    )
    assert await refused(case_system, case_id, stranger, "forged-2") == "BadCommandSignature"
    # the API's signature on another actor's command, the actor replaced
    signed = api.sign(case_id, "forged-3", request(accept, OLENA, "forged-3"))
    forged = signed.model_copy(
        update={"actor": Actor(user_id="mallory", state="UA", role="officer")}
    )
    assert await refused(case_system, case_id, forged, "forged-3") == "BadCommandSignature"
    # the API's signature for another case, or for another update id, replayed here
    other_case = api.sign(new_case_id(), "forged-4", request(accept, OLENA, "forged-4"))
    assert await refused(case_system, case_id, other_case, "forged-4") == "BadCommandSignature"
    assert await refused(case_system, case_id, signed, "forged-5") == "BadCommandSignature"

    assert len(await case_system.store.read_stream(case_id)) == versions
    assert await accepted_updates(case_system, case_id) == updates
    # and the signed command itself still goes through
    result = await case_system.gateway.execute(case_id, accept, OLENA)
    assert result.status == "accepted"


async def test_an_actor_of_the_wrong_side_or_role_is_refused_even_when_signed(
    case_system: CaseSystem,
) -> None:
    case_id = await received_case(case_system)
    versions = len(await case_system.store.read_stream(case_id))
    accept = AcceptApplication(at=await now(case_system))
    for actor, text in (
        (ANNA, "accept is for the requested state (UA)"),
        (Actor(user_id="pl.auditor", state="PL", role="auditor"), "an auditor issues no"),
        (Actor(user_id="ua.admin", state="UA", role="admin"), "an admin issues no"),
        (Actor(user_id="readmit", state="*", role="system"), "a system issues no"),
    ):
        with pytest.raises(CommandRefused) as refusal:
            await case_system.gateway.execute(case_id, accept, actor)
        assert refusal.value.type == "ActorMayNotAct" and refusal.value.http_status == 403
        assert refusal.value.message.startswith(text)
    assert len(await case_system.store.read_stream(case_id)) == versions
    supervisor = Actor(user_id="ua.supervisor", state="UA", role="supervisor")
    assert (await case_system.gateway.execute(case_id, accept, supervisor)).status == "accepted"


async def test_a_run_started_with_a_state_of_its_own_is_refused(case_system: CaseSystem) -> None:
    """Anyone may start a workflow; only the case's own continue-as-new carries a state."""
    real = await received_case(case_system)
    accepted = (await case_system.gateway.view(real)).state.model_copy(
        update={"status": Status.ACCEPTED}
    )
    case_id = new_case_id()
    handle = await case_system.client.start_workflow(
        ReadmissionCase.run,
        CaseInput(case_id=case_id, state=accepted, queue_prefix=case_system.prefix),
        id=case_id,
        task_queue=cases_queue(case_system.prefix),
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidStart"
    assert await case_system.store.read_stream(case_id) == []
    # the failure's text is in the history encrypted: only "Encoded failure" shows
    history = await handle.fetch_history()
    [failure] = [
        e.workflow_execution_failed_event_attributes.failure
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
    ]
    assert failure.message == "Encoded failure" and not failure.stack_trace
    assert failure.encoded_attributes.metadata["encoding"] == b"binary/encrypted"
    assert b"did not carry over" not in history.to_json().encode()


async def test_a_run_started_with_a_foreign_queue_prefix_is_refused(
    case_system: CaseSystem,
) -> None:
    """The input's `queue_prefix` names where identity checks go: a start on the case queue
    naming another prefix (queues its sender polls) is refused, and so is every command sent to
    it, signed or not, so no identity check ever leaves for the sender's queue."""
    case_id = new_case_id()
    handle = await case_system.client.start_workflow(
        ReadmissionCase.run,
        CaseInput(case_id=case_id, queue_prefix=f"evil{secrets.token_hex(3)}"),
        id=case_id,
        task_queue=cases_queue(case_system.prefix),
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), timeout=30)  # an accepted start waits forever
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == "InvalidStart"
    assert await case_system.store.read_stream(case_id) == []
    history = await handle.fetch_history()
    scheduled = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == []
