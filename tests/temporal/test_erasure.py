"""Crypto-shredding: when a closed case's retention ends, the sweep erases its data key; then no
personal field, and no free text an officer wrote (reasons, notes, the apprehension place's
name, the messages between the two states), can be read from PostgreSQL or Temporal's history,
while the hash chain still verifies and the history still replays against the workflow code."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import date, timedelta
from uuid import uuid4

import asyncpg
import pytest
from case_system import CaseSystem
from history_text import history_plaintext
from temporalio.worker import Replayer

from adapters.agreements.catalogue import load_catalogue
from adapters.audit.verify import Verifier
from adapters.db.projector import ERASED_SUMMARY, CaseProjector
from adapters.protection.blind_index import BlindIndex, PersonQuery, all_tokens
from adapters.protection.sealing import free_texts
from adapters.registry import import_registry_csv
from adapters.temporal.codec import Keyring, data_converter
from domain.commands import (
    AcceptApplication,
    CloseCase,
    CompleteTransfer,
    ConfirmReceipt,
    DraftReply,
    ExtendReplyLimit,
    ExtendTransferLimit,
    OpenCase,
    ReturnReply,
    ScheduleTransfer,
    SendCaseMessage,
    SubmitApplication,
)
from domain.message_values import MessageKind
from domain.values import ApprehensionPlace, EvidenceItem, Person, PlaceKind, Sealed, Side
from readmit.demo import REGISTRY_CSV
from workflows.contracts import Actor, RetentionInput, RetentionResult, cases_queue
from workflows.readmission_case import ReadmissionCase
from workflows.retention_sweep import RetentionSweep

pytestmark = pytest.mark.temporal

ANNA = Actor(user_id="anna.pl", state="PL", role="officer")
OLENA = Actor(user_id="olena.ua", state="UA", role="officer")
TARAS = Actor(user_id="taras.ua", state="UA", role="supervisor")
# What the case knows of the person, in every spelling it could be stored in.
PERSONAL = ("Shevchenko", "SHEVCHENKO", "Oleksandr", "1990-05-17", "FA123456", "Bila Tserkva")
# What officers wrote about the case: reasons, notes, the place where the person was found.
FREE_TEXT = (
    "Vokzalna street 12",
    "his mother is in hospital in Bila Tserkva",
    "escorted by lawyer Petrenko",
    "Petrenko asked for a later date",
    "strike at the crossing point",
    # a reply drafted for a supervisor's approval, and why it was returned (domain.reply_approval)
    "his cousin Ivan Hnatiuk vouched for him",
    "ask Hnatiuk for the birth certificate",
    # the messages between the two states (domain.messages)
    "the person's sister Iryna lives in Uzhhorod",
    "Iryna's address is vul. Korzo 5",
)
INFO, ANSWER = MessageKind.REQUEST_INFORMATION, MessageKind.ANSWER
REGISTRY_TABLES = ("registry_persons", "registry_documents")  # the state's registry, not the case


async def closed_case(system: CaseSystem) -> str:
    """A case walked from opening to closing, with its identity verified against the registry."""
    gateway = system.gateway
    case_id = f"PL-UA-2027-{secrets.randbelow(10**6):06d}"
    at = await system.env.get_current_time()
    await gateway.open(
        OpenCase(
            at=at,
            case_id=case_id,
            terms=load_catalogue().terms("EU-UA", "PL", "UA"),
            category="own_national",
            person=Person(
                surname="Shevchenko",
                given_names="Oleksandr",
                birth_date=date(1990, 5, 17),
                birth_place="Bila Tserkva",
            ),
            evidence=(EvidenceItem(kind="passport", number="FA123456"),),
            knowledge_at=at - timedelta(days=1),
            apprehended_at=at - timedelta(days=1),
            apprehension_place=ApprehensionPlace(kind=PlaceKind.INLAND, name=FREE_TEXT[0]),
        ),
        ANNA,
    )
    await gateway.execute(case_id, SubmitApplication(at=at), ANNA)
    await gateway.execute(case_id, ConfirmReceipt(at=at), OLENA)
    for _ in range(50):  # the registry lookup runs in the background
        if (await gateway.view(case_id)).state.verification is not None:
            break
        await asyncio.sleep(0.1)
    ask, requested, requesting = uuid4(), Side.REQUESTED, Side.REQUESTING
    for message, actor in (
        (
            SendCaseMessage(at=at, side=requested, message_id=ask, kind=INFO, text=FREE_TEXT[7]),
            OLENA,
        ),
        (
            SendCaseMessage(
                at=at,
                side=requesting,
                message_id=uuid4(),
                kind=ANSWER,
                text=FREE_TEXT[8],
                answers=ask,
            ),
            ANNA,
        ),
    ):
        await gateway.execute(case_id, message, actor)
    await gateway.execute(case_id, ExtendReplyLimit(at=at, reasons=(FREE_TEXT[1],)), OLENA)
    drafted = DraftReply(at=at, reply="refuse", reasons=(FREE_TEXT[5],), by=OLENA.user_id)
    await gateway.execute(case_id, drafted, OLENA)
    await gateway.execute(case_id, ReturnReply(at=at, reasons=(FREE_TEXT[6],)), TARAS)
    await gateway.execute(case_id, AcceptApplication(at=at, note=FREE_TEXT[2]), OLENA)
    on = await system.env.get_current_time() + timedelta(days=3)
    transfer = ScheduleTransfer(at=at, on=on, bcp="Medyka-Shehyni", mode="land")
    await gateway.execute(case_id, transfer, ANNA)
    await gateway.execute(
        case_id, ExtendTransferLimit(at=at, days=10, reasons=FREE_TEXT[3:5]), ANNA
    )
    await system.sleep(3 * 86400)
    await gateway.execute(case_id, CompleteTransfer(at=at), ANNA)
    await gateway.execute(case_id, CloseCase(at=at), ANNA)
    return case_id


SEARCH_INDEX = BlindIndex(bytes(range(32)))


async def person_entries(pool: asyncpg.Pool, case_id: str) -> set[bytes]:
    """The case's rows in the person search's index (a scan of the table, not its API)."""
    rows = await pool.fetch("SELECT hash FROM person_index WHERE case_id = $1", case_id)
    return {bytes(r["hash"]) for r in rows}


async def indexed_shevchenko(pool: asyncpg.Pool) -> set[bytes]:
    """The index's hashes of the case's surname, birth date and passport, whoever holds them."""
    query = PersonQuery("Shevchenko", None, date(1990, 5, 17), "FA123456")
    wanted = [SEARCH_INDEX.hash(t) for t in all_tokens(query.asked())]
    rows = await pool.fetch("SELECT hash FROM person_index WHERE hash = ANY($1)", wanted)
    return {bytes(r["hash"]) for r in rows}


async def database_text(pool: asyncpg.Pool) -> str:
    """Every row of every table of the test's schema but the registry's, as text."""
    tables = await pool.fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )
    texts = []
    for (name,) in tables:
        if name not in REGISTRY_TABLES:
            rows = await pool.fetch(f'SELECT t::text FROM "{name}" t')
            texts += [r[0] for r in rows]
    return "\n".join(texts)


async def test_erasure_shreds_personal_data_everywhere_and_the_case_still_verifies(
    case_system: CaseSystem, keyring: Keyring
) -> None:
    system = case_system
    await import_registry_csv(system.pool, REGISTRY_CSV)
    case_id = await closed_case(system)
    vault = system.gateway.vault
    handle = system.client.get_workflow_handle(case_id)

    # Temporal's history holds only seals, even decrypted with the payload key...
    history = await handle.fetch_history()
    decrypted = history_plaintext(history, keyring)
    assert '"sealed":"v1.' in decrypted
    for personal in PERSONAL + FREE_TEXT:
        assert personal not in decrypted, personal
    # ...and the event store too; the person is readable only through the case key
    stored = "\n".join(json.dumps(r.data) for r in await system.store.read_stream(case_id))
    for personal in PERSONAL + FREE_TEXT:
        assert personal not in stored, personal
    state = (await system.gateway.view(case_id)).state
    assert isinstance(state.person, Sealed)
    opened = await vault.reveal(state)
    assert isinstance(opened.person, Person) and opened.person.surname == "Shevchenko"
    assert opened.evidence[0].item.number == "FA123456"
    assert opened.verification is not None
    assert any("FA123456" in reason for reason in opened.verification.reasons)
    assert opened.apprehension_place is not None
    assert opened.apprehension_place.name == FREE_TEXT[0]
    texts = [
        free_texts(r.event(), await vault.sealer(case_id))
        for r in await system.store.read_stream(case_id)
    ]
    shown = json.dumps(texts)
    assert all(text in shown for text in FREE_TEXT)
    # lists show a summary, opened; the person search indexes the person (issue 17)
    projector = CaseProjector(system.pool, vault=vault, index=SEARCH_INDEX)
    await projector.catch_up()
    shevchenko = await indexed_shevchenko(system.pool)
    assert shevchenko and shevchenko <= await person_entries(system.pool, case_id)
    summary = await system.pool.fetchval(
        "SELECT person_summary FROM cases WHERE case_id = $1", case_id
    )
    assert summary == "SHEVCHENKO O., 1990"

    # a sweep before the retention period ends erases nothing
    sweep_id = f"sweep-{secrets.token_hex(4)}"
    queue = cases_queue(system.prefix)
    early = await system.client.execute_workflow(
        RetentionSweep.run, RetentionInput(), id=sweep_id, task_queue=queue
    )
    assert early == RetentionResult(erased=0, batches=1)
    assert (await vault.status(case_id)).erased_at is None

    # the agreement keeps personal data this many days after closing; then the sweep shreds
    days = load_catalogue().terms("EU-UA", "PL", "UA").retention.personal_data_days_after_close
    await system.sleep((days + 1) * 86400)
    swept = await system.client.execute_workflow(
        RetentionSweep.run, RetentionInput(batch=10), id=f"{sweep_id}-late", task_queue=queue
    )
    assert swept.erased == 1

    status = await vault.status(case_id)
    assert status.erased_at is not None and status.erasure_reason == "retention period ended"
    # nothing personal left in the database (but the state's own registry)...
    text = await database_text(system.pool)
    for personal in PERSONAL + FREE_TEXT:
        assert personal not in text, personal
    summary_sql = "SELECT person_summary FROM cases WHERE case_id = $1"
    assert await system.pool.fetchval(summary_sql, case_id) == ERASED_SUMMARY
    assert await person_entries(system.pool, case_id) == set()  # nor any index entry
    await projector.rebuild()  # a rebuild from the events cannot bring the summary back
    assert await system.pool.fetchval(summary_sql, case_id) == ERASED_SUMMARY
    assert await person_entries(system.pool, case_id) == set()  # nor the index
    assert await indexed_shevchenko(system.pool) == set()
    # ...the seals no longer open for anyone...
    revealed = await vault.reveal(state)
    assert isinstance(revealed.person, Sealed)
    assert revealed.evidence[0].item.number is None
    assert revealed.apprehension_place is not None
    assert isinstance(revealed.apprehension_place.name, Sealed)
    erased = [free_texts(r.event(), None) for r in await system.store.read_stream(case_id)]
    assert not any(text in json.dumps(erased) for text in FREE_TEXT)
    assert {"reasons": {"erased": True}} in erased and {"note": {"erased": True}} in erased
    assert erased.count({"text": {"erased": True}}) == 2  # the two messages' texts
    # ...while the chain verifies and the history replays against the current code
    assert (await system.store.verify(case_id)).ok
    await Replayer(
        workflows=[ReadmissionCase], data_converter=data_converter(keyring)
    ).replay_workflow(history)
    report = await Verifier(system.store, system.client, data_converter(keyring)).verify(case_id)
    assert report.ok, report.as_dict()
