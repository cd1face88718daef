"""How each command an officer issues is presented: its HTTP path and request body, its
`readmit case` name, its title and one-line help, and the fields of its form on the pages.

The catalogue has two halves. The domain's half (`domain.commands.CATALOGUE`) says what a
command is: its model and the side that issues it. This half, the one table the API routes, the
CLI and the pages read, says how officers reach it. It is kept out of `domain/` because what it
holds belongs to the API: request bodies are the API's own schemas (stricter than the commands
they become), and its titles, labels and hints are the pages' English words, translated when a
page is rendered (api/web/locale/compile.py extracts them from here). The clock's commands have
no row; tests check that every other command of the domain has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from api.command_bodies import (
    AssignBody,
    EmptyBody,
    EvidenceBody,
    NoteBody,
    OpenCaseBody,
    PersonBody,
    ReasonsBody,
    ReturnBody,
    TransferBody,
    TransferExtensionBody,
    TransitFailureBody,
    TransitScheduleBody,
    VerificationBody,
)
from api.message_bodies import MessageBody
from domain.commands import BY_NAME, Command, CommandKind
from domain.values import Side, VerificationStatus


@dataclass(frozen=True)
class Field:
    """One input of a form, named as the API body's field (`person.surname` when nested)."""

    name: str
    label: str
    kind: str = "text"  # text | textarea | number | select | datetime | date | checkbox
    required: bool = False
    # (value, label): a label "@table:code" is a domain word (see labels.py), else shown as is
    options: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    attrs: Mapping[str, str] = field(default_factory=dict)
    # options taken from the case's agreement terms (`bcps`, `modes`) when its form is shown
    from_terms: Literal["bcps", "modes"] | None = None


@dataclass(frozen=True)
class Presentation:
    """One command as officers reach it: `POST /cases/{case_id}<path>` (`POST /cases` for
    `open_case`), `readmit case <cli>` (None: no CLI command), and its form's `fields`."""

    name: str
    path: str
    cli: str | None
    title: str
    help: str
    body: type[BaseModel]
    fields: tuple[Field, ...] = ()

    @property
    def kind(self) -> CommandKind:
        return BY_NAME[self.name]

    @property
    def side(self) -> Side:
        """The side that issues it (`either`: the caller's own, `Caller.side`)."""
        return self.kind.side

    def build(self, at: datetime, body: BaseModel, caller: Caller | None = None) -> Command:
        """The command a valid request body asks for, issued at `at`; a command of either side
        also takes the caller's side and user id from `caller` (never from the body)."""
        fields = body.model_dump()
        if self.side is Side.EITHER:
            if caller is None:
                raise ValueError(f"{self.name} is issued for the caller's side: give the caller")
            fields["side"] = caller.side
            if "by" in self.kind.model.model_fields:
                fields["by"] = caller.user_id
        return self.kind.build(at, fields)


@dataclass(frozen=True)
class Caller:
    """Who issues a command of either side (`Side.EITHER`): their user id and the case's side
    their state is on, as the API found them from the token and the case's parties."""

    user_id: str
    side: Side


REASONS = Field("reasons", "Reasons", "textarea", required=True, hint="One reason per line.")
# the person's particulars as the "open a case" form names them (`person.surname`...), with
# the two it leaves out, so that a correction covers the whole record
PERSON_FIELDS = (
    Field("person.surname", "Surname", required=True),
    Field("person.given_names", "Given names", required=True),
    Field("person.birth_date", "Date of birth", "date", required=True),
    Field("person.birth_place", "Place of birth"),
    Field("person.sex", "Sex", "select", options=(("F", "F"), ("M", "M"), ("X", "X"))),
    Field(
        "person.nationality",
        "Nationality",
        hint="ISO code, e.g. UA",
        attrs={"maxlength": "3", "size": "4"},
    ),
    Field("person.personal_number", "Personal number"),
    Field("person.other_names", "Other names", "textarea", hint="One name per line."),
    Field("person.address", "Address"),
)

