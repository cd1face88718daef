"""Server-rendered pages for officers, supervisors and auditors under `/ui` (Jinja2 templates,
plain CSS and a little JavaScript: no front-end build, nothing fetched from elsewhere).

`router` is included by the API app factory: the pages run in the API process, on its services,
with its access rules.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web import (
    attachment_mrz,
    attachments,
    audit,
    case_messages,
    case_page,
    dashboard,
    documents,
    escalations,
    inbox,
    mrz_pages,
    reply_approval_page,
    search,
    signin,
    statistics,
)

router = APIRouter(include_in_schema=False)
for _module in (
    signin,
    dashboard,
    case_page,
    attachments,
    attachment_mrz,
    inbox,
    audit,
    statistics,
    documents,
    search,
    mrz_pages,
    case_messages,
    reply_approval_page,
    escalations,
):
    router.include_router(_module.router)

__all__ = ["router"]
