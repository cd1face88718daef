"""A reply's approval over the API: an officer's reply becomes a draft where the replying state
requires a supervisor's approval, and only supervisors approve or return one.

Whether a reply needs approval is the installation's policy (`READMIT_REPLY_APPROVAL`, read as
`domain.approval_policy.ApprovalPolicy`), judged here for the caller's state and the case's
agreement: `POST /cases/{id}/accept` and `/refuse` from an officer then record a draft
(`DraftReply`, answered 202 with `"approval": "awaiting"`) instead of the reply. A supervisor's
own reply leaves at once: they are the ones who approve. `POST /cases/{id}/reply/approve` and
`/reply/return` are for the replying state's supervisors (officers 403).
"""

from __future__ import annotations

from api.auth import Principal
from api.services import Services
from domain.commands import AcceptApplication, Command, DraftReply, RefuseApplication


async def reply_or_draft(
    services: Services, caller: Principal, case_id: str, command: Command
) -> Command:
    """`command` as the case should receive it: an officer's reply, where their state requires
    approval under the case's agreement, as a draft of that reply; anything else as it is."""
    if not isinstance(command, AcceptApplication | RefuseApplication):
        return command
    policy = services.settings.approval_policy()
    if caller.role == "supervisor" or caller.state is None or not policy.rules:
        return command
    terms = (await services.gateway.view(case_id)).state.terms
    if terms is None or not policy.requires(caller.state, terms.agreement_id):
        return command
    if isinstance(command, AcceptApplication):
        return DraftReply(at=command.at, reply="accept", note=command.note, by=caller.user_id)
    return DraftReply(at=command.at, reply="refuse", reasons=command.reasons, by=caller.user_id)