# Opening is presented apart: its route, CLI command and form also choose the agreement and
# number the case (api/routes/cases.py, readmit/cli/case.py, api/web/open_form.py).
OPEN_CASE = Presentation(
    "open_case", "", "open", "Open a case", "Open a case as the requesting state", OpenCaseBody
)

# The commands on an open case, in the order a case usually meets them.
CASE_COMMANDS: tuple[Presentation, ...] = (
    Presentation(
        "add_evidence",
        "/evidence",
        "evidence",
        "Add evidence",
        "Add evidence (sealed with the case key before it reaches the case)",
        EvidenceBody,
    ),
    Presentation(
        "submit",
        "/submit",
        "submit",
        "Submit the application",
        "Submit the application: it is delivered to the requested state, and its reply limit runs",
        EmptyBody,
    ),
    Presentation(
        "confirm_receipt",
        "/receipt",
        "receipt",
        "Confirm receipt",
        "Acknowledge receipt of the application (recorded once; the reply limit already runs "
        "from its delivery on submission)",
        EmptyBody,
    ),
    Presentation(
        "record_verification",
        "/verification",
        "verification",
        "Record verification",
        "Record the outcome of identity verification or an interview",
        VerificationBody,
        (
            Field(
                "status",
                "Outcome",
                "select",
                required=True,
                options=tuple((s.value, f"@verification:{s.value}") for s in VerificationStatus),
            ),
            Field(
                "score",
                "Score (0 to 1)",
                "number",
                required=True,
                attrs={"min": "0", "max": "1", "step": "0.001"},
            ),
            Field("reasons", "Reasons", "textarea", hint="One reason per line."),
            Field("interview_needed", "A consular interview is needed", "checkbox"),
        ),
    ),
    Presentation(
        "extend_reply",
        "/extension",
        "extend",
        "Extend the reply limit",
        "Extend the reply limit (once, with reasons)",
        ReasonsBody,
        (REASONS,),
    ),
    Presentation(
        "accept",
        "/accept",
        "accept",
        "Accept",
        "Accept the application",
        NoteBody,
        (Field("note", "Note (optional)", attrs={"maxlength": "200"}),),
    ),
    Presentation(
        "refuse",
        "/refuse",
        "refuse",
        "Refuse",
        "Refuse the application, with reasons",
        ReasonsBody,
        (REASONS,),
    ),
    Presentation(
        "schedule_transfer",
        "/transfer",
        "transfer",
        "Schedule the transfer",
        "Schedule (or reschedule) the transfer: date, border crossing point, mode, escorts",
        TransferBody,
        (
            Field(
                "on",
                "Date and time of the transfer",
                "datetime",
                required=True,
                hint="Local time of the requesting state (%(zone)s).",
            ),
            Field("bcp", "Border crossing point", "select", required=True, from_terms="bcps"),
            Field("mode", "Mode", "select", required=True, from_terms="modes"),
            Field("escorts", "Escorts", "number", attrs={"min": "0", "max": "20"}),
        ),
    ),
    Presentation(
        "confirm_transfer",
        "/transfer/confirmation",
        "transfer-confirm",
        "Confirm the transfer",
        "Confirm the notified transfer (date, crossing point, mode)",
        NoteBody,
        (Field("note", "Note (optional)", attrs={"maxlength": "200"}),),
    ),
    Presentation(
        "object_to_transfer",
        "/transfer/objection",
        "transfer-object",
        "Object to the transfer",
        "Object to the notified transfer, with reasons: the requesting state schedules it anew",
        ReasonsBody,
        (REASONS,),
    ),
    Presentation(
        "complete_transfer",
        "/transfer/complete",
        "transfer-complete",
        "Record the completed transfer",
        "Record the completed transfer",
        EmptyBody,
    ),
    Presentation(
        "extend_transfer",
        "/transfer/extension",
        "transfer-extend",
        "Extend the transfer limit",
        "Extend the transfer limit for an obstacle",
        TransferExtensionBody,
        (
            Field("days", "Days", "number", required=True, attrs={"min": "1", "max": "365"}),
            REASONS,
        ),
    ),
    Presentation(
        "claim_error",
        "/error-claim",
        "error-claim",
        "Claim readmission in error",
        "Claim the person was readmitted in error",
        ReasonsBody,
        (REASONS,),
    ),
    Presentation(
        "accept_error_claim",
        "/error-claim/accept",
        "error-accept",
        "Accept the error claim",
        "Accept the claim of readmission in error: the person is to be taken back",
        NoteBody,
        (Field("note", "Note (optional)", attrs={"maxlength": "200"}),),
    ),
    Presentation(
        "dispute_error_claim",
        "/error-claim/dispute",
        "error-dispute",
        "Dispute the error claim",
        "Dispute the claim of readmission in error, with reasons",
        ReasonsBody,
        (REASONS,),
    ),
    Presentation(
        "schedule_return",
        "/return",
        "return",
        "Schedule the return",
        "Schedule (or reschedule) the return of the person readmitted in error: date, border "
        "crossing point, mode, escorts",
        ReturnBody,
        (
            Field(
                "on",
                "Date and time of the return",
                "datetime",
                required=True,
                hint="Local time of the requested state (%(zone)s).",
            ),
            Field("bcp", "Border crossing point", "select", required=True, from_terms="bcps"),
            Field("mode", "Mode", "select", required=True, from_terms="modes"),
            Field("escorts", "Escorts", "number", attrs={"min": "0", "max": "20"}),
        ),
    ),
    Presentation(
        "complete_return",
        "/return/complete",
        "return-complete",
        "Record the completed return",
        "Record that the person readmitted in error was handed back",
        EmptyBody,
    ),
    Presentation(
        "amend_person",
        "/person",
        "amend-person",
        "Correct the person's data",
        "Correct the person's data (sealed with the case key; the earlier version stays in the "
        "history)",
        PersonBody,
        PERSON_FIELDS,
    ),
    Presentation(
        "withdraw",
        "/withdraw",
        "withdraw",
        "Withdraw",
        "Withdraw the application, with reasons",
        ReasonsBody,
        (REASONS,),
    ),
    Presentation("close", "/close", "close", "Close the case", "Close the case", EmptyBody),
    # transit cases (docs/transit.md)
    Presentation(
        "consent_transit",
        "/transit/consent",
        "transit-consent",
        "Consent to the transit",
        "Consent to the transit request",
        NoteBody,
        (Field("note", "Note (optional)", attrs={"maxlength": "200"}),),
    ),
    Presentation(
        "refuse_transit",
        "/transit/refuse",
        "transit-refuse",
        "Refuse the transit",
        "Refuse the transit request, with reasons",
        ReasonsBody,
        (REASONS,),
    ),
    Presentation(
        "schedule_transit",
        "/transit/schedule",
        "transit-schedule",
        "Schedule the transit",
        "Schedule (or reschedule) the transit: date, entry and exit points, escorts, flight",
        TransitScheduleBody,
        (
            Field(
                "on",
                "Date and time of the transit",
                "datetime",
                required=True,
                hint="Local time of the requesting state (%(zone)s).",
            ),
            Field("entry_point", "Entry point", required=True, attrs={"maxlength": "200"}),
            Field("exit_point", "Exit point", required=True, attrs={"maxlength": "200"}),
            Field("escorts", "Escorts", "number", attrs={"min": "0", "max": "20"}),
            Field("flight.number", "Flight (optional)", attrs={"maxlength": "200"}),
        ),
    ),
    Presentation(
        "complete_transit",
        "/transit/complete",
        "transit-complete",
        "Record the completed transit",
        "Record that the person left the territory for the destination",
        EmptyBody,
    ),
    Presentation(
        "report_transit_failure",
        "/transit/failure",
        "transit-failure",
        "Report a failed transit",
        "Report that the transit failed or the destination refused entry, with reasons",
        TransitFailureBody,
        (REASONS, Field("entry_refused", "The destination refused entry", "checkbox")),
    ),
    Presentation(
        "take_back",
        "/transit/take-back",
        "take-back",
        "Take the person back",
        "Take the person back after the failed transit",
        NoteBody,
        (Field("note", "Note (optional)", attrs={"maxlength": "200"}),),
    ),
)
PRESENTED: dict[str, Presentation] = {p.name: p for p in (OPEN_CASE, *CASE_COMMANDS)}

