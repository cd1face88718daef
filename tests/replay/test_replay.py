"""Recorded histories replay against the current workflow code: a change that would break a
running case fails here (change workflow code only behind `workflow.patched`).

Each `v<version>/` folder beside this file holds the histories that release recorded (how to
record them: `record.py`); any other folder holds histories recorded since the last release
(say, of a path a patch added). Every history in every folder is replayed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from history_text import history_plaintext
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from adapters.temporal.codec import Keyring, data_converter
from workflows.readmission_case import ReadmissionCase
from workflows.retention_sweep import RetentionSweep

HERE = Path(__file__).parent


def _release(folder: Path) -> tuple[int, ...]:
    """`v0.2.0` -> (0, 2, 0), so that v0.10.0 sorts after v0.9.0."""
    return tuple(int(n) for n in folder.name.removeprefix("v").split("."))


RELEASES = sorted((p for p in HERE.glob("v*") if p.is_dir()), key=_release)
HISTORIES = sorted(HERE.glob("*/*.json"))
# The walks `record.py` records: accepted and transferred, deemed accepted by silence (reminders
# and escalations on the way), extended then refused, continued as new, the retention sweep.
WALKS = {
    "happy_path",
    "deemed_accepted",
    "extended_then_refused",
    "continued_as_new.run1",
    "continued_as_new.run2",
    "retention_sweep",
}


def replay_keyring() -> Keyring:
    data = json.loads((HERE / "keyring.json").read_text())
    return Keyring.from_encoded(data["keys"], data["active"])


def history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"{path.parent.name}/{path.stem}", path.read_text())


def test_the_newest_release_recorded_every_walk() -> None:
    assert RELEASES, "no release folder of recorded histories"
    assert {p.stem for p in RELEASES[-1].glob("*.json")} == WALKS


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=[ReadmissionCase, RetentionSweep],
        data_converter=data_converter(replay_keyring()),
    )
    await replayer.replay_workflow(history(path))


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
def test_histories_hold_personal_data_only_sealed(path: Path) -> None:
    text = history_plaintext(history(path), replay_keyring())
    if path.stem != "retention_sweep":  # a sweep holds no case
        assert '"sealed":"v1.' in text
    for personal in ("Testova", "Iryna", "1985-03-02", "TT000001", "BC000001"):
        assert personal not in text
