"""Rotating the payload key without downtime: a case started under key A is taken over mid-case
by a client and worker holding {A, B} with B active, and runs to its close; its history then
holds payloads under both keys and replays with {A, B}. Key A can be retired only once no
history needs it: with {B} alone that history no longer decodes (a clear `KeyringError`), while
a case begun after the rotation needs B alone."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from test_case_workflow import ANNA, OLENA, new_case_id
from typer.testing import CliRunner
from workers_support import running_workers, signer

from adapters.agreements.catalogue import load_catalogue
from adapters.audit.verify import Verifier
from adapters.db.eventstore import EventStore
from adapters.protection.vault import PersonalDataVault
from adapters.settings import get_settings
from adapters.temporal.binaries import dev_server_path
from adapters.temporal.cases import CaseGateway
from adapters.temporal.codec import ENCODING, KEY_ID, Keyring, KeyringError, data_converter
from adapters.temporal.search_attributes import register
from domain.commands import (
    ConfirmReceipt,
    OpenCase,
    RefuseApplication,
    SubmitApplication,
)
from domain.values import EvidenceItem, Person
from readmit.cli import main
from workflows.contracts import CaseOutcome
from workflows.search_attributes import KEYS

pytestmark = pytest.mark.temporal
KEY_A, KEY_B = os.urandom(32), os.urandom(32)
BEFORE = Keyring({"A": KEY_A}, "A")
DURING = Keyring({"A": KEY_A, "B": KEY_B}, "B")
AFTER = Keyring({"B": KEY_B}, "B")


@pytest.fixture
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """The dev server (real clock): a stopped worker's sticky queue is handed over at once, as
    on a real cluster, which is what replacing a deployment relies on."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(dev_server_path()),
        data_converter=data_converter(BEFORE),
        dev_server_log_level="error",
    )
    await register(env.client)  # the case workflows' search attributes
    yield env
    await env.shutdown()


def client_with(env: WorkflowEnvironment, ring: Keyring) -> Client:
    """A client of the same server whose payloads go through `ring`."""
    base = env.client
    return Client(
        base.service_client, namespace=base.namespace, data_converter=data_converter(ring)
    )


@asynccontextmanager
async def workers_of(
    client: Client, pool: asyncpg.Pool, prefix: str, vault: PersonalDataVault
) -> AsyncIterator[None]:
    """The case and state workers of a deployment, stopped (gracefully) when the block ends."""
    async with running_workers(
        client, pool, ("PL", "UA"), master=vault.master, queue_prefix=prefix
    ):
        yield


def payloads(message: Message) -> Iterator[Payload]:
    """Every `Payload` nested anywhere in a protobuf message (a history event, say)."""
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.name == "search_attributes":  # indexed by the server: checked below
            assert set(value.indexed_fields) <= {"TemporalChangeVersion", *LISTED}, value
            continue
        if descriptor.message_type.GetOptions().map_entry:
            items = [v for v in value.values() if isinstance(v, Message)]
        elif descriptor.is_repeated:
            items = list(value)
        else:
            items = [value]
        for item in items:
            if isinstance(item, Payload):
                yield item
            else:
                yield from payloads(item)


LISTED = {key.name for key in KEYS}


def application_payloads(event: HistoryEvent) -> Iterator[Payload]:
    """The payloads our data converter wrote into `event`. A marker (here: a local activity's,
    the commit of a command's events) keeps the SDK's own bookkeeping in plain JSON (the
    activity's id, type, attempt and times); its `result` is ours. Search attributes are indexed
    by the server, never encoded; the only one the SDK would set is `TemporalChangeVersion`
    (patch ids), and only for a workflow that calls `workflow.patched`: ours call none."""
    if event.HasField("upsert_workflow_search_attributes_event_attributes"):
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        # and the case's listing (`workflows.search_attributes`), which names no person
        assert set(fields.indexed_fields) <= {"TemporalChangeVersion", *LISTED}, fields
    elif event.HasField("marker_recorded_event_attributes"):
        details = event.marker_recorded_event_attributes.details
        yield from (details["result"].payloads if "result" in details else ())
    else:
        yield from payloads(event)


def key_ids(history: WorkflowHistory) -> dict[str, int]:
    """How many payloads of the history each key encrypted ("plaintext": not encrypted)."""
    counts: dict[str, int] = {}
    for event in history.events:
        for payload in application_payloads(event):
            encrypted = payload.metadata.get("encoding") == ENCODING
            key = payload.metadata[KEY_ID].decode() if encrypted else "plaintext"
            counts[key] = counts.get(key, 0) + 1
    return counts


