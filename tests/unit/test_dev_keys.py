"""Development keys under READMIT_HOME: made once, kept, completed, and the same for every
process that starts at the same moment."""

from __future__ import annotations

import json
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from adapters.keys import master_keyring, payload_keyring
from adapters.settings import Settings


def test_keys_are_made_once_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, _env_file=None)
    first = master_keyring(settings)
    assert stat.S_IMODE((tmp_path / "keys.json").stat().st_mode) == 0o600
    again = master_keyring(settings)
    sealed = first.encrypt(b"data key")
    assert again.decrypt(*sealed) == b"data key"


def test_an_older_file_gets_one_master_key_whoever_asks_first(tmp_path: Path) -> None:
    """A keys.json from before master keys existed: many processes starting together (here,
    threads) must all add, and then read, the same master key."""
    old = {"payload_keys": {"dev-1": "A" * 43}, "jwt_secret": "s", "audit_signing_key": "k"}
    (tmp_path / "keys.json").write_text(json.dumps(old))
    settings = Settings(home=tmp_path, _env_file=None)
    with ThreadPoolExecutor(8) as pool:
        keyrings = list(pool.map(lambda _: master_keyring(settings), range(16)))
    blob = keyrings[0].encrypt(b"data key")
    assert all(k.decrypt(*blob) == b"data key" for k in keyrings)
    kept = json.loads((tmp_path / "keys.json").read_text())
    assert kept["payload_keys"] == old["payload_keys"]  # what existed is never replaced
    assert payload_keyring(settings).active == "dev-1"
