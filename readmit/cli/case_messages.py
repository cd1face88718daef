"""`readmit case message send CASE_ID --kind ... --text ...` and `readmit case messages
CASE_ID`: the case's conversation between the two states (domain.messages), over the API.

`send` prints the new message's id (the whole answer with `--json`); `messages` prints one line
per message, its author, instant, kind and text, or the API's answer as JSON. A message the case
refuses exits 1 with its reason, bad input 2.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer

from domain.message_values import MESSAGE_TEXT_MAX, MessageKind
from readmit.cli.case_commands import CaseId
from readmit.cli.case_session import Session, connected, with_session
from readmit.cli.common import fail, print_json

Kind = Annotated[
    MessageKind,
    typer.Option(
        "--kind",
        help="request_information | request_interview (requested state), answer (requesting "
        "state, with --answers), note (either)",
    ),
]
Text = Annotated[str, typer.Option("--text", help="the message (the server seals it)")]
Answers = Annotated[
    str | None, typer.Option("--answers", help="the id of the message this one answers")
]


def register(group: typer.Typer) -> None:
    """Add `message send` and `messages` to the `case` group."""
    message = typer.Typer(no_args_is_help=True, help="Write to the other state about a case.")
    message.command("send", help="Send a message to the other state (your own side).")(
        with_session(send)
    )
    group.add_typer(message, name="message", rich_help_panel="Commands of a case")
    group.command("messages", help="The case's conversation with the other state.")(
        with_session(messages)
    )


def send(
    session: Session, case_id: CaseId, kind: Kind, text: Text, answers: Answers = None
) -> None:
    given = text.strip()
    if not given or len(given) > MESSAGE_TEXT_MAX:
        fail(f"--text: give 1 to {MESSAGE_TEXT_MAX} characters")
    body: dict[str, Any] = {"kind": kind.value, "text": given}
    if answers is not None:
        try:
            body["answers"] = str(UUID(answers))
        except ValueError:
            fail(f"--answers {answers!r} is not a message id")
    with connected(session) as api:
        sent = api.send_message(case_id.upper(), body, session.idempotency_key)
    if session.as_json:
        print_json(sent)
        return
    on_its_way = " (on its way to the other node)" if sent.get("sending") else ""
    typer.echo(f"{sent['message_id']}{on_its_way}")


def messages(session: Session, case_id: CaseId) -> None:
    with connected(session) as api:
        found = api.messages(case_id.upper())
    if session.as_json:
        print_json(found)
        return
    for line in message_lines(found["messages"]):
        typer.echo(line)


def message_lines(items: list[dict[str, Any]]) -> list[str]:
    """One line per message: instant, state and author, kind, (due / answered), text."""
    if not items:
        return ["no messages"]
    lines = []
    for m in items:
        text = "[erased]" if isinstance(m["text"], dict) else m["text"]
        extra = []
        if m.get("answer_due"):
            extra.append(f"answer by {m['answer_due']}")
        if m.get("answered") is not None:
            extra.append("answered" if m["answered"] else "not answered")
        if m.get("answers"):
            extra.append(f"answers {m['answers']}")
        notes = f" ({'; '.join(extra)})" if extra else ""
        author = m["author"].get("user_id") or "-"
        lines.append(
            f"{m['at']}  {m['state']} {author}  {m['kind']}{notes}  {m['message_id']}\n    {text}"
        )
    return lines
