"""Registering the case workflows' search attributes on a Temporal server that lacks them.

A server refuses a workflow start or upsert naming an attribute it does not know, so every
server the case workflows run on must know `workflows.search_attributes.KEYS` first: `readmit
run`'s dev server is started with them (`--search-attribute`), the test servers register them
here, and production registers them once with `temporal operator search-attribute create`
(docs/operations.md). Registering twice changes nothing.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows.search_attributes import KEYS


async def register(client: Client) -> None:
    """Add to `client`'s namespace the case attributes it does not know yet, one at a time (a
    server that lists none may still know some: those it says exist are left as they are)."""
    known = await _known(client)
    for key in KEYS:
        if key.name in known:
            continue
        kind = IndexedValueType.ValueType(int(key.indexed_value_type))
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=client.namespace, search_attributes={key.name: kind}
                )
            )
        except RPCError as error:
            if error.status is not RPCStatusCode.ALREADY_EXISTS:
                raise


async def _known(client: Client) -> set[str]:
    """The namespace's custom attributes; none on the time-skipping test server, which lists
    nothing (there every registration is a first one)."""
    try:
        known = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except RPCError as error:
        if error.status is not RPCStatusCode.UNIMPLEMENTED:
            raise
        return set()
    return set(known.custom_attributes)
