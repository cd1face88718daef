"""Record the workflow histories the replay tests replay: `python tests/replay/record.py v0.2.0`.

Runs representative cases on the time-skipping server (with real activities and PostgreSQL, in
a throwaway schema; `DATABASE_URL` names the server) and writes each history as JSON into the
folder named on the command line, beside this file. The payloads are encrypted with the
test-only key in `keyring.json`, committed here, so CI can decrypt them.

Releases. The histories a tagged release records live in `tests/replay/v<version>/`, and
`test_replay.py` replays every folder here against the current code: a workflow change that
would break a case started under a kept release fails CI (change workflow code only behind
`workflow.patched`; a history of the new path may be recorded meanwhile into a folder of its
own, e.g. `record.py unreleased`, replayed too). To release v<version>:

1. on the commit to be tagged, `python tests/replay/record.py v<version>` (existing files are
   never overwritten: to record a folder again, delete it first), and delete the folders of
   histories recorded since the last release: the new release's folder covers them;
2. commit the folder with the release (a path the workflow gained since gets a walk of its own
   in `record` below and in `WALKS` of `test_replay.py`);
3. delete the folders of releases whose cases can no longer be running, together with the
   `workflow.patched` branches only they needed (`deprecate_patch` first while such cases may
   still run).
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
from adapters.temporal.command_signing import CommandSigner
from adapters.temporal.search_attributes import register
from domain.commands import (
    AcceptApplication,
    AddEvidence,
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
from workflows.contracts import Actor, RetentionInput, cases_queue
from workflows.retention_sweep import RetentionSweep

HERE = Path(__file__).parent
SIGNER = CommandSigner.throwaway()  # signatures are checked when recorded, not on replay
ANNA = Actor(user_id="anna.pl", state="PL", role="officer")
OLENA = Actor(user_id="olena.ua", state="UA", role="officer")


def replay_keyring() -> Keyring:
    data = json.loads((HERE / "keyring.json").read_text())
    return Keyring.from_encoded(data["keys"], data["active"])


async def record(dsn: str, folder: Path) -> None:
    """Record the representative walks as `<folder>/<walk>.json` (new files only)."""
    schema = f"rec_{secrets.token_hex(4)}"
    await migrate_dsn(dsn, schema=schema, create_schema=True)
    pool = await create_pool(dsn, schema=schema)
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(test_server_path()),
        data_converter=data_converter(replay_keyring()),
    )
    await register(env.client)  # the case workflows' search attributes
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
            verifier=SIGNER.verifier(),
            queue_prefix="rec",
            sandbox=True,
        )
    )
    await workers.enter_async_context(root.running())
    gateway = CaseGateway(env.client, vault=root.vault, signer=SIGNER, queue_prefix="rec")
    terms = load_catalogue().terms("EU-UA", "PL", "UA")

    async def opened(name: str, gateway: CaseGateway = gateway) -> str:
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

    async def save(name: str, workflow_id: str, run_id: str | None = None) -> None:
        target = folder / f"{name}.json"
        if target.exists():
            print(f"kept {target}: a recorded history is never overwritten")
            return
        handle = env.client.get_workflow_handle(workflow_id, run_id=run_id)
        history = await handle.fetch_history()
        target.write_text(history.to_json())
        print(f"recorded {target}: {len(history.events)} events")

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
        if (await gateway.view(case_id)).state.status.value != "closed":  # ruleset 2 closes it
            await gateway.execute(case_id, CloseCase(at=at), ANNA)
        await save("extended_then_refused", case_id)

        # a long case continues as new, its state carried into the next run
        short = CaseGateway(
            env.client, vault=root.vault, signer=SIGNER, queue_prefix="rec", history_limit=50
        )
        case_id = await opened("continued_as_new", short)
        handle = env.client.get_workflow_handle(case_id)
        first_run = (await handle.describe()).run_id
        for n in range(8):
            at = await env.get_current_time()
            item = EvidenceItem(kind="birth_certificate", number=f"BC{n:06d}")
            await short.execute(case_id, AddEvidence(at=at, items=(item,)), ANNA)
        assert (await handle.describe()).run_id != first_run, "the case did not continue as new"
        await short.execute(case_id, AcceptApplication(at=await env.get_current_time()), OLENA)
        await save("continued_as_new.run1", case_id, first_run)
        await save("continued_as_new.run2", case_id)

        sweep = f"retention-{secrets.token_hex(4)}"
        await env.client.execute_workflow(
            RetentionSweep.run, RetentionInput(), id=sweep, task_queue=cases_queue("rec")
        )
        await save("retention_sweep", sweep)

    await workers.aclose()
    await env.shutdown()
    await pool.close()
    conn = await connect(dsn)
    await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    await conn.close()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent.parent))
    if len(sys.argv) != 2:
        sys.exit("usage: record.py <folder, e.g. v0.2.0>")
    target = HERE / sys.argv[1]
    target.mkdir(exist_ok=True)
    dsn = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    asyncio.run(record(dsn, target))
