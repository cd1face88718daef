"""PostgreSQL refuses connections for a few seconds (a proxy in front of it is switched off and
every open connection reset) while cases are moving: the activities retry and the cases close
with nothing lost or duplicated; meanwhile the API answers 503 with `Retry-After` as a problem
document, never 500; afterwards it answers normally again without a restart (the pools
reconnect), and the projector that runs beside the API and the workers' outbox dispatcher are
still alive and working."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from e2e.case_walks import OLENA, Walk, audit_case, persist, wait_for_event
from e2e.stack_support import start_dev_server
from fastapi import FastAPI
from fault_support import RunningApi, application, bearer, running_api
from pg_proxy import PgProxy
from structlog.testing import capture_logs
from temporalio.testing import WorkflowEnvironment
from workers_support import signer

from adapters.db.eventstore import EventStore
from adapters.db.pool import create_pool
from adapters.directory import issue_webhook_secret
from adapters.outbox import DispatchSettings
from adapters.temporal.cases import CaseGateway
from adapters.temporal.codec import Keyring
from api import problems
from domain.commands import ConfirmReceipt
from workers.root import build_dispatcher

pytestmark = [pytest.mark.temporal, pytest.mark.db]

CASES = 3
DOWN_SECONDS = 4.0
ANNA = bearer("anna.pl", "officer", "PL")
UA = bearer("olena.ua", "officer", "UA")


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[PgProxy]:
    proxy = PgProxy.before(database_url)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


class WebhookSink:
    """Receives the dispatcher's webhooks and keeps their idempotency keys."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._receive, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/readmit"

    async def _receive(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in head[1:] if line)}
        await reader.readexactly(int(headers.get("content-length", "0")))
        self.keys.append(headers["idempotency-key"])
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()


@pytest.fixture
async def webhooks() -> AsyncIterator[WebhookSink]:
    sink = WebhookSink()
    yield sink
    sink.close()


@pytest.fixture
async def api(
    dev_env: WorkflowEnvironment, proxy: PgProxy, schema_dsn: str, webhooks: WebhookSink
) -> AsyncIterator[RunningApi]:
    """The API and workers as `readmit api` and `readmit worker` build them, both reaching
    PostgreSQL only through the proxy; the workers' outbox dispatcher runs beside them and
    sends PL's officer webhooks."""
    dsn = proxy.through(schema_dsn)
    pool = await create_pool(dsn, min_size=2, max_size=20)
    await pool.execute(
        "INSERT INTO officers (user_id, state, role, display_name, webhook_url)"
        " VALUES ('anna.pl', 'PL', 'officer', 'Anna', $1)",
        await webhooks.start(),
    )
    master = Keyring.from_encoded({"outage": Keyring.new_key()}, "outage", what="master")
    async with pool.acquire() as conn:
        await issue_webhook_secret(conn, "anna.pl", master)
    stop = asyncio.Event()
    settings = DispatchSettings(lease_seconds=5, send_timeout_seconds=1)
    dispatcher = build_dispatcher(pool, settings, master, production=False)
    dispatching = asyncio.create_task(dispatcher.run_forever(stop, interval=0.5))
    try:
        async with running_api(dev_env, dsn, pool) as running:
            yield running
            assert not dispatching.done(), "the outbox dispatcher died"
    finally:
        stop.set()
        await dispatching
        await pool.close()


def unavailable(answer: httpx.Response) -> None:
    """A 503 problem document that says when to try again."""
    assert answer.status_code == 503, (answer.status_code, answer.text)
    assert int(answer.headers["retry-after"]) > 0
    if answer.request.url.path != "/ready":
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["status"] == 503


async def open_submitted(api: RunningApi) -> str:
    opened = await api.post("/cases", ANNA, application())
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    submitted = await api.post(f"/cases/{case_id}/submit", ANNA)
    assert submitted.status_code == 200, submitted.text
    return case_id


async def projected(pool: asyncpg.Pool, case_ids: list[str], within: float) -> None:
    """Until the `cases` rows show every case received and verified, the checkpoint at the
    log's end: only the API's projector writes them in this test."""
    deadline = time.monotonic() + within
    while True:
        rows = await pool.fetch(
            "SELECT status, verification_status FROM cases WHERE case_id = ANY($1)", case_ids
        )
        done = len(rows) == len(case_ids) and all(
            r["status"] == "received" and r["verification_status"] for r in rows
        )
        checkpoint = await pool.fetchval("SELECT position FROM projection_checkpoints")
        last = await pool.fetchval("SELECT max(global_position) FROM case_events")
        if done and checkpoint == last:
            return
        assert time.monotonic() < deadline, f"the projection stopped: {rows}, {checkpoint}/{last}"
        await asyncio.sleep(0.1)


async def webhooks_sent(pool: asyncpg.Pool, case_ids: list[str], within: float) -> list[str]:
    """Keys of the cases' webhook rows, once every one of them is sent."""
    deadline = time.monotonic() + within
    while True:
        rows = await pool.fetch(
            "SELECT key, status FROM notifications WHERE case_id = ANY($1) AND channel = 'webhook'",
            case_ids,
        )
        if rows and all(r["status"] == "sent" for r in rows):
            return sorted(r["key"] for r in rows)
        assert time.monotonic() < deadline, [dict(r) for r in rows]
        await asyncio.sleep(0.2)


