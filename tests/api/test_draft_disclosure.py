"""Drafts belong to the requesting state: until it submits a case, the requested state sees
nothing of it, on any read endpoint or page, and a draft withdrawn before submission stays
invisible to it for ever.

Three cases PL→UA (EU-UA), opened by the PL officer: one left a draft, one submitted, one
withdrawn while still a draft. Every read surface of the app (each GET route, plus the POSTs that
answer with a case's data: the codec, for auditors of every state only; the audit export;
marking a notification read) is asked by the requesting state's officer, supervisor and auditors
(they see all three), the requested state's officer, supervisor and auditor (only the submitted
one), a third state's officer and auditor and an administrator (none). A hidden case answers
404 exactly as a third state's case does: its existence is not disclosed.
`test_every_read_route_is_checked` fails when a GET route is added without saying here how it
shows cases (or that it shows none).
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from api_harness import Api, app_endpoints
from attachment_files import png
from factories import application_body
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload

from adapters.keys import payload_keyring
from adapters.temporal.codec import EncryptionCodec

pytestmark = pytest.mark.temporal

DRAFT, SUBMITTED, WITHDRAWN = "draft", "submitted", "withdrawn draft"
EVERY = frozenset({DRAFT, SUBMITTED, WITHDRAWN})
NOTHING: frozenset[str] = frozenset()

# caller -> (user, role, state, auditor's states, the cases it sees)
CALLERS: dict[str, tuple[str, str, str | None, tuple[str, ...], frozenset[str]]] = {
    "officer PL": ("anna.pl", "officer", "PL", (), EVERY),
    "supervisor PL": ("piotr.pl", "supervisor", "PL", (), EVERY),
    "auditor PL": ("audit.pl", "auditor", None, ("PL",), EVERY),
    "auditor *": ("audit.all", "auditor", None, ("*",), EVERY),
    "officer UA": ("olena.ua", "officer", "UA", (), frozenset({SUBMITTED})),
    "supervisor UA": ("taras.ua", "supervisor", "UA", (), frozenset({SUBMITTED})),
    "auditor UA": ("audit.ua", "auditor", None, ("UA",), frozenset({SUBMITTED})),
    "officer DE": ("hans.de", "officer", "DE", (), NOTHING),
    "auditor DE": ("audit.de", "auditor", None, ("DE",), NOTHING),
    "admin PL": ("root.pl", "admin", "PL", (), NOTHING),
}
OPEN = application_body(knowledge_at=(datetime.now(UTC) - timedelta(days=1)).isoformat())
CASE_ID = re.compile(r"\b[A-Z]{2}-[A-Z]{2}-\d{4}-\d{6}\b")
# any other status: the submitted case (the withdrawn draft has closed by itself, see below)
STATUS_WORDS = {"Draft": DRAFT, "Withdrawn": WITHDRAWN, "Closed": WITHDRAWN}


@dataclass
class World:
    """The three cases (name -> id) and how to ask the app as each caller."""

    api: Api
    cases: dict[str, str]
    problems: list[str] = field(default_factory=list)
    # one token per caller: a page's CSRF field derives from its session's token, which a token
    # issued a second later (another `iat`) would not match
    tokens: dict[str, str] = field(default_factory=dict)

    async def headers(self, caller: str, path: str) -> dict[str, str]:
        user, role, state, states, _ = CALLERS[caller]
        if path.startswith("/ui"):  # a page's session: a `web_sessions` row
            key = f"session:{caller}"
            if key not in self.tokens:
                self.tokens[key] = await self.api.session(user, role, state, states)
            return {"Cookie": f"readmit_session={self.tokens[key]}"}
        if caller not in self.tokens:
            self.tokens[caller] = self.api.token(user, role, state, states)
        return {"Authorization": f"Bearer {self.tokens[caller]}"}

    async def ask(
        self,
        caller: str,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        self.api.http.cookies.clear()
        headers = {**(await self.headers(caller, path)), **extra.pop("headers", {})}
        answer: httpx.Response = await self.api.http.request(
            method, path, params=params, headers=headers, **extra
        )
        return answer

    def named(self, text: str) -> frozenset[str]:
        """The cases among ours whose id `text` mentions."""
        ids = set(CASE_ID.findall(text))
        return frozenset(name for name, case_id in self.cases.items() if case_id in ids)

    def role(self, caller: str) -> str:
        return CALLERS[caller][1]


Surface = Callable[[World, str], Awaitable[frozenset[str]]]
AUDITORS = frozenset({"auditor"})


def one_case(path: str, *, auditors_only: bool = False) -> Surface:
    """A route about one case: 200 shows it; hidden, it answers 404 as a third state's case
    does (403 for a role refused before any lookup: admins; non-auditors on audit pages)."""

    async def surface(world: World, caller: str) -> frozenset[str]:
        role = world.role(caller)
        refused = role == "admin" or (auditors_only and role != "auditor")
        seen = set()
        for name, case_id in world.cases.items():
            target = path.format(case_id=case_id)
            answer = await world.ask(caller, "GET", target)
            if answer.status_code == 200:
                seen.add(name)
                continue
            want = 403 if refused else 404
            if answer.status_code != want:
                world.problems.append(f"{target} as {caller}: {answer.status_code} (want {want})")
            elif want == 404 and not path.startswith("/ui"):
                stranger = await world.ask("officer DE", "GET", target)
                if answer.json() != stranger.json():
                    world.problems.append(f"{target} as {caller}: not the 404 of another state's")
        return frozenset(seen)

    return surface


def listing(path: str, variants: tuple[dict[str, str], ...], *, json: bool) -> Surface:
    """A route listing cases: the cases any of its filters shows (403 shows none)."""

    async def surface(world: World, caller: str) -> frozenset[str]:
        seen: frozenset[str] = NOTHING
        for params in variants:
            answer = await world.ask(caller, "GET", path, params)
            if answer.status_code == 403:
                continue
            if answer.status_code != 200:
                world.problems.append(f"{path} {params} as {caller}: {answer.status_code}")
                continue
            if json:
                seen |= world.named(" ".join(i["case_id"] for i in answer.json()["items"]))
            else:
                seen |= world.named(answer.text)
        return seen

    return surface


def one_document(path: str) -> Surface:
    """A document of one case: a case the caller sees answers 200, or 409 when it has not
    reached the document yet (which discloses the case: so only to those who see it); a hidden
    case answers 404 as `one_case` says."""
    shown = one_case(path)

    async def surface(world: World, caller: str) -> frozenset[str]:
        seen = set()
        for name, case_id in world.cases.items():
            answer = await world.ask(caller, "GET", path.format(case_id=case_id))
            if answer.status_code == 409:
                seen.add(name)
        rest = {n: c for n, c in world.cases.items() if n not in seen}
        return frozenset(seen) | await shown(
            World(world.api, rest, world.problems, world.tokens), caller
        )

    return surface


CASE_FILTERS: tuple[dict[str, str], ...] = (
    {},
    {"side": "requesting"},
    {"side": "requested"},
    {"counterpart": "PL"},
    {"counterpart": "UA"},
    {"status": "draft"},
    {"status": "withdrawn"},
    {"status": "closed"},
    {"q": "PL-UA"},
    # by the assignee on the caller's side: the draft has none on UA's, and UA still sees nothing
    {"assigned": "unassigned"},
    {"assigned": "me"},
    # replies awaiting approval (issue 17): a case not yet disclosed awaits nothing of UA's
    {"awaiting_approval": "true"},
    {"awaiting_approval": "false"},
)
INBOX_FILTERS: tuple[dict[str, str], ...] = ({}, {"unread": "true"})


async def disclosure_log(world: World, caller: str) -> frozenset[str]:
    """The auditor's disclosure log: everyone's reads of the cases it may audit."""
    seen: frozenset[str] = NOTHING
    for params in ({}, *({"case_id": case_id} for case_id in world.cases.values())):
        answer = await world.ask(caller, "GET", "/audit/disclosures", params)
        if answer.status_code == 403 and world.role(caller) != "auditor":
            continue
        assert answer.status_code == 200, (caller, answer.text)
        seen |= world.named(" ".join(c for i in answer.json()["items"] for c in i["case_ids"]))
    return seen


def by_status(counts: dict[str, int]) -> frozenset[str]:
    """The cases that figures by status word count: each of ours has a status of its own."""
    return frozenset(STATUS_WORDS.get(word, SUBMITTED) for word, n in counts.items() if n > 0)


async def statistics_page(world: World, caller: str) -> frozenset[str]:
    answer = await world.ask(caller, "GET", "/ui/stats")
    if answer.status_code == 403:
        return NOTHING
    assert answer.status_code == 200, (caller, answer.status_code)
    table = re.search(r'<table class="responsive" id="by-status">(.*?)</table>', answer.text, re.S)
    if table is None:
        return NOTHING  # no case in scope: no table by status
    total = re.search(r'<th scope="row">All</th>(.*?)</tr>', table.group(1), re.S)
    assert total is not None
    cells = re.findall(r'data-label="([^"]+)">(\d+)<', total.group(1))
    return by_status({word: int(n) for word, n in cells})


async def statistics_csv(world: World, caller: str) -> frozenset[str]:
    answer = await world.ask(caller, "GET", "/ui/stats.csv")
    if answer.status_code == 403:
        return NOTHING
    assert answer.status_code == 200, (caller, answer.status_code)
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    total = rows[-1]
    assert total["agreement"] == "all"
    counts = {
        key.removeprefix("status_").capitalize(): int(value)
        for key, value in total.items()
        if key.startswith("status_")
    }
    return by_status(counts)


async def statistics_json(world: World, caller: str) -> frozenset[str]:
    answer = await world.ask(caller, "GET", "/stats")
    if answer.status_code == 403:
        return NOTHING
    assert answer.status_code == 200, (caller, answer.status_code)
    body = answer.json()
    counted = {k.capitalize(): n for k, n in body["total"]["by_status"].items()}
    months = sum(row["cases"] for row in body["by_month"])
    assert months == body["total"]["cases"], (caller, "the months count other cases")
    return by_status(counted)


def attachment_download(prefix: str = "") -> Surface:
    """Each case's file (the API's download, or the page's under `prefix` `/ui`), by the id its
    requesting officer lists: 200 shows the case; hidden, 404 as a third state's case (403 for
    admins, before any lookup)."""

    async def surface(world: World, caller: str) -> frozenset[str]:
        return await _downloads(world, caller, prefix)

    return surface


async def _downloads(world: World, caller: str, prefix: str) -> frozenset[str]:
    seen = set()
    for name, case_id in world.cases.items():
        listed = await world.ask("officer PL", "GET", f"/cases/{case_id}/attachments")
        target = prefix + listed.json()["items"][0]["download"]
        answer = await world.ask(caller, "GET", target)
        if answer.status_code == 200:
            seen.add(name)
            continue
        want = 403 if world.role(caller) == "admin" else 404
        if answer.status_code != want:
            world.problems.append(f"{target} as {caller}: {answer.status_code} (want {want})")
    return frozenset(seen)


# GET routes that show cases, and how; the rest of the app's GET routes show none (below).
SURFACES: dict[tuple[str, str], Surface] = {
    ("GET", "/cases"): listing("/cases", CASE_FILTERS, json=True),
    ("GET", "/cases/{case_id}"): one_case("/cases/{case_id}"),
    ("GET", "/cases/{case_id}/events"): one_case("/cases/{case_id}/events"),
    ("GET", "/cases/{case_id}/state"): one_case("/cases/{case_id}/state"),
    ("GET", "/cases/{case_id}/verify"): one_case("/cases/{case_id}/verify"),
    ("GET", "/cases/{case_id}/messages"): one_case("/cases/{case_id}/messages"),
    ("GET", "/inbox"): listing("/inbox", INBOX_FILTERS, json=True),
    ("GET", "/audit/disclosures"): disclosure_log,
    ("GET", "/ui/"): listing("/ui/", CASE_FILTERS, json=False),
    ("GET", "/ui/dashboard/rows"): listing("/ui/dashboard/rows", CASE_FILTERS, json=False),
    ("GET", "/ui/cases/{case_id}"): one_case("/ui/cases/{case_id}"),
    ("GET", "/ui/inbox"): listing("/ui/inbox", INBOX_FILTERS, json=False),
    ("GET", "/ui/audit/cases/{case_id}"): one_case("/ui/audit/cases/{case_id}", auditors_only=True),
    ("GET", "/ui/audit/cases/{case_id}/replay"): one_case(
        "/ui/audit/cases/{case_id}/replay", auditors_only=True
    ),
    ("GET", "/ui/stats"): statistics_page,
    ("GET", "/ui/stats.csv"): statistics_csv,
    ("GET", "/stats"): statistics_json,
    # printable documents: a draft has its application, not yet a reply or a transfer notice
    ("GET", "/cases/{case_id}/documents/application.pdf"): one_case(
        "/cases/{case_id}/documents/application.pdf"
    ),
    ("GET", "/cases/{case_id}/documents/transit-application.pdf"): one_document(
        "/cases/{case_id}/documents/transit-application.pdf"
    ),
    ("GET", "/cases/{case_id}/documents/reply.pdf"): one_document(
        "/cases/{case_id}/documents/reply.pdf"
    ),
    ("GET", "/cases/{case_id}/documents/transfer-notice.pdf"): one_document(
        "/cases/{case_id}/documents/transfer-notice.pdf"
    ),
    ("GET", "/ui/cases/{case_id}/documents/{document}.pdf"): one_case(
        "/ui/cases/{case_id}/documents/application.pdf"
    ),
    ("GET", "/cases/{case_id}/attachments"): one_case("/cases/{case_id}/attachments"),
    ("GET", "/cases/{case_id}/attachments/{attachment_id}"): attachment_download(),
    ("GET", "/ui/cases/{case_id}/attachments/{attachment_id}"): attachment_download("/ui"),
}
# Surfaces for one role only: the others see no case there, whichever they may know.
AUDIENCE = {
    ("GET", "/audit/disclosures"): AUDITORS,
    ("GET", "/ui/audit/cases/{case_id}"): AUDITORS,
    ("GET", "/ui/audit/cases/{case_id}/replay"): AUDITORS,
}
SHOW_NO_CASE = {
    ("GET", "/openapi.json"): "the API's description",
    ("GET", "/docs"): "the API's documentation",
    ("GET", "/docs/assets/{asset}"): "the documentation page's script and style",
    ("GET", "/health"): "liveness",
    ("GET", "/federation/descriptor"): "the node's public keys (none on a single installation)",
    ("GET", "/federation/schemas/message.json"): "a JSON Schema",
    ("GET", "/federation/schemas/receipt.json"): "a JSON Schema",
    # 404 on a single installation; on a node, authorised as the case (tests/federation/)
    ("GET", "/cases/{case_id}/exchange"): "a federated node's record of messages: 404 here",
    ("GET", "/ready"): "readiness",
    ("GET", "/metrics"): "process-wide counts, labelled by status and agreement, never by state",
    ("GET", "/agreements"): "the catalogue",
    ("GET", "/agreements/{agreement_id}"): "the catalogue",
    ("GET", "/agreements/{agreement_id}/deadlines"): "deadline arithmetic on given dates",
    ("GET", "/"): "a redirect to the pages",
    ("GET", "/ui"): "a redirect to the pages",
    ("GET", "/ui/sign-in"): "the sign-in form",
    ("GET", "/ui/sign-in/oidc"): "a redirect to the identity provider",
    ("GET", "/ui/sign-in/oidc/callback"): "the identity provider's answer: a session, no case",
    ("GET", "/ui/language"): "the language switch",
    ("GET", "/ui/static/{name}"): "CSS and JavaScript",
    ("GET", "/ui/cases/new"): "the empty form of a new case",
    ("GET", "/ui/search"): "the empty person search form (the search is a POST: below)",
    # counts only, scoped like the lists (tests/api/test_workload_api.py: a draft is not counted
    # on the requested side)
    ("GET", "/workload"): "counts of open cases per officer of the caller's state",
}


def test_every_read_route_is_checked() -> None:
    assert set(AUDIENCE) <= set(SURFACES)
    reads = {(method, path) for method, path in app_endpoints() if method == "GET"}
    assert not reads - set(SURFACES) - set(SHOW_NO_CASE), "GET routes nobody checked here"
    assert not (set(SURFACES) | set(SHOW_NO_CASE)) - reads, "rows for routes that are gone"
    assert not set(SURFACES) & set(SHOW_NO_CASE)


async def open_three(api: Api) -> dict[str, str]:
    """A draft, a submitted case and a draft withdrawn, each read once by its officer (so the
    disclosure log has an entry for each)."""
    anna = api.as_("anna.pl", "officer", "PL")
    cases = {}
    for name in (DRAFT, SUBMITTED, WITHDRAWN):
        opened = await api.http.post("/cases", json=OPEN, headers=anna)
        assert opened.status_code == 201, opened.text
        cases[name] = opened.json()["case_id"]
    for seed, case_id in enumerate(cases.values()):  # each case holds a file (before submitting)
        attached = await api.http.post(
            f"/cases/{case_id}/attachments",
            files={"file": ("scan.png", png(seed), "image/png")},
            headers=anna,
        )
        assert attached.status_code == 201, attached.text
    submitted = await api.http.post(f"/cases/{cases[SUBMITTED]}/submit", json={}, headers=anna)
    assert submitted.status_code == 200, submitted.text
    claimed = await api.http.post(f"/cases/{cases[DRAFT]}/claim", json={}, headers=anna)
    assert claimed.status_code == 200, claimed.text  # PL's side of the draft is anna's
    withdrawn = await api.http.post(
        f"/cases/{cases[WITHDRAWN]}/withdraw", json={"reasons": ["not needed"]}, headers=anna
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    for _ in range(100):  # nothing more can happen to it: it closes by itself
        shown = await api.http.get(f"/cases/{cases[WITHDRAWN]}", headers=anna)
        if shown.json()["status"] == "closed":
            break
        await asyncio.sleep(0.05)
    assert shown.json()["status"] == "closed"
    await api.services.projector.catch_up()
    for case_id in cases.values():
        assert (await api.http.get(f"/cases/{case_id}", headers=anna)).status_code == 200
    return cases


async def address_everyone(api: Api, cases: dict[str, str]) -> None:
    """A notice about every case in every caller's own inbox and its role's shared one, as
    addressed to the caller's state: whatever notices exist, the inbox shows only those about
    cases the addressed state may know. (The real ones are checked apart.)"""
    for user, role, state, states, _ in CALLERS.values():
        if role == "admin":
            continue  # notices name officers, supervisors (and here auditors), never admins
        addressed = state or states[0].replace("*", "PL")
        for case_id in cases.values():
            for recipient in (user, f"@{addressed}:{role}"):
                await api.pool.execute(
                    "INSERT INTO notifications (key, notice_key, case_id, recipient, state, role,"
                    " channel, kind, subject, payload, status) VALUES ($1, $1, $2, $3, $4, $5,"
                    " 'inbox', 'ApplicationSubmitted', 'forged', '{}', 'delivered')"
                    " ON CONFLICT DO NOTHING",
                    f"forged:{case_id}:{recipient}",
                    case_id,
                    recipient,
                    addressed,
                    role,
                )


async def test_the_requested_state_sees_nothing_of_a_draft(api: Api) -> None:
    cases = await open_three(api)
    real = await api.pool.fetch("SELECT state, case_id FROM notifications WHERE state = 'UA'")
    assert {r["case_id"] for r in real} == {cases[SUBMITTED]}  # no notice of a draft to UA
    await address_everyone(api, cases)
    world = World(api, cases)
    wrong = []
    for route, surface in SURFACES.items():
        for caller, (_, role, *_, sees) in CALLERS.items():
            if role not in AUDIENCE.get(route, {role}):
                sees = NOTHING
            seen = await surface(world, caller)
            if seen != sees:
                wrong.append(f"{' '.join(route)} as {caller}: {sorted(seen)}, not {sorted(sees)}")
    assert not wrong + world.problems, "\n".join(wrong + world.problems)


def unread_badge(html: str) -> int:
    """The unread count the pages' header shows beside the inbox (0: no badge)."""
    found = re.search(r'<span class="badge">.*?(\d+)</span>', html, re.S)
    return int(found.group(1)) if found else 0


