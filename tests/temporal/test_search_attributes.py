"""Case workflows are listed by their search attributes (`workflows.search_attributes`): set
when the gateway starts a case, upserted as it moves and when its alarms fire, so operators find
"overdue EU-UA cases". The time-skipping server keeps the attributes (it lets a deadline pass)
but answers no list query; the dev server answers `list_workflows` queries, in real time."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import asyncpg
import pytest
from case_system import CaseSystem
from factories import limit, terms
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.common import TypedSearchAttributes
from temporalio.converter import decode_typed_search_attributes
from temporalio.testing import WorkflowEnvironment
from test_case_workflow import ANNA, OLENA, now, open_case, submitted_and_received
from test_transit_workflow import open_transit, run_past_the_reply_limit
from workers_support import running_workers, signer

from adapters.agreements.catalogue import load_catalogue
from adapters.db.eventstore import EventStore
from adapters.protection.vault import PersonalDataVault
from adapters.temporal.cases import CaseGateway, CommandRefused
from domain.commands import AcceptApplication, CloseCase, OpenCase, RefuseApplication
from domain.listing import listing_of
from domain.values import EvidenceItem, Person
from workflows.search_attributes import (
    AGREEMENT,
    KIND,
    NEXT_DUE,
    OVERDUE,
    REQUESTED_STATE,
    REQUESTING_STATE,
    STATUS,
)

pytestmark = pytest.mark.temporal


async def attributes(system: CaseSystem, case_id: str) -> TypedSearchAttributes:
    """The case's attributes as the server describes them. The time-skipping server keeps an
    unset attribute as a null the SDK cannot decode (a real server drops it): left out here."""
    described = await system.client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=system.client.namespace, execution=WorkflowExecution(workflow_id=case_id)
        )
    )
    fields = described.workflow_execution_info.search_attributes.indexed_fields
    for name in [n for n, v in fields.items() if v.metadata.get("encoding") == b"binary/null"]:
        del fields[name]
    return decode_typed_search_attributes(described.workflow_execution_info.search_attributes)


async def test_a_case_is_listed_from_its_start_and_overdue_once_a_limit_passes(
    case_system: CaseSystem,
) -> None:
    case_id = await open_case(case_system)
    listed = await attributes(case_system, case_id)
    assert listed.get(AGREEMENT) == "EU-UA"
    assert (listed.get(REQUESTING_STATE), listed.get(REQUESTED_STATE)) == ("PL", "UA")
    assert (listed.get(KIND), listed.get(STATUS), listed.get(OVERDUE)) == (
        "readmission",
        "draft",
        False,
    )
    listing = listing_of((await case_system.gateway.view(case_id)).state)
    assert listing is not None and listed.get(NEXT_DUE) == listing.next_due

    accepted = await submitted_and_received(case_system)
    await case_system.gateway.execute(accepted, AcceptApplication(at=await now(case_system)), OLENA)
    transfer = (await case_system.gateway.view(accepted)).state.deadlines["transfer"].due
    listed = await attributes(case_system, accepted)
    assert (listed.get(STATUS), listed.get(NEXT_DUE), listed.get(OVERDUE)) == (
        "accepted",
        transfer,
        False,
    )
    # the transfer limit passes: the alarm's escalation marks the case overdue
    await case_system.sleep((transfer - await now(case_system)).total_seconds() + 5)
    listed = await attributes(case_system, accepted)
    assert listed.get(OVERDUE) is True and listed.get(STATUS) == "accepted"
    assert listed.get(NEXT_DUE) is None  # no other limit runs
    assert ANNA.state == listed.get(REQUESTING_STATE)


async def test_a_transit_case_is_listed_as_one(case_system: CaseSystem) -> None:
    case_id = await open_transit(case_system, load_catalogue().terms("EU-MD", "AT", "MD"))
    listed = await attributes(case_system, case_id)
    assert (listed.get(AGREEMENT), listed.get(KIND), listed.get(STATUS)) == (
        "EU-MD",
        "transit",
        "received",
    )
    assert (listed.get(REQUESTING_STATE), listed.get(REQUESTED_STATE)) == ("AT", "MD")
    await run_past_the_reply_limit(case_system, case_id)
    assert (await attributes(case_system, case_id)).get(OVERDUE) is True


@pytest.fixture
async def dev_system(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> AsyncIterator[CaseSystem]:
    prefix = f"t{secrets.token_hex(4)}"
    client = dev_env.client
    system = CaseSystem(
        env=dev_env,
        client=client,
        gateway=CaseGateway(client, vault=vault, signer=signer(), queue_prefix=prefix),
        store=EventStore(pool),
        pool=pool,
        prefix=prefix,
    )
    async with running_workers(
        client, pool, ("PL", "UA"), master=vault.master, queue_prefix=prefix
    ):
        yield system


async def listed_ids(client: Client, query: str, expected: set[str]) -> set[str]:
    """The workflow ids `query` lists, asked again until they are `expected` (the server's
    visibility store follows the histories shortly after) or ten seconds have passed."""
    found: set[str] = set()
    for _ in range(100):
        found = {w.id async for w in client.list_workflows(query)}
        if found == expected:
            break
        await asyncio.sleep(0.1)
    return found


async def test_operators_list_overdue_cases_of_an_agreement(dev_system: CaseSystem) -> None:
    """On the dev server (the time-skipping one answers no list query): a submission limit of an
    hour, counted from a discovery two hours ago, has passed when the case opens; its alarm
    fires at once and the case is listed among the overdue EU-UA cases."""
    hourly = terms(
        limits={
            **terms().limits,
            "submission": limit(1, "hours", "knowledge", on_expiry="escalate"),
        }
    )
    at: datetime = await dev_system.env.get_current_time()
    ids = [f"PL-UA-2027-{secrets.randbelow(10**6):06d}" for _ in range(2)]
    late, fresh = ids
    for case_id, knowledge in ((late, at - timedelta(hours=2)), (fresh, at)):
        command = OpenCase(
            at=at,
            case_id=case_id,
            terms=hourly if case_id == late else terms(),
            category="own_national",
            person=Person(
                surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)
            ),
            evidence=(EvidenceItem(kind="passport", number="FA123456"),),
            knowledge_at=knowledge,
        )
        await dev_system.gateway.open(command, ANNA)
    ours = " OR ".join(f"WorkflowId='{i}'" for i in ids)
    client = dev_system.client
    overdue = f"ReadmitAgreement='EU-UA' AND ReadmitOverdue=true AND ({ours})"
    assert await listed_ids(client, overdue, {late}) == {late}
    by_agreement = f"ReadmitAgreement='EU-UA' AND ({ours})"
    assert await listed_ids(client, by_agreement, set(ids)) == set(ids)
    due_later = f"ReadmitNextDue > '{at.isoformat()}' AND ReadmitOverdue=false AND ({ours})"
    assert await listed_ids(client, due_later, {fresh}) == {fresh}
    assert await listed_ids(client, f"ReadmitAgreement='EU-MD' AND ({ours})", set()) == set()


async def test_a_refused_case_has_no_next_due_instant(case_system: CaseSystem) -> None:
    """Refused, nothing more can happen: the case closes by itself, no limit running."""
    case_id = await submitted_and_received(case_system)
    at = await now(case_system)
    assert (await attributes(case_system, case_id)).get(NEXT_DUE) is not None
    await case_system.gateway.execute(case_id, RefuseApplication(at=at, reasons=("x",)), OLENA)
    listed = await attributes(case_system, case_id)
    assert (listed.get(STATUS), listed.get(NEXT_DUE)) == ("closed", None)
    described = await case_system.client.get_workflow_handle(case_id).describe()
    assert described.typed_search_attributes.get(NEXT_DUE) is None
    with pytest.raises(CommandRefused, match="closed"):
        await case_system.gateway.execute(case_id, CloseCase(at=at), ANNA)