async def walk_to_close(api: RunningApi, case_id: str) -> None:
    """The rest of the case over HTTP, as after any other pause."""
    on = datetime.now(UTC) + timedelta(days=3)
    steps: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        ("/accept", UA, {}),
        ("/transfer", ANNA, {"on": on.isoformat(), "bcp": "Medyka-Shehyni", "mode": "land"}),
        ("/transfer/complete", ANNA, {}),
        ("/close", ANNA, {}),
    ]
    for path, who, body in steps:
        headers = step_headers(case_id, path, who)
        answer = await api.http.post(f"/cases/{case_id}{path}", json=body, headers=headers)
        assert answer.status_code == 200, answer.text


def step_headers(case_id: str, path: str, who: dict[str, str]) -> dict[str, str]:
    """The caller's token and an idempotency key per case and step: a request that met the
    outage is sent again with the same key, which must not be poisoned by the 503."""
    return {**who, "Idempotency-Key": f"{case_id}{path}"}


async def test_postgres_outage_is_503_then_business_as_usual(
    api: RunningApi, proxy: PgProxy, pool: asyncpg.Pool, webhooks: WebhookSink
) -> None:
    case_ids = [await open_submitted(api) for _ in range(CASES)]
    gateway = CaseGateway(
        api.client,
        vault=api.vault,
        signer=signer(api.settings),
        queue_prefix=api.settings.queue_prefix,
        wait_seconds=120,
    )
    answers: list[int] = []
    async with proxy.down(DOWN_SECONDS):
        # commands arriving now: their deadlines are computed, their appends fail and retry
        receipts = [
            asyncio.create_task(
                gateway.execute(
                    case_id, ConfirmReceipt(at=datetime.now(UTC)), OLENA, request_id=case_id
                )
            )
            for case_id in case_ids
        ]
        accept = step_headers(case_ids[1], "/accept", UA)
        opening = {**ANNA, "Idempotency-Key": "opened-during-the-outage"}
        started = time.monotonic()
        while time.monotonic() - started < DOWN_SECONDS - 0.5:
            for answer in (
                await api.http.get("/cases", headers=ANNA),
                await api.http.post("/cases", json=application(), headers=opening),
                await api.http.get(f"/cases/{case_ids[0]}", headers=ANNA),
                await api.http.get(f"/cases/{case_ids[0]}/events", headers=ANNA),
                await api.http.post(f"/cases/{case_ids[1]}/accept", json={}, headers=accept),
                await api.http.get("/ready"),
            ):
                unavailable(answer)
                answers.append(answer.status_code)
            await asyncio.sleep(0.2)
        assert not any(r.done() for r in receipts), "a command completed without its events"
    assert proxy.refused > 0  # the pools' connections were cut, not just new ones refused
    results = await asyncio.wait_for(asyncio.gather(*receipts), 90)
    assert {r.status for r in results} == {"received"}

    # the API is back without a restart, and its projector followed what the workers appended
    assert (await api.http.get("/ready")).status_code == 200
    listed = await api.http.get("/cases", headers=ANNA)
    assert listed.status_code == 200, listed.text
    for case_id in case_ids:
        await wait_for_event(pool, case_id, "VerificationRecorded", within=60)
    await projected(pool, case_ids, within=30)
    for case_id in case_ids:
        await walk_to_close(api, case_id)

    # the dispatcher lived through the outage: it sends what the cases wrote since
    sent = await webhooks_sent(pool, case_ids, within=30)
    assert sorted(set(webhooks.keys)) == sorted(sent)  # at least once each (receivers dedupe)

    store = EventStore(pool)
    retried = []
    for case_id, receipt in zip(case_ids, results, strict=True):
        await persist(gateway.handle(case_id).result)
        audit = await audit_case(Walk(case_id, False, [receipt]), store, api.client)
        retried.append(audit.retries)
    assert all(retried), retried  # each receipt's append met the outage and was retried
    print(
        f"postgres outage: {len(answers)} answers while down, all 503; "
        f"{proxy.refused} connections reset; {len(sent)} webhooks sent after it; "
        f"activity attempts retried per case {retried}"
    )


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        TimeoutError(),  # the pool's acquire timing out
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.exceptions.ConnectionFailureError("connection failure"),
        asyncpg.exceptions.AdminShutdownError("terminating connection"),
        asyncpg.exceptions.TooManyConnectionsError("too many clients already"),
        asyncpg.exceptions.InterfaceError("connection is closed"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_connection_errors_answer_503(error: Exception) -> None:
    unavailable(await answer_to(error))


async def test_other_errors_still_answer_500() -> None:
    with capture_logs() as logs:  # rendering the traceback's locals is slow: capture it
        answer = await answer_to(RuntimeError("a bug"))
    assert answer.status_code == 500 and "a bug" not in answer.text
    assert [e["event"] for e in logs] == ["unexpected error"]
    assert "retry-after" not in answer.headers


async def answer_to(error: Exception) -> httpx.Response:
    """What the API's error handlers answer when a route raises `error`."""
    app = FastAPI()
    problems.install(app)

    @app.get("/cases")
    async def failing() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://readmit.test") as http:
        return await http.get("/cases")
