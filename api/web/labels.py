"""Words for the domain's codes (statuses, commands, limits, events, grades...), marked for
translation here and translated when a page is rendered in the reader's language."""

from __future__ import annotations

from api.commands import PRESENTED
from api.web.i18n import N_

STATUS = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "received": N_("Received"),
    "accepted": N_("Accepted"),
    "deemed_accepted": N_("Deemed accepted"),
    "refused": N_("Refused"),
    "transfer_scheduled": N_("Transfer scheduled"),
    "transfer_objected": N_("Transfer objected to"),
    "transferred": N_("Transferred"),
    "error_claimed": N_("Readmission in error claimed"),
    "error_accepted": N_("Error claim accepted"),
    "error_disputed": N_("Error claim disputed"),
    "return_scheduled": N_("Return scheduled"),
    "returned_in_error": N_("Returned in error"),
    "withdrawn": N_("Withdrawn"),
    "lapsed": N_("Lapsed"),
    "closed": N_("Closed"),
    "consented": N_("Consented"),
    "deemed_consented": N_("Deemed consented"),
    "transit_scheduled": N_("Transit scheduled"),
    "transited": N_("Transit completed"),
    "transit_failed": N_("Transit failed"),
    "taken_back": N_("Taken back"),
}

# A command's title comes from the command catalogue; "reply" is what a case awaits (accept or
# refuse) on the dashboard.
ACTION = {command.name: command.title for command in PRESENTED.values()} | {
    "reply": N_("Reply (accept or refuse)")
}

LIMIT = {
    "submission": N_("Submission"),
    "accelerated_submission": N_("Accelerated submission"),
    "reply": N_("Reply"),
    "accelerated_reply": N_("Accelerated reply"),
    "transfer": N_("Transfer"),
    "readmission_in_error": N_("Readmission in error"),
    "error_answer": N_("Answer to the error claim"),
    "error_return": N_("Return of the person"),
    "transit_reply": N_("Transit reply"),
    "transfer_notice_reply": N_("Answer to the transfer notice"),
}

# What the instant a limit counts from is (`domain.deadline_starts.counted_from`).
COUNTED_FROM = {
    "knowledge": N_("the authority gained knowledge"),
    "apprehension": N_("apprehension"),
    "delivery": N_("delivery of the application (its receipt)"),
    "confirmation_of_receipt": N_("confirmation of receipt"),
    "acceptance": N_("acceptance"),
    "transfer": N_("the transfer"),
    "notice": N_("the transfer notice"),
    "claim": N_("the claim of readmission in error"),
    "acceptance_of_the_claim": N_("acceptance of the claim of readmission in error"),
}

LEVEL = {
    "reminder_half": N_("Reminder: half the period has passed"),
    "reminder_last_day": N_("Reminder: last working day"),
    "escalation_near": N_("Escalation: the limit is near"),
    "escalation_passed": N_("Escalation: the limit has passed"),
}

EVENT = {
    "CaseOpened": N_("Case opened"),
    "EvidenceAdded": N_("Evidence added"),
    "ApplicationSubmitted": N_("Application submitted"),
    "DeadlineSet": N_("Deadline set"),
    "ApplicationDelivered": N_("Application delivered (received)"),
    "ReceiptConfirmed": N_("Receipt confirmed"),
    "ReceiptAcknowledged": N_("Receipt acknowledged"),
    "VerificationRecorded": N_("Verification recorded"),
    "ReplyLimitExtended": N_("Reply limit extended"),
    "ApplicationAccepted": N_("Application accepted"),
    "ApplicationRefused": N_("Application refused"),
    "DeemedAccepted": N_("Deemed accepted"),
    "DeadlineEscalated": N_("Reminder or escalation"),
    "LimitLapsed": N_("Limit lapsed"),
    "TransferScheduled": N_("Transfer scheduled"),
    "TransferConfirmed": N_("Transfer confirmed"),
    "TransferObjected": N_("Transfer objected to"),
    "TransferCompleted": N_("Transfer completed"),
    "TransferLimitExtended": N_("Transfer limit extended"),
    "ReadmissionInErrorClaimed": N_("Readmission in error claimed"),
    "ErrorClaimed": N_("Readmission in error claimed"),
    "ErrorClaimAccepted": N_("Error claim accepted"),
    "ErrorClaimDeemedAccepted": N_("Error claim deemed accepted"),
    "ErrorClaimDisputed": N_("Error claim disputed"),
    "ReturnScheduled": N_("Return scheduled"),
    "ReturnCompleted": N_("Person returned"),
    "PersonAmended": N_("Person's data corrected"),
    "CaseWithdrawn": N_("Case withdrawn"),
    "CaseClosed": N_("Case closed"),
    "TransitConsented": N_("Transit consented"),
    "TransitRefused": N_("Transit refused"),
    "TransitDeemedConsented": N_("Transit deemed consented"),
    "TransitScheduled": N_("Transit scheduled"),
    "TransitCompleted": N_("Transit completed"),
    "TransitFailed": N_("Transit failed"),
    "PersonTakenBack": N_("Person taken back"),
    "CaseAssigned": N_("Assignee changed"),
    "AttachmentAdded": N_("File added"),
}
# a supervisor's acknowledgement of the escalations, and their repeats (domain.escalations)
EVENT |= {
    "EscalationAcknowledged": N_("Escalation acknowledged"),
    "EscalationRepeated": N_("Escalation repeated"),
}
ACTION |= {"acknowledge_escalation": N_("Acknowledge the escalations")}

