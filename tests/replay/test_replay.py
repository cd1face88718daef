"""Recorded histories replay against the current workflow code: a change that would break a
running case fails here (change workflow code only behind `workflow.patched`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from history_text import history_plaintext
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from adapters.temporal.codec import Keyring, data_converter
from workflows.readmission_case import ReadmissionCase

HERE = Path(__file__).parent
HISTORIES = sorted((HERE / "histories").glob("*.json"))
# recorded since sealing; since one local activity commits each command (`commit-case-events`)
COMMITTED = [p for p in HISTORIES if p.stem.startswith("committed_")]
SEALED = [p for p in HISTORIES if p.stem.startswith("sealed_")] + COMMITTED


def replay_keyring() -> Keyring:
    data = json.loads((HERE / "keyring.json").read_text())
    return Keyring.from_encoded(data["keys"], data["active"])


def test_histories_are_recorded() -> None:
    assert len(HISTORIES) >= 9 and len(SEALED) >= 6 and len(COMMITTED) >= 3


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_histories_took_the_patched_way(path: Path) -> None:
    """Both ways are covered: older histories replay the remote activities, these the patch."""
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    markers = [
        e.marker_recorded_event_attributes.marker_name
        for e in history.events
        if e.HasField("marker_recorded_event_attributes")
    ]
    activities = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    assert markers.count("core_patch") == 1 and markers.count("core_local_activity") >= 5
    assert activities <= {"verify_identity"}, activities


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())  # noqa: ASYNC240
    replayer = Replayer(
        workflows=[ReadmissionCase], data_converter=data_converter(replay_keyring())
    )
    await replayer.replay_workflow(history)


@pytest.mark.parametrize("path", SEALED, ids=[p.stem for p in SEALED])
def test_current_histories_hold_personal_data_only_sealed(path: Path) -> None:
    text = history_plaintext(
        WorkflowHistory.from_json(path.stem, path.read_text()), replay_keyring()
    )
    assert '"sealed":"v1.' in text
    for personal in ("Testova", "Iryna", "1985-03-02", "TT000001"):
        assert personal not in text
