"""`readmit run --federated` as a person runs it: two nodes (PL and UA) come up on consecutive
ports, each with its own database, Temporal dev server and keys, each registered as the other's
peer, each knowing only its own state's officers; a token `readmit token --node UA` signs is
accepted by the UA node and refused by the PL node; and a case goes between them over HTTP, from
PL's submission to its closing on both, each copy's chain verifying."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
from factories import application_body
from runtime_support import RUNTIME_ROLE

from adapters.db.pool import quote_ident
from adapters.federation.identity import NodeIdentity
from readmit.cli.federation import node_database, read_key_set
from readmit.embedded_temporal import free_port, port_is_free

pytestmark = [pytest.mark.temporal, pytest.mark.db]

READY_WITHIN = 90.0
STATES = ("PL", "UA")


def readmit(*args: str) -> list[str]:
    return [sys.executable, "-m", "readmit.cli.main", *args]


def two_free_ports() -> int:
    """A free port whose next one is free too (a node per port)."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and port_is_free(port + 1):
            return port
    raise AssertionError("no two consecutive free ports")


def node_dsn(server: str, state: str) -> str:
    return node_database(server, state)


def drop_node_databases(server: str) -> None:
    async def drop() -> None:
        conn = await asyncpg.connect(server)
        try:
            for state in STATES:
                name = urlsplit(node_dsn(server, state)).path.lstrip("/")
                await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """The test server's DSN, without the nodes' databases before and after."""
    drop_node_databases(database_url)
    yield database_url
    drop_node_databases(database_url)


