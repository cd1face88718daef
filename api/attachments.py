"""Attachments of a case, for the API's routes and the pages alike: add one, list them, read one.

Adding a file: the caller must be an officer or supervisor of one of the case's parties, on the
node of their own state; the file at most `READMIT_ATTACHMENT_MAX_BYTES` (413) and a PDF, JPEG or
PNG by its content (415). Its bytes are sealed with the case's data key and stored under the case
and their SHA-256; then `AddAttachment` runs through the case workflow, which records the hash in
the history. A refused command takes the newly stored bytes away again, so a failure leaves
neither a blob nor an event. The same bytes added again answer with the attachment already there.

Reading one returns the bytes as uploaded, and each read is in the disclosure log. Once the
case's data key is erased, the bytes cannot be opened: 410.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from adapters.attachments.crossing import max_crossing_bytes
from adapters.attachments.named import case_names_file
from adapters.attachments.sniff import EXTENSIONS, sniff
from adapters.attachments.store import AttachmentStore, BlobKey, seal_purpose
from adapters.protection.sealing import CaseSealer
from adapters.protection.vault import DataErased
from adapters.temporal.cases import CaseNotFound, CommandRefused
from api.auth import Principal
from api.case_access import authorise, check_node, load_case, not_found
from api.disclosure import record as disclose
from api.problems import Problem
from api.services import Services
from domain.attachment_record import AttachmentRecord
from domain.commands import AddAttachment
from domain.state import CaseState
from domain.values import ShortText, Side
from workflows.contracts import Actor

_DESCRIPTION: TypeAdapter[str] = TypeAdapter(ShortText)
ATTACHMENT_ID_PATTERN = r"^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$"


@dataclass(frozen=True)
class Added:
    """An upload's outcome: the attachment, and whether it was new (False: the same bytes
    were already attached, and nothing was written)."""

    attachment: AttachmentRecord
    created: bool
    sending: dict[str, Any] | None = None  # on its way to the other node of a shared case


def store_of(services: Services) -> AttachmentStore:
    store = services.attachments
    assert store is not None, "the app factory builds the attachment store"
    return store


def media_type_of(data: bytes, max_bytes: int) -> str:
    """The sniffed type of an upload's bytes; 413 above `max_bytes`, 415 unless PDF, JPEG, PNG."""
    if len(data) > max_bytes:
        raise Problem(
            413,
            "Content too large",
            f"an attachment is at most {max_bytes} bytes",
            type_="content-too-large",
        )
    media = sniff(data)
    if media is None:
        raise Problem(
            415,
            "Unsupported media type",
            "an attachment is a PDF, JPEG or PNG file (judged from its content)"
            if data
            else "the file is empty",
            type_="unsupported-media-type",
        )
    return media


def description_of(text: str | None) -> str | None:
    """The description as the case keeps it (trimmed, one short line), or 422."""
    if text is None or not text.strip():
        return None
    try:
        return _DESCRIPTION.validate_python(text)
    except ValidationError:
        raise Problem(
            422,
            "Invalid input",
            "description: up to 200 printable characters",
            type_="invalid-input",
        ) from None


def _side(caller: Principal, requesting: str, requested: str) -> Side:
    if caller.state == requesting:
        return Side.REQUESTING
    if caller.state == requested:
        return Side.REQUESTED
    raise Problem(403, "Forbidden", "attachments are added by the case's parties")


async def _sealer(services: Services, case_id: str) -> CaseSealer:
    sealer = await services.vault.sealer(case_id)  # DataErased: 410
    if sealer is None:
        raise not_found(case_id)
    return sealer


async def add(
    services: Services, caller: Principal, case_id: str, data: bytes, description: str | None
) -> Added:
    """Add `data` to the case (see the module's docstring); `Added.created` False when the
    same bytes were attached before."""
    check_node(services, caller)
    parties = await authorise(services, caller, case_id)
    side = _side(caller, parties.requesting, parties.requested)
    media = media_type_of(data, services.settings.attachment_max_bytes)
    note = description_of(description)
    sha = hashlib.sha256(data).hexdigest()
    _, state = await load_case(services, caller, case_id)
    for known in state.attachments:
        if known.sha256 == sha:
            return Added(known, created=False)
    _check_crossing(services, state, len(data))
    sealer = await _sealer(services, case_id)
    command = AddAttachment(
        at=datetime.now(UTC),
        side=side,
        by=caller.user_id,
        attachment_id=str(uuid.uuid4()),
        sha256=sha,
        media_type=media,
        size=len(data),
        note=note,
    )
    key = BlobKey(case_id, sha)
    store = store_of(services)
    stored = await store.put(key, sealer.seal_bytes(seal_purpose(sha), data))
    try:
        assert caller.state is not None
        actor = Actor(user_id=caller.user_id, state=caller.state, role=caller.role)
        result = await services.gateway.execute(case_id, command, actor)
    except (CommandRefused, CaseNotFound, DataErased):
        # nothing half-written: the bytes go with the refused command, unless the case names
        # them after all (the same bytes uploaded at once: the other upload's command won)
        if stored and not await case_names_file(services.store, case_id, sha):
            await store.delete(key)
        raise
    # any other failure (Temporal unreachable, no answer in time) leaves the outcome unknown:
    # the bytes stay, so a command applied after all never names a file that is not there
    await services.projector.catch_up()
    sending = result.sending.model_dump(mode="json") if result.sending else None
    return Added(_record(command), created=True, sending=sending)


