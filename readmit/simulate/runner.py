"""Run a scenario through the real workflow and activities on the time-skipping test server.

The simulator works in a throwaway schema of the configured (or embedded) PostgreSQL and drops it
afterwards. It drives time explicitly (automatic time skipping is unreliable with several waits
in flight): it sleeps the server's clock to each step's instant, sends the step's command as its
side's officer, and finally sleeps to `until`, so every timer in between fires in order.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from adapters.db.eventstore import EventStore
from adapters.db.pool import connect, quote_ident
from adapters.settings import Settings
from adapters.temporal.binaries import test_server_path
from adapters.temporal.cases import CaseGateway, CommandRefused
from adapters.temporal.clock import advance_to
from adapters.temporal.codec import Keyring, data_converter
from adapters.temporal.command_signing import CommandSigner
from adapters.temporal.search_attributes import register
from domain.agreements import AgreementTerms
from domain.commands import BY_NAME, Command, OpenCase, issued_by
from domain.values import Side
from readmit.simulate.scenario import Scenario, build_command
from workers.root import worker_root
from workflows.contracts import Actor

Progress = Callable[[str], None]


def _actor(scenario: Scenario, command: str | Command) -> Actor:
    """The simulated officer who issues `command` (a name, or a built command: a message names
    its own side)."""
    side = BY_NAME[command].side if isinstance(command, str) else issued_by(command)
    state = scenario.case.requesting if side is Side.REQUESTING else scenario.case.requested
    return Actor(user_id=f"simulator.{state.lower()}", state=state, role="officer")


def _case_id(scenario: Scenario, at: datetime) -> str:
    case = scenario.case
    return f"{case.requesting}-{case.requested}-{at.year}-{secrets.randbelow(10**6):06d}"


async def simulate(
    scenario: Scenario,
    terms: AgreementTerms,
    settings: Settings,
    dsn: str,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run `scenario` under `terms` and return the timeline (docs/simulator.md)."""
    say = progress or (lambda _message: None)
    case = scenario.case
    schema = f"sim_{secrets.token_hex(6)}"
    prefix = f"sim-{secrets.token_hex(4)}"
    keyring = Keyring({"sim": os.urandom(32)}, "sim")
    signer = CommandSigner.throwaway()  # like the master key: dies with the simulated case
    say("starting the time-skipping server")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()), data_converter=data_converter(keyring)
    )
    await register(env.client)  # the case workflows' search attributes
    try:
        start = await env.get_current_time()
        scenario.check_future(start)
        say(f"preparing a throwaway schema {schema}")
        try:
            async with (
                worker_root(
                    settings,
                    sorted({case.requesting, case.requested}),
                    background=False,
                    client=env.client,
                    dsn=dsn,
                    schema=schema,
                    # A throwaway master key: the simulated case's data dies with its schema.
                    master=Keyring({"sim": os.urandom(32)}, "sim", what="master"),
                    verifier=signer.verifier(),
                    queue_prefix=prefix,
                    # An operator's what-if: determinism checked, and one case's connections.
                    sandbox=True,
                    pool_size=(1, 10),
                ) as root,
                root.running(),
            ):
                with env.auto_time_skipping_disabled():
                    gateway = CaseGateway(
                        env.client, vault=root.vault, signer=signer, queue_prefix=prefix
                    )
                    report = await _drive(env, scenario, terms, gateway, EventStore(root.pool), say)
        finally:
            await _drop(dsn, schema)
    finally:
        await env.shutdown()
    return report


async def _drive(
    env: WorkflowEnvironment,
    scenario: Scenario,
    terms: AgreementTerms,
    gateway: CaseGateway,
    store: EventStore,
    say: Progress,
) -> dict[str, Any]:
    case = scenario.case
    first = scenario.steps[0].at if scenario.steps else scenario.until
    await advance_to(env, first)
    opened_at = await env.get_current_time()
    case_id = _case_id(scenario, opened_at)
    say(f"opening {case_id}")
    opening = OpenCase(
        at=opened_at,
        case_id=case_id,
        terms=terms,
        category=case.category,
        procedure=case.procedure,
        person=case.person,
        evidence=case.evidence,
        knowledge_at=case.knowledge_at,
        apprehended_at=case.apprehended_at,
        apprehension_place=case.apprehension_place,
        kind=case.kind,
        transit=case.transit,
    )
    steps: list[dict[str, Any]] = []
    await gateway.open(opening, _actor(scenario, "submit"))
    for step in scenario.steps:
        await advance_to(env, step.at)
        now = await env.get_current_time()
        say(f"{now.isoformat(timespec='seconds')}  {step.command}")
        error = None
        try:
            built = build_command(step, now)
            await gateway.execute(case_id, built, _actor(scenario, built))
        except CommandRefused as refused:
            error = {"type": refused.type, "message": refused.message}
        steps.append(
            {
                "command": step.command,
                "at": step.at.isoformat(),
                "ok": error is None,
                "error": error,
            }
        )
    say(f"running the clock to {scenario.until.isoformat()}")
    await advance_to(env, scenario.until)
    view = await gateway.view(case_id)
    handle = env.client.get_workflow_handle(case_id)
    if (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
        await handle.terminate("simulation finished")  # a closed case's workflow has ended
    recorded = await store.read_stream(case_id)
    # the scenario's own reasons and notes, opened with the (throwaway) case key
    sealer = await gateway.vault.sealer(case_id)
    events = []
    for row in recorded:
        event = sealer.open_free_text(row.event()) if sealer else row.event()
        item = event.model_dump(mode="json", exclude={"terms", "person", "evidence"})
        item["at"] = event.at.isoformat()
        events.append(item)
    return {"case_id": case_id, "status": view.state.status.value, "events": events, "steps": steps}


async def _drop(dsn: str, schema: str) -> None:
    conn = await connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
    finally:
        await conn.close()
