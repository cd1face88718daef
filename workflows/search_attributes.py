"""The case workflow's search attributes: their typed keys, and a listing as Temporal values.

Operators find cases in the Temporal UI and with `temporal workflow list --query
"ReadmitAgreement='EU-UA' AND ReadmitOverdue=true"`. The values come from `domain.listing`
(never personal data); the gateway sets them when it starts a case and the workflow upserts
them as the case moves (from the `SEARCH_ATTRIBUTES_PATCH` marker on: the v0.2 histories have
none). Every server the workflows run on must know these names first: the test servers and
`readmit run`'s dev server register them (`REGISTRATION`), production with
`temporal operator search-attribute create` (docs/operations.md).
"""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)

from domain.listing import CaseListing

SEARCH_ATTRIBUTES_PATCH = "search-attributes"

AGREEMENT = SearchAttributeKey.for_keyword("ReadmitAgreement")
REQUESTING_STATE = SearchAttributeKey.for_keyword("ReadmitRequestingState")
REQUESTED_STATE = SearchAttributeKey.for_keyword("ReadmitRequestedState")
KIND = SearchAttributeKey.for_keyword("ReadmitKind")
STATUS = SearchAttributeKey.for_keyword("ReadmitStatus")
NEXT_DUE = SearchAttributeKey.for_datetime("ReadmitNextDue")
OVERDUE = SearchAttributeKey.for_bool("ReadmitOverdue")

KEYS: tuple[SearchAttributeKey[str] | SearchAttributeKey[datetime] | SearchAttributeKey[bool], ...]
KEYS = (AGREEMENT, REQUESTING_STATE, REQUESTED_STATE, KIND, STATUS, NEXT_DUE, OVERDUE)

# (name, type) as `temporal server start-dev --search-attribute NAME=TYPE` and
# `temporal operator search-attribute create --name NAME --type TYPE` take them
REGISTRATION: tuple[tuple[str, str], ...] = tuple(
    (key.name, key.indexed_value_type.name.title()) for key in KEYS
)


def _pairs(listing: CaseListing) -> list[SearchAttributePair[Any]]:
    """The listing's values, each beside its key (no next due instant when no limit runs)."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(AGREEMENT, listing.agreement),
        SearchAttributePair(REQUESTING_STATE, listing.requesting),
        SearchAttributePair(REQUESTED_STATE, listing.requested),
        SearchAttributePair(KIND, listing.kind),
        SearchAttributePair(STATUS, listing.status),
        SearchAttributePair(OVERDUE, listing.overdue),
    ]
    if listing.next_due is not None:
        pairs.append(SearchAttributePair(NEXT_DUE, listing.next_due))
    return pairs


def initial(listing: CaseListing) -> TypedSearchAttributes:
    """The attributes a case workflow starts with."""
    return TypedSearchAttributes(_pairs(listing))


def updates(listing: CaseListing) -> list[SearchAttributeUpdate[Any]]:
    """The upserts that make a workflow's attributes say `listing` (but for an unset next due
    instant: `unset_next_due`)."""
    return [pair.key.value_set(pair.value) for pair in _pairs(listing)]


def unset_next_due() -> None:
    """Remove the next due instant of the running workflow (no limit runs any more).

    As an empty list, in the untyped form: a typed unset is sent as a null that the
    time-skipping test server keeps, typed, and the SDK then fails to describe the workflow;
    an empty list removes the attribute on a real server and describes as none on both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        workflow.upsert_search_attributes({NEXT_DUE.name: []})
