"""Whoever reaches Temporal's port cannot act as an officer: on the dev server, with a `readmit
worker` process as an operator runs it, commands sent straight to Temporal (a client holding
the right payload key, but not the API's signing key) are refused by the case, and nothing
they say reaches the workflow's history or the event store.

Refused: a command without the API's signature, one whose actor was replaced after the API
signed it, one signed by another key, a payload in clear (a client without the key), and a
workflow started with a case state of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from e2e.case_walks import ANNA, OLENA, new_case_id, opening, wait_for_event
from e2e.stack_support import WorkerProcess, signer, vault, wait_polling
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.db.eventstore import EventStore
from adapters.temporal.cases import CaseGateway
from adapters.temporal.command_signing import CommandSigner
from domain.commands import AcceptApplication, ConfirmReceipt, SubmitApplication
from domain.values import Status
from workflows.contracts import Actor, CaseInput, CommandRequest, cases_queue
from workflows.readmission_case import ReadmissionCase

pytestmark = pytest.mark.temporal


@pytest.fixture
def worker(
    dev_env: WorkflowEnvironment, schema_dsn: str, tmp_path: Path
) -> Iterator[WorkerProcess]:
    address = dev_env.client.service_client.config.target_host
    process = WorkerProcess(
        address, schema_dsn, f"fc{secrets.token_hex(3)}", tmp_path / "worker.log"
    )
    process.start()
    yield process
    process.stop()


async def refusal(client: Client, case_id: str, sent: CommandRequest, update_id: str) -> str:
    """`sent` as the `execute` update, straight to Temporal: the type of the case's refusal."""
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await client.get_workflow_handle(case_id).execute_update(
            ReadmissionCase.execute, sent, id=update_id
        )
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type, cause
    return cause.type


async def accepted_updates(client: Client, case_id: str) -> list[str]:
    """The ids of the updates the case's workflow accepted, from its history."""
    history = await client.get_workflow_handle(case_id).fetch_history()
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return [
        e.workflow_execution_update_accepted_event_attributes.accepted_request.meta.update_id
        for e in history.events
        if e.event_type == accepted
    ]


async def test_commands_sent_straight_to_temporal_are_refused(
    dev_env: WorkflowEnvironment, worker: WorkerProcess, pool: asyncpg.Pool
) -> None:
    client = dev_env.client  # the right payload codec: the key of the workers it talks to
    await wait_polling(client, worker, within=60)
    api = CaseGateway(client, vault=vault(pool), signer=signer(), queue_prefix=worker.prefix)
    case_id, now = new_case_id(), await dev_env.get_current_time()
    await api.open(
        opening(case_id, now),
        ANNA,
        request_id=f"{case_id}-open",
    )
    await api.execute(case_id, SubmitApplication(at=now), ANNA, request_id=f"{case_id}-submit")
    await api.execute(case_id, ConfirmReceipt(at=now), OLENA, request_id=f"{case_id}-receipt")
    await wait_for_event(pool, case_id, "VerificationRecorded", within=30)
    store = EventStore(pool)
    before = [(r.version, r.event_id) for r in await store.read_stream(case_id)]
    legit = await accepted_updates(client, case_id)
    assert legit == [f"{case_id}-open", f"{case_id}-submit", f"{case_id}-receipt"]

    accept = AcceptApplication(at=now)
    # 1. no signature: an attacker with the payload key, or a leaked one
    unsigned = CommandRequest(command=accept, actor=OLENA, correlation_id="forged-1")
    assert await refusal(client, case_id, unsigned, "forged-1") == "UnsignedCommand"
    # 2. the API's signature, the actor forged after it was given
    signed = signer().sign(
        case_id, "forged-2", unsigned.model_copy(update={"correlation_id": "forged-2"})
    )
    mallory = signed.model_copy(
        update={"actor": Actor(user_id="mallory", state="UA", role="officer")}
    )
    assert await refusal(client, case_id, mallory, "forged-2") == "BadCommandSignature"
    # 3. a signature by a key of the attacker's own
    own = CommandSigner.throwaway().sign(
        case_id, "forged-3", unsigned.model_copy(update={"correlation_id": "forged-3"})
    )
    assert await refusal(client, case_id, own, "forged-3") == "BadCommandSignature"
    # 4. a payload in clear, from a client without the key: the workers cannot even read it
    plain = await Client.connect(client.service_client.config.target_host)
    with pytest.raises(
        (WorkflowUpdateRPCTimeoutOrCancelledError, WorkflowUpdateFailedError, RPCError)
    ):
        await plain.get_workflow_handle(case_id).execute_update(
            "execute",
            {"command": {"command": "accept", "at": now.isoformat()}, "actor": OLENA.model_dump()},
            id="forged-4",
            rpc_timeout=timedelta(seconds=5),
        )

    # nothing they said was recorded, in the store or in the workflow's history
    assert [(r.version, r.event_id) for r in await store.read_stream(case_id)] == before
    assert await accepted_updates(client, case_id) == legit
    # and the case goes on: the API's own command is taken
    result = await api.execute(case_id, accept, OLENA, request_id=f"{case_id}-accept")
    assert result.status == "accepted"

    # 5. a case started with a state of its own (say, one already accepted)
    forged_state = (await api.view(case_id)).state.model_copy(update={"status": Status.ACCEPTED})
    forged_id = new_case_id()
    handle = await client.start_workflow(
        ReadmissionCase.run,
        CaseInput(case_id=forged_id, state=forged_state, queue_prefix=worker.prefix),
        id=forged_id,
        task_queue=cases_queue(worker.prefix),
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert isinstance(failed.value.cause, ApplicationError)
    assert failed.value.cause.type == "InvalidStart"
    assert await store.read_stream(forged_id) == []
