"""A reply's approval: where a state requires it, a supervisor lets the drafted reply leave.

An officer of the requested state drafts the reply (`DraftReply` -> `ReplyDrafted`), sealed
like the reply itself; a supervisor approves it (`ApproveReply`), which issues the real reply,
`AcceptApplication` or `RefuseApplication`, at the approval instant: the reply counts from the
instant it is sent, and is refused as any reply once the reply limit has ended. Or the
supervisor returns it with reasons (`ReturnReply` -> `ReplyReturned`) and the officer may draft
again. One draft at a time. Drafts, returns and approvals are the requested node's own business
(`CommandKind.local`): only the approved reply crosses to the other node of a shared case,
and a draft never stops the reply clock. Whether a state requires approval is an installation
setting (`domain.approval_policy`), judged by the API.
"""

from __future__ import annotations

from domain.commands import (
    AcceptApplication,
    ApproveReply,
    Command,
    ConsentTransit,
    DraftReply,
    RefuseApplication,
    RefuseTransit,
    ReturnReply,
)
from domain.errors import InvalidCommand, NothingDrafted, ReplyAlreadyDrafted
from domain.events import ReplyDrafted, ReplyReturned
from domain.reply_drafts import ReplyDraft, ReplyReturn
from domain.rules import require_reasons
from domain.state import CaseState

OWN_EVENTS = frozenset({"ReplyDrafted", "ReplyReturned"})
"""The requested state's own events of a reply's approval: a federated node never sends them,
and a single installation shows them (and their texts) to the requested state only."""


def drafted(command: DraftReply, state: CaseState) -> ReplyDrafted:
    """The draft's event, or the rule it breaks: one draft at a time, a refusal with reasons
    (and no note), an acceptance with no reasons. (Whether a reply may still be given at all
    is the decider's, as for the reply itself.)"""
    if state.reply_draft is not None:
        raise ReplyAlreadyDrafted(
            f"a {state.reply_draft.reply} reply drafted by {state.reply_draft.by} awaits a "
            "supervisor's approval"
        )
    if command.reply == "refuse":
        require_reasons(command.reasons, "a refusal")
        if command.note is not None:
            raise InvalidCommand("a refusal carries reasons, not a note")
    elif command.reasons:
        raise InvalidCommand("an acceptance carries an optional note, not reasons")
    return ReplyDrafted(
        at=command.at,
        reply=command.reply,
        note=command.note,
        reasons=command.reasons,
        by=command.by,
    )


def returned(command: ReturnReply, state: CaseState) -> ReplyReturned:
    """The return's event: a drafted reply goes back to its officer, with reasons."""
    _draft(state, command)
    require_reasons(command.reasons, "a returned reply")
    return ReplyReturned(at=command.at, reasons=command.reasons)


def approved_reply(
    command: ApproveReply, state: CaseState
) -> AcceptApplication | RefuseApplication | ConsentTransit | RefuseTransit:
    """The real reply an approval issues: the draft's, at the approval instant (on a transit
    case, the consent or refusal of the transit)."""
    draft = _draft(state, command)
    if state.is_transit:
        if draft.reply == "accept":
            return ConsentTransit(at=command.at, note=draft.note)
        return RefuseTransit(at=command.at, reasons=draft.reasons)
    if draft.reply == "accept":
        return AcceptApplication(at=command.at, note=draft.note)
    return RefuseApplication(at=command.at, reasons=draft.reasons)


def as_sent(command: Command, state: CaseState) -> Command:
    """The command as it takes effect (and, on a shared case, crosses to the other node): an
    approval is the drafted reply itself; any other command is itself."""
    if isinstance(command, ApproveReply):
        return approved_reply(command, state)
    return command


def _draft(state: CaseState, command: Command) -> ReplyDraft:
    if state.reply_draft is None:
        raise NothingDrafted(f"{command.command}: no reply awaits approval")
    return state.reply_draft


# --- evolve steps ---------------------------------------------------------------------------


def draft_changes(state: CaseState, event: ReplyDrafted) -> dict[str, object]:
    """The state's changes once a draft is recorded: the case's last move (`updated_at`) stays
    where it was, as for any of a node's own commands (`domain.assignment`)."""
    draft = ReplyDraft(
        reply=event.reply, note=event.note, reasons=event.reasons, by=event.by, at=event.at
    )
    return {"updated_at": state.updated_at, "reply_draft": draft, "reply_returned": None}


def return_changes(state: CaseState, event: ReplyReturned) -> dict[str, object]:
    """The state's changes once a draft is returned: no draft, the return's reasons."""
    back = ReplyReturn(reasons=event.reasons, at=event.at)
    return {"updated_at": state.updated_at, "reply_draft": None, "reply_returned": back}
