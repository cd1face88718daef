"""The API's documentation page, `/docs`: Swagger UI served from this process, never a CDN.

The cookie-authenticated pages share the API's origin, so a script loaded onto it from another
site could act as whoever is signed in. Swagger UI's files are vendored under
`api/web/static/swagger-ui/` (see its README: version, licence, hashes) and the page's policy
allows scripts from this origin only. Production serves neither the page nor `/openapi.json`
unless `READMIT_API_DOCS=true`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from adapters.settings import Settings
from api.problems import Problem

ASSETS = Path(__file__).parent / "web" / "static" / "swagger-ui"
SERVED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "init.js": "text/javascript",
}
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Readmit API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


def docs_enabled(settings: Settings) -> bool:
    """`READMIT_API_DOCS` when set; otherwise on in development, off in production."""
    return settings.api_docs if settings.api_docs is not None else not settings.production


@router.get("/docs")
async def docs_page() -> Response:
    return HTMLResponse(
        PAGE,
        headers={
            "Content-Security-Policy": POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-cache",
        },
    )


@router.get("/docs/assets/{asset}")
async def docs_asset(asset: str) -> Response:
    media = SERVED.get(asset)
    if media is None:
        raise Problem(404, "Not found", f"no documentation asset {asset}")
    return FileResponse(
        ASSETS / asset,
        media_type=media,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