async def test_hidden_notices_are_neither_counted_nor_marked_read(api: Api) -> None:
    cases = await open_three(api)
    await address_everyone(api, cases)
    world = World(api, cases)
    for caller in ("officer UA", "auditor UA", "officer DE", "officer PL"):
        unread = await world.ask(caller, "GET", "/inbox", {"unread": "true"})
        page = await world.ask(caller, "GET", "/ui/inbox")
        assert unread.status_code == page.status_code == 200
        assert unread_badge(page.text) == len(unread.json()["items"]), caller
    for caller in ("officer UA", "supervisor UA"):
        rows = await api.pool.fetch(
            "SELECT id, case_id FROM notifications WHERE recipient = $1 AND kind = $2",
            CALLERS[caller][0],
            "ApplicationSubmitted",
        )
        for row in rows:
            answer = await world.ask(caller, "POST", f"/inbox/{row['id']}/read")
            visible = row["case_id"] == cases[SUBMITTED]
            assert answer.status_code == (200 if visible else 404), (caller, row["case_id"])


async def test_the_audit_export_of_a_draft_is_the_requesting_states(api: Api) -> None:
    cases = await open_three(api)
    world = World(api, cases)
    for caller in ("auditor PL", "auditor UA", "auditor DE"):
        page = await world.ask(caller, "GET", "/ui/inbox")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf, "no CSRF field on the page"
        for name, case_id in cases.items():
            answer = await world.ask(
                caller, "POST", f"/ui/audit/cases/{case_id}/export", data={"csrf": csrf.group(1)}
            )
            sees = name in CALLERS[caller][4]
            assert answer.status_code == (200 if sees else 404), (caller, name, answer.status_code)


