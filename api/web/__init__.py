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
    inbox,
    mrz_pages,
    reply_approval_page,
    search,
    signin,
    statistics,
)

router = APIRouter(include_in_schema=False)
_modules = (signin, dashboard, case_page, attachments, inbox, audit, statistics, documents, search)
for _module in (*_modules, mrz_pages, case_messages):
    router.include_router(_module.router)
router.include_router(reply_approval_page.router)
router.include_router(attachment_mrz.router)

__all__ = ["router"]
