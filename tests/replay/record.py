"""Record workflow histories for the replay tests: `python tests/replay/record.py`.

Runs a few representative cases on the time-skipping server (with real activities and
PostgreSQL, in a throwaway schema) and writes each history as JSON to `tests/replay/histories/`.
The payloads are encrypted with the test-only key in `keyring.json`, committed beside this file,
so CI can decrypt them. Re-record only to add new shapes (`record.py <prefix>` writes new files
beside the old; existing files are never overwritten): older histories are what a running case
looks like.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import sys
from datetime import date, timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from adapters.agreements.catalogue import load_catalogue
from adapters.db.migrate import migrate_dsn
from adapters.db.pool import connect, create_pool
from adapters.settings import Settings
from adapters.temporal.binaries import test_server_path
from adapters.temporal.cases import CaseGateway
from adapters.temporal.codec import Keyring, data_converter
from domain.commands import (
    AcceptApplication,
    CloseCase,
    CompleteTransfer,
    ConfirmReceipt,
    ExtendReplyLimit,
    OpenCase,
    RefuseApplication,
    ScheduleTransfer,
    SubmitApplication,
)
from domain.values import EvidenceItem, Person
from workers.root import worker_root
from workflows.contracts import Actor

HERE = Path(__file__).parent
ANNA = Actor(user_id="anna.pl", state="PL", role="officer")
OLENA = Actor(user_id="olena.ua", state="UA", role="officer")


def replay_keyring() -> Keyring:
    data = json.loads((HERE / "keyring.json").read_text())
    return Keyring.from_encoded(data["keys"], data["active"])


async def record(dsn: str, prefix: str) -> None:
    """Record the representative cases as `histories/<prefix><name>.json` (new files only)."""
    schema = f"rec_{secrets.token_hex(4)}"
    await migrate_dsn(dsn, schema=schema, create_schema=True)
    pool = await create_pool(dsn, schema=schema)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()),
        data_converter=data_converter(replay_keyring()),
    )
    workers = contextlib.AsyncExitStack()
    root = await workers.enter_async_context(
        worker_root(
            Settings(),
            ["PL", "UA"],
            background=False,
            client=env.client,
            pool=pool,
            # Replaying needs only the payload keyring: the case keys' master key may be lost.
            master=Keyring({"rec": os.urandom(32)}, "rec", what="master"),
            queue_prefix="rec",
            sandbox=True,
        )
    )
    await workers.enter_async_context(root.running())
    gateway = CaseGateway(env.client, vault=root.vault, queue_prefix="rec")
    terms = load_catalogue().terms("EU-UA", "PL", "UA")

    async def opened(name: str) -> str:
        at = await env.get_current_time()
        case_id = f"PL-UA-2027-{secrets.randbelow(10**6):06d}"
        person = Person(surname="Testova", given_names="Iryna", birth_date=date(1985, 3, 2))
        await gateway.open(
            OpenCase(
                at=at,
                case_id=case_id,
                terms=terms,
                category="own_national",
                person=person,
                evidence=(EvidenceItem(kind="passport", number="TT000001"),),
                knowledge_at=at - timedelta(days=3),
            ),
            ANNA,
        )
        await gateway.execute(case_id, SubmitApplication(at=at), ANNA)
        await gateway.execute(case_id, ConfirmReceipt(at=at), OLENA)
        await env.sleep(60)
        return case_id

    async def save(name: str, case_id: str) -> None:
        target = HERE / "histories" / f"{prefix}{name}.json"
        if target.exists():
            print(f"kept {target.name}: an older history is never overwritten")
            return
        handle = env.client.get_workflow_handle(case_id)
        history = await handle.fetch_history()
        target.write_text(history.to_json())
        print(f"recorded {target.name}: {len(history.events)} events")

    with env.auto_time_skipping_disabled():
        case_id = await opened("happy_path")
        await gateway.execute(case_id, AcceptApplication(at=await env.get_current_time()), OLENA)
        on = await env.get_current_time() + timedelta(days=5)
        await gateway.execute(
            case_id,
            ScheduleTransfer(at=on, on=on, bcp="Medyka-Shehyni", mode="land", escorts=1),
            ANNA,
        )
        await env.sleep(5 * 86400)
        await gateway.execute(case_id, CompleteTransfer(at=on), ANNA)
        await gateway.execute(case_id, CloseCase(at=on), ANNA)
        await save("happy_path", case_id)

        case_id = await opened("deemed_accepted")
        reply = (await gateway.view(case_id)).state.deadlines["reply"]
        await env.sleep((reply.due - await env.get_current_time()).total_seconds() + 10)
        await save("deemed_accepted", case_id)

        case_id = await opened("extended_then_refused")
        at = await env.get_current_time()
        await gateway.execute(case_id, ExtendReplyLimit(at=at, reasons=("interview",)), OLENA)
        await env.sleep(20 * 86400)
        await gateway.execute(case_id, RefuseApplication(at=at, reasons=("not a national",)), OLENA)
        await gateway.execute(case_id, CloseCase(at=at), ANNA)
        await save("extended_then_refused", case_id)

    await workers.aclose()
    await env.shutdown()
    await pool.close()
    conn = await connect(dsn)
    await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await conn.close()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    # e.g. `record.py sealed_`: the same cases as recorded by the current code, beside the old
    prefix = sys.argv[1] if len(sys.argv) > 1 else ""
    dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    asyncio.run(record(dsn, prefix))
