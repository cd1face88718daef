"""What the assignment page tests share: a second officer of Poland in the directory, so that
a supervisor has someone to assign a case to besides the demo's one officer."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import asyncpg

from adapters.directory import Officer, import_directory, load_directory
from adapters.temporal.codec import Keyring

MAREK = Officer(user_id="marek.pl", state="PL", role="officer", display_name="Marek Wójcik")


async def with_second_officer(pool: asyncpg.Pool) -> None:
    """The demo directory and Marek, a second officer of Poland."""
    officers = load_directory(Path(str(files("readmit.demo") / "officers.toml")))
    async with pool.acquire() as conn:
        master = Keyring.from_encoded({"test": Keyring.new_key()}, "test", what="master")
        await import_directory(conn, [*officers, MAREK], master=master)
