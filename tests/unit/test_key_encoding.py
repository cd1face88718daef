"""One decoder for every key (`adapters.encoding`): what `readmit keys init` prints, every
reader loads; the production check accepts exactly what the loaders load."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters import encoding
from adapters.audit.bundle import BundleError
from adapters.audit.bundle import signing_key_from as audit_signing_key
from adapters.keys import (
    command_signer,
    command_verifier,
    master_keyring,
    payload_keyring,
    search_key,
)
from adapters.production import API, WORKER, problems
from adapters.settings import Settings
from adapters.temporal.command_signing import CommandKeyError, CommandSigner, public_key_from
from readmit.cli.keys import production_key_set


def settings_of(key_set: dict[str, str], **more: Any) -> Settings:
    values = {name: value.strip("'") for name, value in key_set.items()}
    return Settings(
        _env_file=None,
        env="production",
        database_url="postgresql://readmit_app@db:5432/readmit",
        temporal_address="temporal:7233",
        payload_keys=json.loads(values["READMIT_PAYLOAD_KEYS"]),
        payload_key_id=values["READMIT_PAYLOAD_KEY_ID"],
        master_keys=json.loads(values["READMIT_MASTER_KEYS"]),
        master_key_id=values["READMIT_MASTER_KEY_ID"],
        audit_signing_key=values["READMIT_AUDIT_SIGNING_KEY"],
        command_signing_key=values["READMIT_COMMAND_SIGNING_KEY"],
        command_verify_keys=json.loads(values["READMIT_COMMAND_VERIFY_KEYS"]),
        jwt_secret=values["READMIT_JWT_SECRET"],
        search_key=values["READMIT_SEARCH_KEY"],
        metrics_token=values["READMIT_METRICS_TOKEN"],
        **more,
    )


def test_every_fresh_key_set_loads_into_every_reader() -> None:
    """Finding: `keys init` printed URL-safe seeds that the command signer refused ~78% of
    the time (a `-` or `_` in 43 characters), though the production check passed them."""
    now = datetime.now(UTC)
    for _ in range(200):
        settings = settings_of(production_key_set(now))
        assert problems(settings, API | WORKER) == []
        signer = command_signer(settings)
        assert command_verifier(settings).keys == {signer.key_id: signer.public_key} or (
            signer.key_id in command_verifier(settings).keys
        )
        # the workers' public keys alone verify the API's signatures
        workers = settings.model_copy(update={"command_signing_key": None})
        assert set(command_verifier(workers).keys) == {signer.key_id}
        payload_keyring(settings)
        master_keyring(settings)
        audit_signing_key(settings.audit_signing_key or "")
        assert len(search_key(settings)) == 32


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(b"\xfb\xff" * 16).decode(),  # standard, padded, with + and /
        base64.b64encode(b"\xfb\xff" * 16).decode().rstrip("="),  # standard, unpadded
        base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode(),  # URL-safe, padded
        base64.urlsafe_b64encode(b"\xfb\xff" * 16).decode().rstrip("=") + "\n",  # and a newline
    ],
)
def test_decode_accepts_both_alphabets_with_or_without_padding(text: str) -> None:
    assert encoding.decode(text, 32) == b"\xfb\xff" * 16


@pytest.mark.parametrize("text", ["", "not base64!", "AAAA AAAA", "a=bc", "QUJD"])
def test_decode_refuses_what_is_not_base64_of_the_size_asked(text: str) -> None:
    with pytest.raises(encoding.KeyEncodingError) as caught:
        encoding.decode(text, 32)
    assert text.strip() == "" or text not in str(caught.value)  # never echoes the key


def test_every_reader_refuses_a_short_key_with_its_own_error() -> None:
    short = base64.b64encode(os.urandom(16)).decode()
    with pytest.raises(CommandKeyError, match="16 bytes"):
        CommandSigner.from_seed(short)
    with pytest.raises(CommandKeyError, match="16 bytes"):
        public_key_from(short)
    with pytest.raises(BundleError, match="16 bytes"):
        audit_signing_key(short)


def test_both_key_names_are_the_same_fingerprint() -> None:
    key = audit_signing_key(base64.b64encode(os.urandom(32)).decode())
    assert encoding.key_id_of(key) == f"ed25519-{encoding.fingerprint(key.public_key())}"
    assert encoding.public_key_text(key) == encoding.public_key_text(key.public_key())
    assert encoding.public_key_from(encoding.public_key_text(key)) is not None
