"""Command signatures: what the API signs, what the workers refuse, how keys rotate, and who may
act on which side of a case (the workflow's own, pure, check)."""

from __future__ import annotations

import base64
import os
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from factories import terms

from adapters.encoding import public_key_text
from adapters.keys import command_signer, command_signing_seed, command_verifier
from adapters.settings import Settings
from adapters.temporal.codec import Keyring, data_converter
from adapters.temporal.command_signing import (
    CommandSignatureError,
    CommandSigner,
    CommandVerifier,
)
from domain.commands import (
    AcceptApplication,
    Command,
    OpenCase,
    RefuseApplication,
    SubmitApplication,
    WithdrawCase,
)
from domain.state import initial_state
from domain.values import EvidenceItem, Person
from workflows.contracts import Actor, CommandRequest, PeerMessage
from workflows.readmission_case import may_not_act

AT = datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
CASE = "PL-UA-2027-000001"
UPDATE = "anna.pl:key-1"
ANNA = Actor(user_id="anna.pl", state="PL", role="officer")
OLENA = Actor(user_id="olena.ua", state="UA", role="officer")
SIGNER = CommandSigner.throwaway()
VERIFIER = SIGNER.verifier()


def opening() -> OpenCase:
    return OpenCase(
        at=AT,
        case_id=CASE,
        terms=terms(),
        category="own_national",
        person=Person(surname="Shevchenko", given_names="Oleksandr", birth_date=date(1990, 5, 17)),
        evidence=(EvidenceItem(kind="passport", number="FA123456"),),
        knowledge_at=AT - timedelta(days=2),
    )


def request(command: Command, actor: Actor = ANNA) -> CommandRequest:
    return CommandRequest(command=command, actor=actor, correlation_id=UPDATE)


def through_temporal(signed: CommandRequest) -> CommandRequest:
    """The request as a worker reads it: encoded to a payload and decoded again."""
    converter = data_converter(Keyring({"k": os.urandom(32)}, "k")).payload_converter
    [payload] = converter.to_payloads([signed])
    [read] = converter.from_payloads([payload], [CommandRequest])
    assert isinstance(read, CommandRequest)
    return read


@pytest.mark.parametrize(
    "command",
    [
        opening(),
        SubmitApplication(at=AT),
        RefuseApplication(at=AT, reasons=("not a national", "ключ")),
        WithdrawCase(at=AT.astimezone(timezone(timedelta(hours=3))), reasons=("found",)),
    ],
    ids=lambda c: c.command,
)
def test_a_signed_request_verifies_after_travelling_through_temporal(command: Command) -> None:
    signed = SIGNER.sign(CASE, UPDATE, request(command), at=AT)
    assert signed.signature is not None and signed.signature.key_id == SIGNER.key_id
    VERIFIER.check(CASE, UPDATE, through_temporal(signed), now=AT + timedelta(seconds=5))


def refusal(signed: CommandRequest, case: str = CASE, update: str = UPDATE) -> str:
    with pytest.raises(CommandSignatureError) as refused:
        VERIFIER.check(case, update, signed, now=AT)
    return str(refused.value)


def test_an_unsigned_request_is_refused() -> None:
    assert refusal(request(SubmitApplication(at=AT))) == "the command is not signed by the API"


def test_a_forged_actor_command_case_or_update_breaks_the_signature() -> None:
    signed = SIGNER.sign(CASE, UPDATE, request(SubmitApplication(at=AT)), at=AT)
    mismatch = "the command's signature does not match this case, update and command"
    assert refusal(signed.model_copy(update={"actor": OLENA})) == mismatch
    supervisor = ANNA.model_copy(update={"role": "supervisor"})
    assert refusal(signed.model_copy(update={"actor": supervisor})) == mismatch
    withdrawn = WithdrawCase(at=AT, reasons=("x",))
    assert refusal(signed.model_copy(update={"command": withdrawn})) == mismatch
    assert refusal(signed, case="PL-UA-2027-000002") == mismatch
    assert refusal(signed, update="anna.pl:key-2") == mismatch
    assert refusal(signed.model_copy(update={"correlation_id": "other"})) == mismatch
    assert signed.signature is not None
    later = signed.signature.model_copy(update={"issued_at": AT + timedelta(seconds=1)})
    assert refusal(signed.model_copy(update={"signature": later})) == mismatch


def test_how_a_peer_message_is_taken_is_signed_too() -> None:
    """A message of the other node reaches the case with its number, what it saw, its sending
    instant, its kind and the case's opening: changing any of them, or dropping them to pass
    the command off as an officer's of this node, breaks the signature."""
    peer = PeerMessage(message_id=uuid.UUID(int=7), sender="UA", seq=2, peer_seen=1, sent_at=AT)
    signed = SIGNER.sign(
        CASE, UPDATE, request(AcceptApplication(at=AT), OLENA).model_copy(update={"peer": peer}),
        at=AT,
    )  # fmt: skip
    VERIFIER.check(CASE, UPDATE, signed, now=AT)  # as signed: taken
    mismatch = "the command's signature does not match this case, update and command"
    for change in (
        {"sent_at": AT - timedelta(hours=1)},
        {"seq": 3},
        {"peer_seen": 0},
        {"kind": "consequence"},
    ):
        assert refusal(signed.model_copy(update={"peer": peer.model_copy(update=change)})) == (
            mismatch
        ), change
    assert refusal(signed.model_copy(update={"peer": None})) == mismatch


