"""Key material from settings, with a development keyring generated once under `home`.

Production sets `READMIT_PAYLOAD_KEYS` (and `READMIT_PAYLOAD_KEY_ID`); a laptop without them gets
a random keyring written to `<home>/keys.json` (mode 0600) and reused on every start, so data
kept across restarts stays readable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from readmit.settings import Settings
from readmit.temporal.codec import Keyring

DEV_KEY_ID = "dev-1"


def _dev_keys(home: Path) -> dict[str, str]:
    path = home / "keys.json"
    if path.exists():
        return dict(json.loads(path.read_text())["payload_keys"])
    home.mkdir(parents=True, exist_ok=True)
    keys = {DEV_KEY_ID: Keyring.new_key()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"payload_keys": keys}, handle)
    return keys


def payload_keyring(settings: Settings) -> Keyring:
    keys = settings.payload_keys or _dev_keys(settings.home)
    active = settings.payload_key_id or list(keys)[-1]
    return Keyring.from_encoded(keys, active)