# Assignment (domain.assignment): each side's officers take, give back or (supervisors) assign
# their side of a case. The API routes them and the CLI offers them like the commands above;
# the case page shows them in its own "Assignment" section (api/web/assignment.py), never among
# the moves a case waits for, its "Assign to" choices the officers of the caller's state.
ASSIGNMENT_COMMANDS: tuple[Presentation, ...] = (
    Presentation(
        "claim_case",
        "/claim",
        "claim",
        "Claim the case",
        "Take the case for your side: you become its assignee there",
        EmptyBody,
    ),
    Presentation(
        "release_case",
        "/release",
        "release",
        "Release the case",
        "Give the case back: your side has no assignee until one claims it or a supervisor "
        "assigns it",
        EmptyBody,
    ),
    Presentation(
        "assign_case",
        "/assign",
        "assign",
        "Assign the case",
        "Assign (or reassign) your side of the case to an officer of your state (supervisors)",
        AssignBody,
        (Field("officer", "Assign to", "select", required=True),),
    ),
)
PRESENTED.update({p.name: p for p in ASSIGNMENT_COMMANDS})  # the case page's own section
# Every command officers reach over the API and the CLI, by name.
REACHABLE: dict[str, Presentation] = PRESENTED | {p.name: p for p in ASSIGNMENT_COMMANDS}