def test_federated_run_brings_up_two_nodes_that_are_each_others_peers(
    tmp_path: Path, server: str
) -> None:
    api_port, temporal_port = two_free_ports(), two_free_ports()
    env = {k: v for k, v in os.environ.items() if not k.startswith("READMIT_")}
    env |= {
        "READMIT_HOME": str(tmp_path / "home"),
        "DATABASE_URL": server,
        "READMIT_DB_RUNTIME_PASSWORD": RUNTIME_ROLE.password or "",
        "READMIT_API_PORT": str(api_port),
        "READMIT_TEMPORAL_PORT": str(temporal_port),
    }
    urls = {state: f"http://127.0.0.1:{api_port + i}" for i, state in enumerate(STATES)}
    home = tmp_path / "home"
    first = start(env, tmp_path, tmp_path / "first.log")
    try:
        wait_ready(first, tmp_path / "first.log", urls.values())
        output = (tmp_path / "first.log").read_text(errors="replace")
        for state, url in urls.items():
            assert httpx.get(f"{url}/health", timeout=5).status_code == 200
            assert f"{state} node   {url}" in output, output
            assert f"export TOKEN_{state}=" in output, output
        identities = {s: NodeIdentity.load(home / "nodes" / s / "node-keys.json") for s in STATES}
        check_peers(env, tmp_path, server, urls, identities)
        for state in STATES:
            assert officers_states(node_dsn(server, state)) == {state}

        # a token signed with the UA node's keys: UA accepts it, PL does not
        minted = subprocess.run(
            readmit("token", "--node", "UA", "--user", "olena.ua", "--role", "officer",
                    "--state", "UA"),
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert minted.returncode == 0, minted.stderr
        bearer = {"Authorization": f"Bearer {minted.stdout.strip()}"}
        assert httpx.get(f"{urls['UA']}/cases", headers=bearer, timeout=30).status_code == 200
        assert httpx.get(f"{urls['PL']}/cases", headers=bearer, timeout=30).status_code == 401
        anna = {"Authorization": f"Bearer {token(env, tmp_path, 'PL', 'anna.pl')}"}
        case_id = walk_case(urls, anna, bearer, token(env, tmp_path, "PL", "audit.pl", "auditor"))
        # PL's record of the exchange, through the CLI
        record = subprocess.run(
            readmit("case", "--api-url", urls["PL"], "--json", "exchange", case_id),
            env={**env, "READMIT_TOKEN": anna["Authorization"][7:]},
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert record.returncode == 0, record.stderr
        sent = [
            m["command"] for m in json.loads(record.stdout)["messages"] if m["direction"] == "sent"
        ]
        assert sent == ["submit", "schedule_transfer", "complete_transfer", "close"], sent
        for index, state in enumerate(STATES):
            # each copy holds every head its peer signed: `readmit audit verify --peer`
            node_env = {
                **env,
                **read_key_set(home / "nodes" / state / "keys.env"),
                "DATABASE_URL": node_dsn(server, state),
                "READMIT_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port + index}",
                "READMIT_NODE_STATE": state,
                "READMIT_NODE_URL": urls[state],
            }
            verified = subprocess.run(
                readmit("audit", "verify", "--all", "--peer", "--fetch", "--json", "--verbose"),
                env=node_env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert verified.returncode == 0, verified.stdout + verified.stderr
            reports = json.loads(verified.stdout)["cases"]
            assert reports and all(r["peer"]["ok"] for r in reports), reports
        stop(first, tmp_path / "first.log", api_port, temporal_port)

        # a second start keeps each node's keys, and its peers as they were
        second = start(env, tmp_path, tmp_path / "second.log")
        try:
            wait_ready(second, tmp_path / "second.log", urls.values())
            again = {s: NodeIdentity.load(home / "nodes" / s / "node-keys.json") for s in STATES}
            assert {s: i.signing_kid for s, i in again.items()} == {
                s: i.signing_kid for s, i in identities.items()
            }
            check_peers(env, tmp_path, server, urls, identities)
            assert httpx.get(f"{urls['UA']}/cases", headers=bearer, timeout=30).status_code == 200
            stop(second, tmp_path / "second.log", api_port, temporal_port)
        finally:
            kill(second)
    finally:
        kill(first)


def token(env: dict[str, str], cwd: Path, node: str, user: str, role: str = "officer") -> str:
    flags = ("--states", node) if role == "auditor" else ("--state", node)
    minted = subprocess.run(
        readmit("token", "--node", node, "--user", user, "--role", role, *flags),
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert minted.returncode == 0, minted.stderr
    return minted.stdout.strip()


def walk_case(
    urls: dict[str, str], anna: dict[str, str], olena: dict[str, str], auditor: str
) -> str:
    """PL opens and submits; UA's node holds the case, its reply limit counted from the signed
    receipt; UA acknowledges and accepts; PL schedules and completes the transfer and closes the
    case; both copies end closed, with chains that verify."""
    pl, ua = urls["PL"], urls["UA"]
    today = datetime.now(UTC)
    opened = httpx.post(
        f"{pl}/cases",
        json=application_body(knowledge_at=(today - timedelta(days=2)).isoformat()),
        headers=anna,
        timeout=60,
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]

    def act(url: str, path: str, who: dict[str, str], body: dict[str, Any] | None = None) -> None:
        """Send a command and wait until it took effect on this node too (its receipt back):
        a node takes no command while one of its messages is on its way."""
        answer = httpx.post(
            f"{url}/cases/{case_id}{path}", json=body or {}, headers=who, timeout=60
        )
        assert answer.status_code == 202, answer.text  # on its way to the other node
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            record = httpx.get(f"{url}/cases/{case_id}/exchange", headers=who, timeout=30)
            if record.status_code == 200 and not record.json()["on_its_way"]:
                return
            time.sleep(0.2)
        raise AssertionError(f"{path} still on its way from {url}: {record.text}")

    def reaches(url: str, who: dict[str, str], wanted: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answer = httpx.get(f"{url}/cases/{case_id}", headers=who, timeout=30)
            if answer.status_code == 200 and answer.json()["status"] == wanted:
                view: dict[str, Any] = answer.json()
                return view
            time.sleep(0.2)
        raise AssertionError(f"{case_id} not {wanted} at {url}: {answer.text}")

    act(pl, "/submit", anna)
    on_ua = reaches(ua, olena, "received")
    on_pl = reaches(pl, anna, "received")
    received = datetime.fromisoformat(on_ua["received_at"])
    assert datetime.fromisoformat(on_pl["received_at"]) == received
    reply = {n: v["deadlines"]["reply"] for n, v in (("PL", on_pl), ("UA", on_ua))}
    assert datetime.fromisoformat(reply["UA"]["triggered_at"]) == received
    assert reply["UA"]["due"] == reply["PL"]["due"]
    act(ua, "/accept", olena)
    reaches(pl, anna, "accepted")
    reaches(ua, olena, "accepted")  # in effect on the sender once the receipt is back
    on = (today + timedelta(days=3)).isoformat()
    act(pl, "/transfer", anna, {"on": on, "bcp": "Medyka-Shehyni", "mode": "land"})
    reaches(ua, olena, "transfer_scheduled")
    reaches(pl, anna, "transfer_scheduled")
    act(pl, "/transfer/complete", anna)
    reaches(ua, olena, "transferred")
    reaches(pl, anna, "transferred")
    act(pl, "/close", anna)
    reaches(ua, olena, "closed")
    reaches(pl, anna, "closed")
    pl_auditor = {"Authorization": f"Bearer {auditor}"}
    verified = httpx.get(f"{pl}/cases/{case_id}/verify", headers=pl_auditor, timeout=30).json()
    assert verified["ok"], verified
    return str(case_id)


def start(env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            readmit("run", "--federated", "--headless", "--state", "PL", "--state", "UA"),
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], log: Path, api_port: int, temporal_port: int) -> None:
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, log.read_text(errors="replace")
    output = log.read_text(errors="replace")
    assert "✓ stopped" in output and "Traceback" not in output, output
    for port in (api_port, api_port + 1, temporal_port, temporal_port + 1):
        assert port_is_free(port), output


def kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def check_peers(
    env: dict[str, str],
    cwd: Path,
    server: str,
    urls: dict[str, str],
    identities: dict[str, NodeIdentity],
) -> None:
    """Each node lists the other as its only peer, with the other's key file's keys."""
    for state, other in (("PL", "UA"), ("UA", "PL")):
        listed = subprocess.run(
            readmit("peers", "list", "--json", "--database-url", node_dsn(server, state)),
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
        peers = json.loads(listed.stdout)
        assert [(p["state"], p["url"], p["status"]) for p in peers] == [
            (other, urls[other], "active")
        ]
        assert {(k["kid"], k["status"]) for k in peers[0]["keys"]} == {
            (identities[other].signing_kid, "active"),
            (identities[other].encryption_kid, "active"),
        }


def wait_ready(process: subprocess.Popen[bytes], log: Path, urls: Iterable[str]) -> None:
    started = time.monotonic()
    pending = set(urls)
    while pending and time.monotonic() - started < READY_WITHIN:
        assert process.poll() is None, f"`readmit run` exited:\n{log.read_text(errors='replace')}"
        for url in list(pending):
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    pending.discard(url)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    assert not pending, f"not ready within {READY_WITHIN} s:\n{log.read_text(errors='replace')}"


def officers_states(dsn: str) -> set[str]:
    async def query() -> set[str]:
        conn = await asyncpg.connect(dsn)
        try:
            return {r["state"] for r in await conn.fetch("SELECT DISTINCT state FROM officers")}
        finally:
            await conn.close()

    return asyncio.run(query())