def _check_crossing(services: Services, state: CaseState, size: int) -> None:
    """413 for a file of a shared case (a federated node's, submitted) too large to travel to
    the other node within `READMIT_FEDERATION_MAX_MESSAGE_BYTES`."""
    if services.settings.node_state is None or state.submitted_at is None:
        return
    limit = max_crossing_bytes(services.settings.federation_max_message_bytes)
    if size > limit:
        raise Problem(
            413,
            "Content too large",
            f"a file of a case shared with the other node is at most {limit} bytes (it "
            "travels in one federation message)",
            type_="content-too-large",
        )


def _record(command: AddAttachment) -> AttachmentRecord:
    return AttachmentRecord(
        attachment_id=command.attachment_id,
        sha256=command.sha256,
        media_type=command.media_type,
        size=command.size,
        side=command.side,
        by=command.by,
        at=command.at,
        note=command.note,
    )


async def listed(
    services: Services, caller: Principal, case_id: str
) -> tuple[list[AttachmentRecord], CaseSealer | None]:
    """The case's attachments, oldest first, and the sealer that opens their descriptions
    (None once the case's data key is erased). Logged as a disclosure of the descriptions."""
    _, state = await load_case(services, caller, case_id)
    try:
        sealer = await services.vault.sealer(case_id)
    except DataErased:
        sealer = None
    if state.attachments:
        await disclose(
            services.pool,
            caller,
            case_id,
            purpose="attachments",
            endpoint="GET /cases/{id}/attachments",
            fields=("attachment_descriptions",),
        )
    return list(state.attachments), sealer


def view(record: AttachmentRecord, sealer: CaseSealer | None, case_id: str) -> dict[str, Any]:
    """One attachment as the API shows it (its description opened, or erased)."""
    description: Any = None
    if record.note is not None:
        description = sealer.open_note(record.note) if sealer else {"erased": True}
    return {
        "attachment_id": record.attachment_id,
        "media_type": record.media_type,
        "size": record.size,
        "sha256": record.sha256,
        "side": record.side.value,
        "by": record.by,
        "at": record.at.isoformat(),
        "description": description,
        "download": f"/cases/{case_id}/attachments/{record.attachment_id}",
    }


async def content(
    services: Services,
    caller: Principal,
    case_id: str,
    attachment_id: str,
    endpoint: str,
    purpose: str = "download",
) -> tuple[AttachmentRecord, bytes]:
    """One attachment and its bytes as uploaded; 404 for an id the case does not have, 410
    once the case's data key (and so the bytes) is erased. Logged as a disclosure for
    `purpose` (a download unless the caller says what the bytes are read for)."""
    record = await find(services, caller, case_id, attachment_id)
    sealer = await _sealer(services, case_id)
    sealed = await store_of(services).get(BlobKey(case_id, record.sha256))
    if sealed is None:
        raise Problem(
            410,
            "Attachment gone",
            f"the bytes of attachment {attachment_id} are no longer stored",
            type_="attachment-gone",
        )
    data = sealer.open_bytes(seal_purpose(record.sha256), sealed)
    await disclose(
        services.pool,
        caller,
        case_id,
        purpose=purpose,
        endpoint=endpoint,
        fields=("attachment",),
    )
    return record, data


async def find(
    services: Services, caller: Principal, case_id: str, attachment_id: str
) -> AttachmentRecord:
    """The case's attachment `attachment_id` (nothing read, nothing logged); 404 for a case
    the caller cannot see or an id the case does not have."""
    _, state = await load_case(services, caller, case_id)
    record = next((a for a in state.attachments if a.attachment_id == attachment_id), None)
    if record is None:
        raise Problem(
            404,
            "Not found",
            f"case {case_id} has no attachment {attachment_id}",
            type_="attachment-not-found",
        )
    return record


def file_name(record: AttachmentRecord) -> str:
    """The name a download is saved under: the attachment's id and its type's extension (the
    uploaded name is not kept: it may be personal)."""
    return f"{record.attachment_id}.{EXTENSIONS[record.media_type]}"
