"""`readmit case approve` and `readmit case return`: a supervisor lets a drafted reply leave,
or returns it to its officer with reasons (docs/api.md, "A reply's approval").

Where the replying state requires a supervisor's approval, an officer's `readmit case accept`
or `refuse` records a draft (the command says it awaits approval); these two commands are the
supervisor's answer, through the same API endpoints as the pages'.
"""

from __future__ import annotations

import typer

from api.commands import REACHABLE, REPLY_APPROVAL_COMMANDS
from readmit.cli.case_commands import CaseId, Reasons, issue
from readmit.cli.case_session import Session, reasons_required, with_session


def approve(session: Session, case_id: CaseId) -> None:
    issue(session, "approve_reply", case_id)


def return_reply(session: Session, case_id: CaseId, reason: Reasons = None) -> None:
    issue(session, "return_reply", case_id, {"reasons": reasons_required("--reason", reason)})


def register(group: typer.Typer) -> None:
    """Add `approve` and `return` to the `case` group."""
    for name, function in (("approve_reply", approve), ("return_reply", return_reply)):
        command = REACHABLE[name]
        assert command in REPLY_APPROVAL_COMMANDS and command.cli is not None
        group.command(
            command.cli,
            help=f"{command.help}.",
            rich_help_panel="Commands of a case",
        )(with_session(function))