def payloads_in(message: Message) -> list[Payload]:
    """Every `Payload` inside a protobuf message (a history event's attributes), depth first."""
    if isinstance(message, Payload):
        return [message]
    found: list[Payload] = []
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue  # a scalar
        if isinstance(value, Message):
            values = [value]
        elif descriptor.message_type.GetOptions().map_entry:
            values = list(value.values())
        else:
            values = list(value)  # a repeated field
        for item in values:
            if isinstance(item, Message):
                found += payloads_in(item)
    return found


async def history_payloads(api: Api, case_id: str) -> tuple[list[Payload], list[Payload]]:
    """The payloads of a case's Temporal history (start input, updates and their results,
    activities), encrypted as the app's keyring encrypts them, and the same in plaintext."""
    history = await api.env.client.get_workflow_handle(case_id).fetch_history()
    found = [p for event in history.events for p in payloads_in(event)]
    codec = api.env.client.data_converter.payload_codec
    assert found and isinstance(codec, EncryptionCodec)
    # markers hold payloads Temporal's core wrote in clear: passed through, as the UI sees them
    plain = await EncryptionCodec(codec.keyring, refuse_plain=False).decode(found)
    return await EncryptionCodec(payload_keyring(api.services.settings)).encode(plain), plain


def as_json(payloads: list[Payload]) -> list[dict[str, Any]]:
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return [
        {"metadata": {k: b64(v) for k, v in p.metadata.items()}, "data": b64(p.data)}
        for p in payloads
    ]


