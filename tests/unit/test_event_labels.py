"""Every event the case records has a name on the pages' timeline, in every page language."""

from __future__ import annotations

import typing

from api.web import labels
from domain import events


def event_types() -> set[str]:
    union = typing.get_args(events.Event)[0]
    return {
        typing.get_args(model.model_fields["type"].annotation)[0]
        for model in typing.get_args(union)
    }


def test_every_event_type_has_a_timeline_label() -> None:
    missing = event_types() - set(labels.EVENT)
    assert not missing, f"add these to api/web/labels.py EVENT: {sorted(missing)}"


def test_no_label_names_an_event_that_does_not_exist() -> None:
    assert set(labels.EVENT) <= event_types()
