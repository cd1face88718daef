"""Domain errors: each names the rule that refused a command.

The workflow turns them into non-retryable `ApplicationError`s whose `type` is the class name, and
the API maps that type to 409 (a command the case refuses) or 422 (a command that is malformed).
"""

from __future__ import annotations


class DomainError(Exception):
    """A command refused by a rule of the agreement or of the case lifecycle."""

    rule: str = "domain rule"
    http_status: int = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def type(self) -> str:
        return type(self).__name__


class InvalidCommand(DomainError):
    """The command itself is malformed (missing reasons, impossible dates, unknown BCP, ...)."""

    rule = "well-formed command"
    http_status = 422


class ReasonsRequired(InvalidCommand):
    rule = "a refusal, extension, withdrawal, error claim or dispute states its reasons"


class NoticeTooShort(InvalidCommand):
    rule = "a transfer is notified the protocol's working days ahead"


class TransferNotConfirmed(DomainError):
    rule = "a notified transfer takes place once the other side confirmed it"


class WrongStatus(DomainError):
    rule = "the case lifecycle"


class AlreadyRecorded(DomainError):
    rule = "a once-only act is recorded once"


class CaseAlreadyOpened(DomainError):
    rule = "a case is opened once"


class CaseClosedError(DomainError):
    rule = "nothing happens after a case is closed"


class AlreadyAssigned(DomainError):
    rule = "each side of a case has one assignee: a supervisor reassigns it"


class NotAssigned(DomainError):
    rule = "only a side's assignee releases the case"


class ReplyAlreadyDrafted(DomainError):
    rule = "one drafted reply at a time: a supervisor approves or returns it first"


class NothingDrafted(DomainError):
    rule = "a supervisor approves or returns a drafted reply"


class AgreementSuspended(DomainError):
    rule = "no new submissions under a suspended agreement"


class AgreementNotInForce(DomainError):
    rule = "the agreement applies from its entry into force"


class TcnObligationsNotStarted(DomainError):
    rule = "third-country nationals and stateless persons only from the agreement's date for them"


class SubmissionWindowClosed(DomainError):
    rule = "the application is submitted within the submission limit"


class AcceleratedNotAllowed(DomainError):
    rule = "the accelerated procedure applies only to apprehensions in the border region"


class ReplyDeadlinePassed(DomainError):
    rule = "no reply after the reply limit: its consequence already applies"


class ExtensionNotAllowed(DomainError):
    rule = "one extension at most, before the original limit passes, where the agreement allows"


class TransferNotAllowed(DomainError):
    rule = "transfer only after (deemed) acceptance and within the transfer limit"


class ErrorClaimWindowClosed(DomainError):
    rule = "readmission in error only within its window after transfer"


class ErrorAnswerPassed(DomainError):
    rule = "no answer to an error claim after its limit: its consequence already applies"


class ReturnNotAllowed(DomainError):
    rule = "the person is returned after the error claim is accepted, within the return limit"


class LimitNotExpired(DomainError):
    rule = "a limit expires only once its deadline has passed"


class DeadlineNotComputed(DomainError):
    """An acceptance, a refusal or an extension of the reply limit found no reply deadline in
    the case: the receipt's decision computes one only from a reply limit of the case's terms
    (`reply`, or `accelerated_reply` for the accelerated procedure), and these terms have none.
    A gap in the agreement's terms, not in the command: the case refuses it (409)."""

    rule = "a reply is given within the reply limit that the receipt started"


# --- transit cases (domain.transit) -------------------------------------------------------


class WrongCaseKind(DomainError):
    """A readmission command on a transit case, or a transit command on a readmission case."""

    rule = "each kind of case takes its own commands"


class TransitRequestInvalid(InvalidCommand):
    rule = (
        "a transit is requested for a third-country national or stateless person, through the "
        "requested state to another destination state that has assured admission"
    )


class TransitNotProvided(DomainError):
    rule = "a transit runs under terms that give a transit reply limit ('limits.transit_reply')"


class TransitLeadTooShort(InvalidCommand):
    """The planned transit is too close: the lead time of the agreement or protocol, quoted
    from its file (the rule names it, with its source), is not met."""

    rule = "a transit is requested the lead time the agreement or protocol sets before it"

    def __init__(self, message: str, rule: str | None = None) -> None:
        super().__init__(message)
        if rule is not None:
            self.rule = rule


class TransitNotAllowed(DomainError):
    rule = "a transit happens only after consent, and never before the instant consented to"


class MessageNotAllowed(DomainError):
    rule = (
        "the requested state asks for information or an interview, the requesting state answers "
        "its requests, either side writes notes"
    )


class NothingToAcknowledge(DomainError):
    rule = "a supervisor acknowledges an escalation of a limit of their side that still runs"