def opening(case_id: str, at: datetime) -> OpenCase:
    return OpenCase(
        at=at,
        case_id=case_id,
        terms=load_catalogue().terms("EU-UA", "PL", "UA"),
        category="own_national",
        person=Person(surname="Bondarenko", given_names="Iryna", birth_date=date(1988, 3, 2)),
        evidence=(EvidenceItem(kind="passport", number="FB654321"),),
        knowledge_at=at - timedelta(days=1),
    )


async def test_payload_key_rotated_mid_case_and_what_retiring_the_old_key_needs(
    dev_env: WorkflowEnvironment, pool: asyncpg.Pool, vault: PersonalDataVault
) -> None:
    env, prefix, store = dev_env, f"k{secrets.token_hex(4)}", EventStore(pool)
    case_id = new_case_id()
    # before: every process holds {A}, A encrypts
    before = client_with(env, BEFORE)
    async with workers_of(before, pool, prefix, vault):
        gateway = CaseGateway(before, vault=vault, signer=signer(), queue_prefix=prefix)
        at = datetime.now(UTC)  # the workflow stamps its own instants
        await gateway.open(opening(case_id, at), ANNA)
        # nothing is left in flight: each command's commit (its events and the notices they
        # cause) is a local activity that has finished when the command's update answers
        await gateway.execute(case_id, SubmitApplication(at=at), ANNA)
    # after the deployment: {A, B}, B encrypts; the old worker is gone, the case goes on
    during = client_with(env, DURING)
    async with workers_of(during, pool, prefix, vault):
        gateway = CaseGateway(during, vault=vault, signer=signer(), queue_prefix=prefix)
        await gateway.execute(case_id, ConfirmReceipt(at=at), OLENA)
        refusal = RefuseApplication(at=at, reasons=("not a national of the requested state",))
        await gateway.execute(case_id, refusal, OLENA)  # the refused case closes by itself
        view = await during.get_workflow_handle(case_id, result_type=CaseOutcome).result()
        assert view.status == "closed"
        # a case begun after the rotation
        newer = new_case_id()
        await gateway.open(opening(newer, at), ANNA)

    history = await during.get_workflow_handle(case_id).fetch_history()
    used = key_ids(history)
    assert set(used) == {"A", "B"}, used  # nothing in plaintext, both keys in one history
    assert min(used.values()) >= 2, used

    # with both keys the whole history decodes, replays, and matches the store
    report = await Verifier(store, during, data_converter(DURING)).verify(case_id)
    assert report.ok, report.as_dict()
    assert report.events == len(await store.read_stream(case_id))

    # retiring A while this history is on the server: nothing under A decodes any more
    under_a = next(p for e in history.events for p in payloads(e) if p.metadata.get(KEY_ID) == b"A")
    with pytest.raises(KeyringError, match="payload encrypted with unknown key 'A'"):
        await data_converter(AFTER).payload_codec.decode([under_a])  # type: ignore[union-attr]
    retired = Verifier(store, client_with(env, AFTER), data_converter(AFTER))
    stale = await retired.verify(case_id)
    assert stale.chain_ok and not stale.replay_ok and not stale.agree_ok
    assert "unknown key 'A'" in stale.agree_detail, stale.as_dict()

    # a history written after the rotation needs B alone: A can go once the older ones have
    newer_history = await during.get_workflow_handle(newer).fetch_history()
    assert set(key_ids(newer_history)) == {"B"}
    fresh = await retired.verify(newer)
    assert fresh.ok, fresh.as_dict()


def test_new_payload_key_is_usable_and_never_replaces_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """`readmit keys new-payload-key --merge` prints the keyring of the first deployment."""
    old = base64.b64encode(KEY_A).decode()
    monkeypatch.setenv("READMIT_PAYLOAD_KEYS", json.dumps({"2027-01": old}))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        result = runner.invoke(main.app, ["keys", "new-payload-key", "--id", "2027-07", "--merge"])
        assert result.exit_code == 0, result.output
        keys = json.loads(result.stdout)
        assert keys["2027-01"] == old and set(keys) == {"2027-01", "2027-07"}
        ring = Keyring.from_encoded(keys, "2027-07")
        assert ring.decrypt(*ring.encrypt(b"Iryna")) == b"Iryna"
        assert "READMIT_PAYLOAD_KEY_ID=2027-07" in result.stderr
        again = runner.invoke(main.app, ["keys", "new-payload-key", "--id", "2027-01"])
        assert again.exit_code == 2 and "already has a key '2027-01'" in again.stderr
    finally:
        get_settings.cache_clear()
