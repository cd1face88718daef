"""The auditor's view of a case: the timeline with an as-of slider that replays the state to any
recorded moment (the same fold as `readmit audit replay`), the hash chain's verification (and on
request the full check: Temporal replay, store vs workflow), the case's disclosure log, and the
export of a signed audit bundle. Auditors only; read-only."""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from adapters.audit.bundle import BundleError, signing_key_from, write_bundle
from adapters.audit.collect import collect_for_export, person_versions, replay
from adapters.audit.verify import Verifier
from adapters.db.canonical import verify_chain
from adapters.db.eventstore import Recorded
from adapters.keys import audit_signing_seed
from api.auth import Principal
from api.case_access import load_case
from api.disclosure import record as disclose
from api.problems import Problem
from api.routes import audit as api_audit
from api.views import case_detail
from api.web import labels
from api.web.case_page import decoded, timeline_words
from api.web.pages import Page, SignedIn, WebRoute
from api.web.session import check_csrf
from api.web.timeline import build_timeline, focus
from api.web.timeline_svg import render_svg

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def auditor(caller: Principal) -> Principal:
    if caller.role != "auditor":
        raise Problem(403, "Forbidden", "the auditor's view is for auditors", type_="forbidden")
    return caller


def _instant(text: str | None, zone: str) -> datetime | None:
    """An instant with an offset, or a local time (`datetime-local`) in the auditor's zone."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as error:
        raise Problem(422, "Invalid input", f"as_of: not an instant: {text}") from error
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))


def _version(text: str | None, last: int) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise Problem(422, "Invalid input", f"version: not a number: {text}")
    return max(1, min(int(text), last))


async def replayed(page: Page, recorded: list[Recorded]) -> dict[str, Any]:
    """The state as of the `version` or `as_of` of the query (default: the latest)."""
    params = page.request.query_params
    as_of = _instant(params.get("as_of"), page.zone)
    version = _version(params.get("version"), len(recorded))
    if as_of is None and version is None:
        version = len(recorded)
    state, kept = replay(recorded, as_of=as_of, version=version)

    def label(event_type: str) -> str:
        return page._(labels.label("event", event_type))

    moment = as_of or (datetime.fromisoformat(kept[-1].data["at"]) if kept else None)
    moment = moment or datetime.now(UTC)
    words = timeline_words(page, page.zone)
    everything = decoded(recorded)
    window = focus(build_timeline(everything, max(moment, datetime.now(UTC))))
    svg = render_svg(
        build_timeline(everything[: len(kept)], moment),
        words,
        ident="replay-timeline",
        window=window,
    )
    return {
        "version": state.version,
        "last": len(recorded),
        "moment": moment,
        "state": (
            case_detail(await page.services.vault.reveal(state), page.principal)
            if state.opened
            else None
        ),
        "event": kept[-1].type if kept else None,
        "timeline": svg,
        "moments": json.dumps(
            [
                {
                    "label": f"{r.version} / {len(recorded)} · {label(r.type)} · "
                    f"{page.fmt.instant(r.data.get('at') or r.recorded_at, page.zone)}"
                }
                for r in recorded
            ],
            ensure_ascii=False,
        ),
    }


@router.get("/ui/audit/cases/{case_id}", response_class=HTMLResponse)
async def audit_case(case_id: str, page: SignedIn) -> HTMLResponse:
    caller = auditor(page.principal)
    recorded, state = await load_case(page.services, caller, case_id)
    await disclose(
        page.services.pool, caller, case_id, purpose="audit", endpoint="GET /ui/audit/cases/{id}"
    )
    chain = verify_chain(case_id, recorded)
    full = None
    if page.request.query_params.get("full") == "1":
        services = page.services
        verifier = Verifier(services.store, services.client, services.client.data_converter)
        full = (await verifier.verify(case_id)).as_dict()
    disclosures = await api_audit.disclosures(
        page.services, caller, case_id=case_id, user_id=None, limit=200
    )
    return page.render(
        "audit.html",
        case_id=case_id,
        case_status=state.status.value,
        replay=await replayed(page, recorded),
        chain=chain,
        full=full,
        disclosures=disclosures.items,
        person_versions=await person_versions(page.services.vault, recorded),
    )


@router.get("/ui/audit/cases/{case_id}/replay", response_class=HTMLResponse)
async def audit_replay(case_id: str, page: SignedIn) -> HTMLResponse:
    """The replay alone, for the slider (no personal data in it, so no disclosure)."""
    caller = auditor(page.principal)
    recorded, _ = await load_case(page.services, caller, case_id)
    return page.render("audit_replay.html", case_id=case_id, replay=await replayed(page, recorded))


@router.post("/ui/audit/cases/{case_id}/export")
async def audit_export(case_id: str, page: SignedIn) -> Response:
    """A signed bundle (as `readmit audit export` writes it), zipped; the export is logged."""
    caller = auditor(page.principal)
    assert page.session is not None
    check_csrf(page.session.csrf, await page.request.form())
    await load_case(page.services, caller, case_id)
    try:
        key = signing_key_from(audit_signing_seed(page.services.settings))
    except (BundleError, KeyError) as error:
        raise Problem(503, "Service unavailable", f"no audit signing key: {error}") from error
    cases = await collect_for_export(
        page.services.pool,
        page.services.vault,
        [case_id],
        caller.user_id,
        sees=caller.sees_state,  # a drafted reply's texts: the requested state's own
    )
    with tempfile.TemporaryDirectory(prefix="readmit-export-") as folder:
        out = write_bundle(Path(folder) / "bundle", cases, key, caller.user_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{case_id}/{path.relative_to(out)}")
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{case_id}-audit-bundle.zip"'},
    )