def test_an_unknown_key_a_garbled_value_and_an_old_signature_are_refused() -> None:
    stranger = CommandSigner.throwaway().sign(CASE, UPDATE, request(SubmitApplication(at=AT)))
    assert refusal(stranger) == "the command is signed with a key the workers do not know"
    signed = SIGNER.sign(CASE, UPDATE, request(SubmitApplication(at=AT)), at=AT)
    assert signed.signature is not None
    garbled = signed.signature.model_copy(update={"value": "not base64!"})
    assert refusal(signed.model_copy(update={"signature": garbled})) == (
        "the command's signature is not base64"
    )
    old = SIGNER.sign(CASE, UPDATE, request(SubmitApplication(at=AT)), at=AT - timedelta(hours=1))
    assert refusal(old) == "the command's signature has expired"
    VERIFIER.check(CASE, UPDATE, old, now=AT - timedelta(minutes=50))


def test_workers_accept_the_old_and_the_new_key_while_a_new_one_rolls_out(tmp_path: Path) -> None:
    old, new = CommandSigner.throwaway(), CommandSigner.throwaway()
    settings = Settings(
        home=tmp_path,
        command_signing_key=base64.b64encode(os.urandom(32)).decode(),
        command_verify_keys=(public_key_text(old.public_key), public_key_text(new.public_key)),
        _env_file=None,
    )
    verifier = command_verifier(settings)
    assert set(verifier.keys) == {old.key_id, new.key_id, command_signer(settings).key_id}
    for signer in (old, new, command_signer(settings)):
        verifier.check(CASE, UPDATE, signer.sign(CASE, UPDATE, request(SubmitApplication(at=AT))),
                       now=datetime.now(UTC))  # fmt: skip
    assert not (tmp_path / "keys.json").exists()  # the keys came from the settings


def test_a_worker_with_verify_keys_only_holds_no_signing_key(tmp_path: Path) -> None:
    api = CommandSigner.throwaway()
    settings = Settings(
        home=tmp_path, command_verify_keys=(public_key_text(api.public_key),), _env_file=None
    )
    assert set(command_verifier(settings).keys) == {api.key_id}
    assert not (tmp_path / "keys.json").exists()


def test_the_development_key_is_made_once_under_home_and_api_and_workers_agree(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path, _env_file=None)
    seed = command_signing_seed(settings)
    assert command_signing_seed(settings) == seed and len(base64.b64decode(seed)) == 32
    signed = command_signer(settings).sign(CASE, UPDATE, request(SubmitApplication(at=AT)))
    command_verifier(settings).check(CASE, UPDATE, signed, now=datetime.now(UTC))
    given = base64.b64encode(os.urandom(32)).decode()
    configured = Settings(home=tmp_path, command_signing_key=given, _env_file=None)
    assert command_signing_seed(configured) == given


def test_a_verifier_needs_a_key() -> None:
    with pytest.raises(ValueError, match="no key"):
        CommandVerifier([])


# --- who may act on which side (the workflow validator's pure check) ------------------------

OPENED = initial_state().model_copy(update={"terms": terms()})  # the parties are all it reads


@pytest.mark.parametrize(
    ("actor", "command", "refusal_text"),
    [
        (ANNA, opening(), None),
        (OLENA, opening(), "open_case is for the requesting state (PL)"),
        (ANNA.model_copy(update={"role": "supervisor"}), SubmitApplication(at=AT), None),
        (OLENA, SubmitApplication(at=AT), "submit is for the requesting state (PL)"),
        (OLENA, AcceptApplication(at=AT), None),
        (ANNA, AcceptApplication(at=AT), "accept is for the requested state (UA)"),
        (
            Actor(user_id="audit", state="PL", role="auditor"),
            SubmitApplication(at=AT),
            "an auditor issues no case commands",
        ),
        (
            Actor(user_id="root", state="PL", role="admin"),
            SubmitApplication(at=AT),
            "an admin issues no case commands",
        ),
        (
            Actor(user_id="readmit", state="*", role="system"),
            AcceptApplication(at=AT),
            "a system issues no case commands",
        ),
    ],
)
def test_only_officers_and_supervisors_of_the_commands_side_may_act(
    actor: Actor, command: Command, refusal_text: str | None
) -> None:
    state = initial_state() if isinstance(command, OpenCase) else OPENED
    assert may_not_act(actor, command, state) == refusal_text
