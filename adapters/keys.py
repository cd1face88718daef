"""Key material from settings, with a development keyring generated once under `home`.

Production (`READMIT_ENV=production`) takes every key from the settings (`readmit keys init`
prints a set) and never generates one: each function here first asks `adapters.production`
whether the settings it reads are there and strong, and raises its `ProductionSettingsError`
(one line naming them) when not. Workers may hold only the public keys of command signatures
(`READMIT_COMMAND_VERIFY_KEYS`) instead of the API's signing key. In development, a laptop
without the settings gets a random keyring written to `<home>/keys.json` (mode 0600) and reused
on every start, so data kept across restarts stays readable.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters import encoding
from adapters.federation.identity import IdentityError, NodeIdentity
from adapters.production import require_production
from adapters.settings import ConfigurationError, Settings
from adapters.temporal.codec import Keyring
from adapters.temporal.command_signing import (
    CommandKeyError,
    CommandSigner,
    CommandVerifier,
    public_key_from,
)

DEV_KEY_ID = "dev-1"
DEV_MASTER_KEY_ID = "dev-master-1"


def _new_material() -> dict[str, Any]:
    return {
        "payload_keys": {DEV_KEY_ID: Keyring.new_key()},
        "master_keys": {DEV_MASTER_KEY_ID: Keyring.new_key()},
        "jwt_secret": secrets.token_urlsafe(32),
        "audit_signing_key": base64.b64encode(os.urandom(32)).decode(),
        "command_signing_key": base64.b64encode(os.urandom(32)).decode(),
        "search_key": base64.b64encode(os.urandom(32)).decode(),
    }


def _dev_material(home: Path) -> dict[str, Any]:
    """Development keys, generated once under `home` and reused (mode 0600).

    A file written by an older version gets the keys it lacks added, never replaced. Processes
    starting together (`readmit run`: API and workers) take turns under a lock file, so they all
    end up with the same keys: two different master keys would lock cases out.
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / "keys.json"
    with (home / ".keys.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        material = dict(json.loads(path.read_text())) if path.exists() else {}
        missing = {k: v for k, v in _new_material().items() if k not in material}
        if missing:
            material |= missing
            partial = path.with_name(f".keys.{os.getpid()}.json")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(material, handle)
            os.replace(partial, path)
        return material


def payload_keyring(settings: Settings) -> Keyring:
    """The keys of the Temporal payload codec: from settings, else the dev ones under `home`."""
    require_production(settings, {"payload"})
    keys = settings.payload_keys or dict(_dev_material(settings.home)["payload_keys"])
    active = settings.payload_key_id or list(keys)[-1]
    return Keyring.from_encoded(keys, active)


def master_keyring(settings: Settings) -> Keyring:
    """The master keys wrapping case data keys: from settings, else the dev one under `home`."""
    require_production(settings, {"master"})
    keys = settings.master_keys or dict(_dev_material(settings.home)["master_keys"])
    active = settings.master_key_id or list(keys)[-1]
    return Keyring.from_encoded(keys, active, what="master")


def jwt_secret(settings: Settings) -> str | None:
    """The HS256 secret: from settings, else the development one (only when HS256 is allowed)."""
    require_production(settings, {"tokens"})
    if settings.jwt_secret:
        return settings.jwt_secret
    if "HS256" not in settings.jwt_algorithms:
        return None
    return str(_dev_material(settings.home)["jwt_secret"])


def audit_signing_seed(settings: Settings) -> str:
    """The Ed25519 seed (base64) signing audit bundles and checkpoints: from settings, else
    the dev one."""
    require_production(settings, {"audit"})
    if settings.audit_signing_key:
        return settings.audit_signing_key
    return str(_dev_material(settings.home)["audit_signing_key"])


def command_signing_seed(settings: Settings) -> str:
    """The Ed25519 seed (base64) with which the API signs commands to Temporal: from settings,
    else the dev one."""
    require_production(settings, {"commands"})
    if settings.command_signing_key:
        return settings.command_signing_key
    return str(_dev_material(settings.home)["command_signing_key"])


def search_key(settings: Settings) -> bytes:
    """The key of the person search's blind index (32 bytes): from settings, else the dev one.
    In production it must be set (a `ProductionSettingsError` otherwise)."""
    require_production(settings, {"search"})
    text = settings.search_key or str(_dev_material(settings.home)["search_key"])
    try:
        return encoding.decode(text, encoding.KEY_BYTES)
    except encoding.KeyEncodingError as error:
        raise ConfigurationError(f"READMIT_SEARCH_KEY: {error}") from None


def command_signer(settings: Settings) -> CommandSigner:
    """What the API's case gateway signs commands with. Raises `ConfigurationError` (one
    line) for a key that is not a base64 32-byte seed."""
    try:
        return CommandSigner.from_seed(command_signing_seed(settings))
    except CommandKeyError as error:
        raise ConfigurationError(f"READMIT_COMMAND_SIGNING_KEY: {error}") from None


def command_verifier(settings: Settings) -> CommandVerifier:
    """The keys the workers accept command signatures from: `READMIT_COMMAND_VERIFY_KEYS`, and
    the public key of the signing key when one is set, or when no verify key is (development:
    the key under `home`, which the API on the same machine signs with)."""
    keys = [public_key_from(text) for text in settings.command_verify_keys]
    if settings.command_signing_key or not keys:
        keys.append(command_signer(settings).public_key)
    return CommandVerifier(keys, timedelta(seconds=settings.command_signature_max_age_seconds))


def node_identity(settings: Settings) -> NodeIdentity | None:
    """A federated node's identity, from its key file (`settings.node_keys_path()`); None for a
    single installation. A key file that is missing, unreadable, open to others or another
    state's is a `ConfigurationError` (one line, exit 2): the process does not start."""
    if settings.node_state is None:
        return None
    path = settings.node_keys_path()
    assert path is not None
    try:
        identity = NodeIdentity.load(path)
    except (IdentityError, OSError) as error:
        raise ConfigurationError(f"the node key file {path}: {error}") from None
    if identity.state != settings.node_state:
        raise ConfigurationError(
            f"the node key file {path} is {identity.state}'s, not READMIT_NODE_STATE's "
            f"{settings.node_state}"
        )
    return identity
