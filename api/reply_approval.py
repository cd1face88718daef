"""A reply's approval over the API: an officer's reply becomes a draft where the replying state
requires a supervisor's approval, and only supervisors approve or return one.

Whether a reply needs approval is the installation's policy (`READMIT_REPLY_APPROVAL`, read as
`domain.approval_policy.ApprovalPolicy`), judged here for the caller's state and the case's
agreement: `POST /cases/{id}/accept` and `/refuse` (on a transit case `/transit/consent` and
`/transit/refuse`) from an officer then record a draft
(`DraftReply`, answered 202 with `"approval": "awaiting"`) instead of the reply. A supervisor's
own reply leaves at once: they are the ones who approve. `POST /cases/{id}/reply/approve` and
`/reply/return` are for the replying state's supervisors (officers 403).
"""

from __future__ import annotations

from api.auth import Principal
from api.services import Services
from domain.commands import (
    AcceptApplication,
    Command,
    ConsentTransit,
    DraftReply,
    RefuseApplication,
    RefuseTransit,
)

# the replies a draft stands for: a readmission case's accept or refuse, a transit case's
# consent or refusal (`domain.reply_approval.approved_reply` issues the one the case takes)
TRANSIT_REPLIES = (ConsentTransit, RefuseTransit)
REPLIES = (AcceptApplication, RefuseApplication, *TRANSIT_REPLIES)


async def reply_or_draft(
    services: Services, caller: Principal, case_id: str, command: Command
) -> Command:
    """`command` as the case should receive it: an officer's reply, where their state requires
    approval under the case's agreement, as a draft of that reply; anything else as it is."""
    if not isinstance(command, REPLIES):
        return command
    policy = services.settings.approval_policy()
    if caller.role == "supervisor" or caller.state is None or not policy.rules:
        return command
    state = (await services.gateway.view(case_id)).state
    terms = state.terms
    if terms is None or not policy.requires(caller.state, terms.agreement_id):
        return command
    # a transit case's reply is its consent or refusal; the other kind's reply is refused as
    # it would be without approval (409 WrongCaseKind), not drafted
    if isinstance(command, TRANSIT_REPLIES) is not state.is_transit:
        return command
    if isinstance(command, AcceptApplication | ConsentTransit):
        return DraftReply(at=command.at, reply="accept", note=command.note, by=caller.user_id)
    return DraftReply(at=command.at, reply="refuse", reasons=command.reasons, by=caller.user_id)
