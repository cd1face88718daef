"""Server-rendered pages for officers, supervisors and auditors under `/ui` (Jinja2 templates,
plain CSS and a little JavaScript: no front-end build, nothing fetched from elsewhere).

`router` is included by the API app factory: the pages run in the API process, on its services,
with its access rules.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.web import audit, case_page, dashboard, escalations, inbox, signin, statistics

router = APIRouter(include_in_schema=False)
for _module in (signin, dashboard, case_page, inbox, audit, statistics):
    router.include_router(_module.router)
router.include_router(escalations.router)  # issue 17: a supervisor acknowledges escalations

__all__ = ["router"]