# A reply's approval (domain.reply_approval): where the replying state requires it, an
# officer's accept or refuse becomes a draft (`api.reply_approval`) that a supervisor approves
# (it leaves then, and counts from then) or returns with reasons. The case page offers them in
# a section of their own (api/web/templates/reply_approval.html), so they stay out of `PRESENTED`.
REPLY_APPROVAL_COMMANDS: tuple[Presentation, ...] = (
    Presentation(
        "approve_reply",
        "/reply/approve",
        "approve",
        "Approve the reply",
        "Approve the drafted reply: it leaves now and counts from now (supervisors)",
        EmptyBody,
    ),
    Presentation(
        "return_reply",
        "/reply/return",
        "return-reply",  # `readmit case return` schedules a return in error
        "Return the reply",
        "Return the drafted reply to its officer, with reasons (supervisors)",
        ReasonsBody,
        (REASONS,),
    ),
)
REACHABLE.update({p.name: p for p in REPLY_APPROVAL_COMMANDS})

# Messages (domain.messages): either side writes to the other. api/routes/messages.py routes it
# (naming each message), `readmit case message send` offers it, and the case page has a form of
# its own beside the conversation, so its words too stay out of `PRESENTED`.
MESSAGE_COMMANDS: tuple[Presentation, ...] = (
    Presentation(
        "send_case_message",
        "/messages",
        None,
        "Send a message",
        "Write to the other state: ask for information or an interview (requested state), "
        "answer a request (requesting state), or a note (either)",
        MessageBody,
    ),
)
REACHABLE.update({p.name: p for p in MESSAGE_COMMANDS})

# Escalations (domain.escalations): a supervisor acknowledges their side's escalations, which
# stops their repeats. The case page offers it in a section of its own (api/web/escalations.py),
# not among the actions a case waits for.
ESCALATION_COMMANDS: tuple[Presentation, ...] = (
    Presentation(
        "acknowledge_escalation",
        "/escalations/acknowledge",
        "acknowledge",
        "Acknowledge the escalations",
        "Acknowledge your side's escalations of limits that passed or are about to: their "
        "repeats stop (supervisors)",
        EmptyBody,
    ),
)
REACHABLE.update({p.name: p for p in ESCALATION_COMMANDS})
