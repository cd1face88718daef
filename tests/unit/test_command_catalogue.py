"""One command catalogue: the domain's half (domain.commands.CATALOGUE) covers every command of
the decider, the presentation table (api.commands) every command officers issue, and the API's
routes, the CLI's commands, the pages' forms and the simulator's steps are made from them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

import pytest
import typer
from fastapi.routing import APIRoute
from pydantic import ValidationError

from api.command_bodies import AssignBody, EmptyBody
from api.commands import (
    ASSIGNMENT_COMMANDS,
    CASE_COMMANDS,
    ESCALATION_COMMANDS,
    MESSAGE_COMMANDS,
    OPEN_CASE,
    PRESENTED,
    REACHABLE,
    REPLY_APPROVAL_COMMANDS,
    Caller,
)
from api.routes.cases import router
from api.web.case_page import ACTIONS
from api.web.forms import FormErrors, action_body, fields_for
from domain.actions import expected_actions
from domain.commands import (
    BY_NAME,
    CATALOGUE,
    AssignCase,
    ClaimCase,
    Command,
    RecordVerification,
    issued_by,
)
from domain.state import CaseState
from domain.values import Side, Status
from readmit.cli import case
from readmit.simulate.scenario import STEP_COMMANDS

AT = datetime(2027, 2, 1, 9, tzinfo=UTC)
OFFICERS = {kind.name for kind in CATALOGUE if kind.side is not Side.SYSTEM}
ASSIGNMENT = {"claim_case", "release_case", "assign_case"}
# a reply's approval (domain.reply_approval): a node's own; the draft is reached through the
# accept and refuse endpoints (api.reply_approval), approvals and returns through their own
APPROVAL = {"draft_reply", "approve_reply", "return_reply"}
# a file added to a case: either side's, uploaded (multipart) at its own route
# (api/routes/attachments.py) and `readmit case attach`, not a JSON body of the catalogue's
UPLOADS = {"add_attachment"}
MESSAGES = {"send_case_message"}
# a supervisor's acknowledgement of their side's escalations: local like assignment (issue 17)
ESCALATION = {"acknowledge_escalation"}


def test_the_catalogue_holds_every_command_of_the_decider_once() -> None:
    members = get_args(get_args(Command)[0])
    assert sorted(k.model.__name__ for k in CATALOGUE) == sorted(m.__name__ for m in members)
    assert len(BY_NAME) == len(CATALOGUE) == len(members)
    for kind in CATALOGUE:
        assert kind.model.model_fields["command"].default == kind.name
    clocks = {"expire_limit", "record_escalation", "repeat_escalation"}
    assert clocks == set(BY_NAME) - OFFICERS  # the clock's


def test_what_a_case_waits_for_is_an_officers_command_of_the_catalogue() -> None:
    for status in Status:
        for side, name in expected_actions(CaseState(status=status)):
            assert name in BY_NAME and side is not Side.SYSTEM, (status, name)


def test_assignment_is_either_sides_a_nodes_own_and_never_a_move_the_case_waits_for() -> None:
    either = ASSIGNMENT | UPLOADS | MESSAGES | ESCALATION
    assert {k.name for k in CATALOGUE if k.side is Side.EITHER} == either
    local = ASSIGNMENT | APPROVAL | ESCALATION  # files and messages cross
    assert {k.name for k in CATALOGUE if k.local} == local
    offered = {name for status in Status for _, name in expected_actions(CaseState(status=status))}
    assert not offered & (ASSIGNMENT | UPLOADS | ESCALATION)


def test_a_command_of_either_side_is_issued_by_the_side_it_names() -> None:
    claim = ClaimCase(at=AT, side=Side.REQUESTED, by="officer.ua")
    assert issued_by(claim) is Side.REQUESTED
    assert issued_by(BY_NAME["submit"].build(AT, {})) is Side.REQUESTING
    with pytest.raises(ValidationError):  # a party's side, never the clock's or "either"
        ClaimCase(at=AT, side=Side.EITHER, by="officer.ua")


def test_an_assignment_takes_its_side_and_actor_from_the_caller_never_the_body() -> None:
    claim = REACHABLE["claim_case"].build(AT, EmptyBody(), Caller("officer.pl", Side.REQUESTING))
    assert isinstance(claim, ClaimCase)
    assert (claim.side, claim.by) == (Side.REQUESTING, "officer.pl")
    assign = REACHABLE["assign_case"].build(
        AT, AssignBody(officer="officer2.pl"), Caller("supervisor.pl", Side.REQUESTING)
    )
    assert isinstance(assign, AssignCase) and assign.officer == "officer2.pl"
    with pytest.raises(ValueError, match="caller"):
        REACHABLE["release_case"].build(AT, EmptyBody())
    for extra in ({"side": "requested"}, {"by": "someone.else"}):
        with pytest.raises(ValidationError):
            EmptyBody.model_validate(extra)
        with pytest.raises(ValidationError):
            AssignBody.model_validate({"officer": "officer2.pl", **extra})


def test_the_presentation_table_presents_every_command_officers_issue() -> None:
    assert set(REACHABLE) == OFFICERS - {"draft_reply"} - UPLOADS
    assert len(REACHABLE) == (
        len(CASE_COMMANDS)
        + len(ASSIGNMENT_COMMANDS)
        + len(REPLY_APPROVAL_COMMANDS)
        + len(MESSAGE_COMMANDS)
        + len(ESCALATION_COMMANDS)
        + 1
    )
    # the pages' commands (and their words): all but a reply's approval, in a section of its
    # own, a file's upload, a form of its own, messages, whose form the case page has beside
    # the conversation, and the acknowledgement of escalations, a section of its own;
    # assignment in the case page's own section
    assert set(PRESENTED) == OFFICERS - APPROVAL - UPLOADS - MESSAGES - ESCALATION
    assert set(PRESENTED) >= ASSIGNMENT and set(ACTIONS) >= ASSIGNMENT
    assert len({c.path for c in REACHABLE.values()}) == len(REACHABLE)
    cli = [c.cli for c in REACHABLE.values() if c.cli]
    assert len(set(cli)) == len(cli)


def test_every_command_route_is_the_catalogues() -> None:
    posts = {
        route.path: route
        for route in router.routes
        if isinstance(route, APIRoute) and "POST" in (route.methods or ())
    }
    commands = (
        *CASE_COMMANDS,
        *ASSIGNMENT_COMMANDS,
        *REPLY_APPROVAL_COMMANDS,
        *ESCALATION_COMMANDS,
    )
    wanted = {f"/cases/{{case_id}}{c.path}": c for c in commands}
    wanted["/cases" + OPEN_CASE.path] = OPEN_CASE
    assert set(posts) == set(wanted)
    for path, command in wanted.items():
        assert (posts[path].name, posts[path].summary) == (command.name, command.help), path


def test_every_offered_action_has_a_form_that_builds_its_command() -> None:
    offered = {name for status in Status for _, name in expected_actions(CaseState(status=status))}
    assert offered <= ACTIONS == {c.name for c in (*CASE_COMMANDS, *ASSIGNMENT_COMMANDS)}
    samples = {
        "text": "x",
        "textarea": "a reason",
        "number": "1",
        "datetime": "2027-02-01T09:00",
        "date": "1990-05-17",
        "person.nationality": "UA",  # a code, not any text
    }
    for name in sorted(offered):
        form = {}
        for f in fields_for(name, CaseState()):
            sample = samples.get(f.name) or samples.get(f.kind, "1")
            form[f.name] = f.options[0][0] if f.options else sample
        body = action_body(name, form, "Europe/Warsaw")
        command = PRESENTED[name].build(AT, body)
        assert isinstance(command, BY_NAME[name].model), name
        assert command.at == AT


def test_a_verification_is_given_flat_and_built_nested() -> None:
    built = BY_NAME["record_verification"].build(AT, {"status": "confirmed", "score": "0.9"})
    assert isinstance(built, RecordVerification)
    assert (built.outcome.status.value, str(built.outcome.score)) == ("confirmed", "0.9")


def test_the_assign_form_builds_the_assignment_its_select_names() -> None:
    (officer,) = fields_for("assign_case", CaseState())
    assert (officer.name, officer.kind, officer.required) == ("officer", "select", True)
    body = action_body("assign_case", {"officer": "marek.pl"}, "Europe/Warsaw")
    assert body == AssignBody(officer="marek.pl")
    assert action_body("claim_case", {}, "Europe/Warsaw") == EmptyBody()
    with pytest.raises(FormErrors) as missing:
        action_body("assign_case", {}, "Europe/Warsaw")
    assert "officer" in missing.value.errors


def cli_commands() -> dict[str, Any]:
    """The click commands of `readmit case` (typer's own click, whichever it brings)."""
    app = typer.Typer()
    case.register(app)
    group: Any = typer.main.get_command(app)
    return dict(group.commands["case"].commands)


def test_every_cli_command_of_a_case_is_the_catalogues_with_an_option_per_field() -> None:
    commands = cli_commands()
    reads = {"list", "show", "events", "state", "verify", "exchange", "document", "messages"}
    reads |= {"attachments", "attachment"}
    reads |= {"attachment-mrz"}  # reads an image attachment's MRZ: nothing is written
    uploads = {"attach"}  # add_attachment: a file, not the catalogue's fields
    groups = {"message"}  # `readmit case message send` (readmit/cli/case_messages.py)
    assert set(commands) - reads - uploads - groups == {c.cli for c in REACHABLE.values() if c.cli}
    assert set(commands["message"].commands) == {"send"}
    assert "--officer" in {o for p in commands["assign"].params for o in p.opts}
    for presented in (*CASE_COMMANDS, *ASSIGNMENT_COMMANDS):
        if presented.cli is None:
            continue
        command = commands[presented.cli]
        assert command.help is not None and command.help.startswith(presented.help)
        words = "your own side" if presented.side is Side.EITHER else f"{presented.side.value} side"
        assert f"({words})" in command.help
        options = {o for p in command.params for o in p.opts}
        for f in presented.fields:
            # the person's fields (`person.surname`) by their own name (`--surname`), other
            # nested ones in full (`flight.number` as `--flight-number`)
            own = f.name.removeprefix("person.")
            wanted = (
                "--reason" if own == "reasons" else f"--{own.replace('_', '-').replace('.', '-')}"
            )
            assert wanted in options, (presented.cli, wanted)


def test_scenario_steps_are_the_officers_commands_on_an_open_case() -> None:
    local = ASSIGNMENT | APPROVAL | UPLOADS | ESCALATION
    assert set(STEP_COMMANDS) == OFFICERS - {"open_case"} - local