# a reply's approval (domain.reply_approval): its events and its two actions
EVENT.update(
    {
        "ReplyDrafted": N_("Reply drafted, awaiting approval"),
        "ReplyReturned": N_("Drafted reply returned"),
    }
)
ACTION.update({"approve_reply": N_("Approve the reply"), "return_reply": N_("Return the reply")})

KIND = {"readmission": N_("Readmission"), "transit": N_("Transit")}

GRADE = {"proof": N_("Proof"), "prima_facie": N_("Prima facie")}

VERIFICATION = {
    "confirmed": N_("Confirmed"),
    "not_confirmed": N_("Not confirmed"),
    "inconclusive": N_("Inconclusive"),
}

CATEGORY = {
    "own_national": N_("Own national"),
    "third_country_national": N_("Third-country national"),
    "stateless": N_("Stateless person"),
}

PROCEDURE = {"standard": N_("Standard"), "accelerated": N_("Accelerated")}

MODE = {"air": N_("Air"), "land": N_("Land"), "sea": N_("Sea")}

SIDE = {"requesting": N_("Requesting state"), "requested": N_("Requested state")}

OUR_SIDE = {"requesting": N_("we request"), "requested": N_("we are asked")}

ROLE = {
    "officer": N_("Officer"),
    "supervisor": N_("Supervisor"),
    "auditor": N_("Auditor"),
    "admin": N_("Administrator"),
}

PLACE = {
    "land_border": N_("Land border"),
    "sea_port": N_("Sea port"),
    "international_airport": N_("International airport"),
    "inland": N_("Inland"),
}

TABLES = {
    "status": STATUS,
    "action": ACTION,
    "limit": LIMIT,
    "counted_from": COUNTED_FROM,
    "level": LEVEL,
    "event": EVENT,
    "grade": GRADE,
    "verification": VERIFICATION,
    "category": CATEGORY,
    "procedure": PROCEDURE,
    "mode": MODE,
    "side": SIDE,
    "our_side": OUR_SIDE,
    "role": ROLE,
    "place": PLACE,
    "kind": KIND,
}


def label(table: str, code: str | None) -> str:
    """The English word for `code` (to be passed through gettext), or the code itself."""
    if code is None:
        return ""
    return TABLES[table].get(code, code.replace("_", " "))


# Titles of the API's problem documents, shown as the heading of an error page.
PROBLEM_TITLES = (
    N_("Not found"),
    N_("Forbidden"),
    N_("Invalid input"),
    N_("Conflict"),
    N_("Command refused"),
    N_("Service unavailable"),
    N_("Idempotency key reused"),
    N_("Request in progress"),
    N_("Internal error"),
)

# Messages between the two states (domain.messages): the command (its form is the case page's
# Messages section, so it is not in `PRESENTED`) and its event.
ACTION["send_case_message"] = N_("Message to the other state")
EVENT["CaseMessageSent"] = N_("Message sent")

# "Read the MRZ" of an image in the case's files (api/web/attachment_mrz.py): its error's form.
ACTION["attachment_mrz"] = N_("Read the MRZ")
