"""The registration list: which workflows and activities each task queue's worker has.

A process serves the shared case queue (the `ReadmissionCase` workflow, whose commits run as
local activities, the retention sweep and the audit checkpoint) and, for each `--state`, that
state's own queue (its registry, for identity verification), so every state can run workers on
its own infrastructure. The case queue's worker checks the API's signature on every command
(`verifier`, `adapters/temporal/command_check.py`). `workers.root` builds the process around
this list (pool, vault, client, key material, background loops).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.worker import (
    UnsandboxedWorkflowRunner,
    Worker,
    WorkerDeploymentConfig,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.case_store import CaseStoreActivities
from activities.checkpoint import CheckpointActivities
from activities.federation import DeliveryActivities
from activities.identity import IdentityActivities
from activities.retention import RetentionActivities
from adapters.audit.checkpoint_sinks import CheckpointPublisher
from adapters.db.eventstore import EventStore
from adapters.protection.vault import PersonalDataVault
from adapters.registry import PostgresRegistry
from adapters.temporal.command_check import CommandSignatureCheck
from adapters.temporal.command_signing import CommandVerifier
from workflows.audit_checkpoint import AuditCheckpoint
from workflows.contracts import QUEUE_PREFIX, cases_queue, state_queue
from workflows.message_delivery import MessageDelivery
from workflows.readmission_case import ReadmissionCase
from workflows.retention_sweep import RetentionSweep

CaseStore = Callable[[EventStore, Collection[str]], CaseStoreActivities]
"""What builds the case queue's commit activities from the store and the notice channels:
`CaseStoreActivities` itself, or a bench's subclass that changes what it records."""


@dataclass(frozen=True)
class ExtraWorker:
    """A worker on a queue of its own beside the production ones (a bench's baseline
    workflow), built like them: same client, workflow runner and activity concurrency."""

    task_queue: str
    workflows: Sequence[type] = ()
    activities: Sequence[Callable[..., Any]] = ()


def build_workers(
    client: Client,
    pool: asyncpg.Pool,
    states: Sequence[str],
    *,
    vault: PersonalDataVault,
    verifier: CommandVerifier | None,
    serve_cases: bool = True,
    queue_prefix: str = QUEUE_PREFIX,
    channels: Sequence[str] = ("inbox", "email", "webhook"),
    sandbox: bool = True,
    case_store: CaseStore = CaseStoreActivities,
    extra: Sequence[ExtraWorker] = (),
    checkpoints: CheckpointPublisher | None = None,
    delivery: DeliveryActivities | None = None,
    deployment: WorkerDeploymentConfig | None = None,
) -> list[Worker]:
    """Workers for the case queue (if `serve_cases`; commands signed by a key of `verifier` only:
    required then), for each state's queue and for each of `extra`; `sandbox`: workflow code in
    the Temporal sandbox (tests) or not (`READMIT_WORKFLOW_SANDBOX`). `checkpoints` signs and
    delivers the audit checkpoints (none: the checkpoint activity refuses, naming the settings
    that configure it). `delivery` sends a federated node's messages to its peers
    (docs/federation.md): the case queue then runs a `MessageDelivery` workflow per message.
    `deployment` makes the case queue's worker a version of a Temporal worker deployment
    (`workers/versioning.py`); the states' queues carry only activities and stay unversioned."""
    workers: list[Worker] = []
    if serve_cases:
        if verifier is None:
            raise ValueError("the case queue's workers need the keys to check commands with")
        store = case_store(EventStore(pool), channels)
        retention = RetentionActivities(vault)
        anchor = CheckpointActivities(pool, checkpoints)
        federated: list[Callable[..., Any]] = (
            [delivery.deliver_message, delivery.drop_refused_attachment] if delivery else []
        )
        workers.append(
            Worker(
                client,
                task_queue=cases_queue(queue_prefix),
                workflows=[ReadmissionCase, RetentionSweep, AuditCheckpoint, MessageDelivery],
                activities=[
                    store.commit_case_events,
                    retention.erase_expired,
                    anchor.take_checkpoint,
                    *federated,
                ],
                max_concurrent_activities=50,
                workflow_runner=workflow_runner(sandbox),
                interceptors=[CommandSignatureCheck(verifier)],
                deployment_config=deployment,
            )
        )
    identity = IdentityActivities(PostgresRegistry(pool), vault)
    for state in states:
        queue = state_queue(state, queue_prefix)
        workers.append(
            Worker(
                client,
                task_queue=queue,
                activities=[identity.verify_identity],
                activity_executor=ThreadPoolExecutor(max_workers=4),
            )
        )
    workers += [
        Worker(
            client,
            task_queue=spec.task_queue,
            workflows=list(spec.workflows),
            activities=list(spec.activities),
            max_concurrent_activities=50,
            workflow_runner=workflow_runner(sandbox),
        )
        for spec in extra
    ]
    return workers


def workflow_runner(sandbox: bool) -> WorkflowRunner:
    """The Temporal sandbox (the SDK's default) or plain execution of workflow code."""
    return SandboxedWorkflowRunner() if sandbox else UnsandboxedWorkflowRunner()
