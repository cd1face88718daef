"""Two uploads of the same bytes to one case at once (a double submit, a client's retry while
the first is still running): both read the case before either is recorded, one stores the
sealed bytes, the other's command is recorded first. The refused upload must not take away the
bytes the recorded attachment names, or its download answers 410 for good."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import Api
from attachment_files import png
from test_attachments_api import opened_case, upload

import api.attachments as attachments_module
from adapters.attachments.store import BlobKey

pytestmark = pytest.mark.temporal


async def test_a_refused_duplicate_keeps_the_bytes_the_case_names(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await opened_case(api)
    anna = api.as_("anna.pl", "officer", "PL")
    image = png(11)
    first = await upload(api, case_id, anna, image)
    assert first.status_code == 201, first.text

    # the second upload as the race runs it: it read the case before the first was recorded
    # and it stored the bytes first (the first upload found them there)
    real_load = attachments_module.load_case  # type: ignore[attr-defined]

    async def stale(*args: Any) -> Any:
        recorded, state = await real_load(*args)
        return recorded, state.model_copy(update={"attachments": ()})

    store = api.services.attachments
    assert store is not None
    real_put = store.put

    async def stored_first(key: BlobKey, sealed: bytes) -> bool:
        await real_put(key, sealed)
        return True

    monkeypatch.setattr(attachments_module, "load_case", stale)
    monkeypatch.setattr(store, "put", stored_first)
    second = await upload(api, case_id, anna, image)
    assert second.status_code == 409, second.text
    monkeypatch.undo()

    got = await api.http.get(first.json()["download"], headers=anna)
    assert (got.status_code, got.content) == (200, image)
