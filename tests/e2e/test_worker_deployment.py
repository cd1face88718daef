"""Worker versioning on the real dev server (Temporal worker deployments): the case queue's
worker of a release polls as a version of the deployment and takes no case until that version
is made current; a new release's worker polling beside it takes nothing while the old version
is current; made current, it takes the running case over (auto-upgrade), as
docs/operations.md's release procedure says; a pinned case stays where it started. The current
version is set through the client API and with the documented CLI command."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import subprocess
from collections.abc import AsyncIterator
from typing import Literal

import asyncpg
import pytest
from e2e.case_walks import ANNA, OLENA, opening
from e2e.stack_support import SIGNING_KEY, signer, vault
from temporalio.api.enums.v1 import RoutingConfigUpdateState, VersioningBehavior
from temporalio.api.workflow.v1 import WorkflowExecutionVersioningInfo
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.settings import Settings
from adapters.temporal.binaries import dev_server_path
from adapters.temporal.cases import CaseGateway
from domain.commands import ConfirmReceipt, SubmitApplication
from workers.root import WorkerRoot, worker_root

pytestmark = pytest.mark.temporal
COMPLETED = RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_COMPLETED


def release(
    deployment: str, build: str, behaviour: Literal["auto_upgrade", "pinned"] = "auto_upgrade"
) -> Settings:
    return Settings(
        worker_deployment=deployment,
        build_id=build,
        worker_versioning_behavior=behaviour,
        command_signing_key=SIGNING_KEY,
    )


@contextlib.asynccontextmanager
async def running_release(
    env: WorkflowEnvironment, pool: asyncpg.Pool, settings: Settings, prefix: str
) -> AsyncIterator[WorkerRoot]:
    """The case queue's worker of one release, as `readmit worker` builds it, running."""
    async with (
        worker_root(
            settings,
            [],
            background=False,
            client=env.client,
            pool=pool,
            master=vault(pool).master,
            queue_prefix=prefix,
            sandbox=False,
        ) as root,
        root.running(),
    ):
        yield root


async def build_ids(client: Client, deployment: str) -> set[str]:
    try:
        described = await client.workflow_service.describe_worker_deployment(
            DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=deployment)
        )
    except RPCError:  # not created yet: no version has polled
        return set()
    summaries = described.worker_deployment_info.version_summaries
    return {summary.deployment_version.build_id for summary in summaries}


async def wait_for_version(client: Client, deployment: str, build: str) -> None:
    for _ in range(200):
        if build in await build_ids(client, deployment):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"version {build} of {deployment} never registered")


async def make_current(client: Client, deployment: str, build: str) -> None:
    """What `temporal worker deployment set-current-version` does, then wait until the task
    queues have the new routing (the server propagates it asynchronously)."""
    await client.workflow_service.set_worker_deployment_current_version(
        SetWorkerDeploymentCurrentVersionRequest(
            namespace=client.namespace, deployment_name=deployment, build_id=build
        )
    )
    await wait_current(client, deployment, build)


async def wait_current(client: Client, deployment: str, build: str) -> None:
    request = DescribeWorkerDeploymentRequest(
        namespace=client.namespace, deployment_name=deployment
    )
    for _ in range(200):
        info = (
            await client.workflow_service.describe_worker_deployment(request)
        ).worker_deployment_info
        if (
            info.routing_config.current_deployment_version.build_id == build
            and info.routing_config_update_state == COMPLETED
        ):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"version {build} of {deployment} never became current")


async def make_current_with_the_cli(client: Client, deployment: str, build: str) -> None:
    """The documented command itself (docs/operations.md, step 4), then the same wait."""
    address = client.service_client.config.target_host
    command = [str(dev_server_path()), "worker", "deployment", "set-current-version"]
    command += ["--address", address, "--yes", "--deployment-name", deployment]
    done = await asyncio.to_thread(
        subprocess.run,
        [*command, "--build-id", build],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    await wait_current(client, deployment, build)


async def versioning(client: Client, case_id: str) -> WorkflowExecutionVersioningInfo:
    described = await client.get_workflow_handle(case_id).describe()
    return described.raw_description.workflow_execution_info.versioning_info


async def test_a_release_takes_cases_only_once_its_version_is_current(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    client = dev_env.client
    deployment, prefix = f"readmit-{secrets.token_hex(3)}", f"v{secrets.token_hex(3)}"
    gateway = CaseGateway(client, vault=vault(pool), signer=signer(), queue_prefix=prefix)
    case_id = f"PL-UA-2027-{secrets.randbelow(10**6):06d}"
    now = await dev_env.get_current_time()

    async with running_release(dev_env, pool, release(deployment, "1.0.0+old"), prefix):
        await wait_for_version(client, deployment, "1.0.0+old")
        opened = asyncio.create_task(
            gateway.open(opening(case_id, now), ANNA, request_id=f"{case_id}-open")
        )
        await asyncio.sleep(3)  # a version nobody made current takes no task
        assert not opened.done()
        await make_current(client, deployment, "1.0.0+old")
        await asyncio.wait_for(opened, timeout=60)
        info = await versioning(client, case_id)
        assert info.behavior == VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE
        assert info.deployment_version.build_id == "1.0.0+old"

        async with running_release(dev_env, pool, release(deployment, "1.1.0+new"), prefix):
            await wait_for_version(client, deployment, "1.1.0+new")
            # the new release polls, but the old version is current: the case stays there
            await gateway.execute(
                case_id, SubmitApplication(at=now), ANNA, request_id=f"{case_id}-submit"
            )
            assert (await versioning(client, case_id)).deployment_version.build_id == ("1.0.0+old")
            await make_current(client, deployment, "1.1.0+new")
            # released: the running case moves to the new version on its next task
            await gateway.execute(
                case_id, ConfirmReceipt(at=now), OLENA, request_id=f"{case_id}-receipt"
            )
            assert (await versioning(client, case_id)).deployment_version.build_id == ("1.1.0+new")


async def test_a_pinned_case_stays_on_the_release_it_started_on(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    client = dev_env.client
    deployment, prefix = f"readmit-{secrets.token_hex(3)}", f"v{secrets.token_hex(3)}"
    gateway = CaseGateway(client, vault=vault(pool), signer=signer(), queue_prefix=prefix)
    old, new = (f"PL-UA-2027-{secrets.randbelow(10**6):06d}" for _ in range(2))
    now = await dev_env.get_current_time()

    async with running_release(dev_env, pool, release(deployment, "1", "pinned"), prefix):
        await wait_for_version(client, deployment, "1")
        await make_current(client, deployment, "1")
        await gateway.open(opening(old, now), ANNA, request_id=f"{old}-open")
        async with running_release(dev_env, pool, release(deployment, "2", "pinned"), prefix):
            await wait_for_version(client, deployment, "2")
            await make_current_with_the_cli(client, deployment, "2")
            await gateway.execute(old, SubmitApplication(at=now), ANNA, request_id=f"{old}-s")
            await gateway.open(opening(new, now), ANNA, request_id=f"{new}-open")
            pinned = await versioning(client, old)
            assert pinned.behavior == VersioningBehavior.VERSIONING_BEHAVIOR_PINNED
            assert pinned.deployment_version.build_id == "1"
            assert (await versioning(client, new)).deployment_version.build_id == "2"