async def test_the_codec_decodes_drafts_for_auditors_of_every_state_only(api: Api) -> None:
    """A history holds every case's data: only an auditor of every state (or an operator,
    tests/api/test_codec_endpoint.py) gets it decoded, and then every payload; the requesting
    state's auditor, the requested state's, a third state's and an administrator get 403 for a
    draft as for any case, so a draft's existence is disclosed to none of them."""
    cases = await open_three(api)
    world = World(api, cases)
    for name, case_id in cases.items():
        encrypted, plain = await history_payloads(api, case_id)
        assert any(case_id.encode() in p.data for p in plain), name
        sent = as_json(encrypted)
        for caller in ("auditor PL", "auditor *", "auditor UA", "auditor DE", "admin PL"):
            answer = await world.ask(caller, "POST", "/codec/decode", json={"payloads": sent})
            if caller != "auditor *":
                assert answer.status_code == 403, (caller, name, answer.text)
                assert case_id not in answer.text
                continue
            assert answer.status_code == 200, answer.text
            assert answer.json()["payloads"] == as_json(plain), name


async def test_the_person_search_shows_what_the_case_list_shows(api: Api) -> None:
    """`POST /search/persons` and its page (issue 17) find the three cases' person only where the
    caller may know the case: every caller sees by search exactly what it sees in lists."""
    cases = await open_three(api)
    world = World(api, cases)
    criteria = {"surname": "Шевченко", "birth_date": "1990-05-17"}
    wrong = []
    for caller, (_, role, *_, sees) in CALLERS.items():
        answer = await world.ask(caller, "POST", "/search/persons", json=criteria)
        if role == "admin":
            assert answer.status_code == 403, answer.text
            seen: frozenset[str] = NOTHING
        else:
            assert answer.status_code == 200, (caller, answer.text)
            seen = world.named(" ".join(i["case_id"] for i in answer.json()["items"]))
        if seen != sees:
            wrong.append(f"POST /search/persons as {caller}: {sorted(seen)}, not {sorted(sees)}")
        form = await world.ask(caller, "GET", "/ui/search")
        if role == "admin":
            assert form.status_code == 403, form.status_code
            continue
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf, "no CSRF field on the search page"
        page = await world.ask(
            caller, "POST", "/ui/search", data={"csrf": csrf.group(1), **criteria}
        )
        assert page.status_code == 200, (caller, page.status_code)
        found = page.text.split('id="search-results"')[-1] if "search-results" in page.text else ""
        if world.named(found) != sees:
            wrong.append(f"POST /ui/search as {caller}: {sorted(world.named(found))}")
    assert not wrong, "\n".join(wrong)


async def test_the_mrz_of_a_drafts_attachment_is_read_by_the_requesting_state_only(
    api: Api,
) -> None:
    """`POST /cases/{id}/attachments/{attachment_id}/mrz` answers with a case's data: a hidden
    case's file is 404 as a third state's (auditors and admins 403 for every case, before any
    lookup); a visible one is read (these files hold no MRZ: 422)."""
    cases = await open_three(api)
    world = World(api, cases)
    for name, case_id in cases.items():
        listed = await world.ask("officer PL", "GET", f"/cases/{case_id}/attachments")
        target = listed.json()["items"][0]["download"] + "/mrz"
        for caller in ("officer PL", "officer UA", "supervisor UA", "officer DE", "auditor UA"):
            answer = await world.ask(caller, "POST", target)
            role = CALLERS[caller][1]
            want = 403 if role == "auditor" else 422 if name in CALLERS[caller][4] else 404
            assert answer.status_code == want, (caller, name, answer.status_code)
