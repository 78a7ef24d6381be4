"""Swagger UI and ReDoc served entirely by this app (assets from the fastapi-offline wheel)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
# The password form needs only username and password: Swagger's OAuth2 dialog would also ask for
# a client id, secret and their location, which mean nothing here.
HIDE_CLIENT_FIELDS = (
    "<style>"
    'div:has(> label[for="password_type"]), div:has(> label[for="client_id_password"]), '
    'div:has(> label[for="client_secret_password"]) { display: none; }'
    "</style>"
)


def mount_docs(app: FastAPI, prefix: str) -> None:
    """`{prefix}/docs`, `{prefix}/redoc` and their assets under `{prefix}/docs-assets`."""
    assets = f"{prefix}/docs-assets"
    openapi_url = app.openapi_url or f"{prefix}/openapi.json"
    app.mount(assets, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            oauth2_redirect_url=f"{prefix}/docs/oauth2-redirect",
        )
        html = bytes(page.body).decode().replace("</head>", HIDE_CLIENT_FIELDS + "</head>", 1)
        return HTMLResponse(html)

    @app.get(f"{prefix}/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(f"{prefix}/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )
