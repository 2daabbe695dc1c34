"""The web shell: landing page, security headers, CSRF and flash messages, API docs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx2
import pytest
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from hackops.browser import CSRF_COOKIE, csrf_protect, csrf_token, flash
from hackops.config import Settings
from hackops.db import Database, TransactionalRoute
from hackops.main import create_app
from tests.helpers import database_on, serving


async def test_landing_page(client: httpx2.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>HackOps — hackathons from registration to results</title>" in response.text
    # Three sections, each saying what is missing when empty.
    assert "No public event is coming up yet." in response.text
    assert "No public event is running or being judged right now." in response.text
    assert "No results are published yet" in response.text
    assert 'href="/docs"' in response.text


async def test_security_headers(client: httpx2.AsyncClient) -> None:
    headers = (await client.get("/")).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    assert "x-request-id" in headers


async def test_stylesheet_is_served(client: httpx2.AsyncClient) -> None:
    response = await client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "--accent" in response.text


async def test_api_docs_are_served_from_local_assets(client: httpx2.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    scripts = re.findall(r'<script src="([^"]+)"', docs.text)
    assert scripts
    # Served by this app (from an installed package), never from a CDN: works offline.
    assert all(src.startswith("/swagger/") for src in scripts)
    for src in scripts:
        assert (await client.get(src)).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/api/v1/organizations/{slug}"]["get"]
    assert operation["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }


def form_routes() -> APIRouter:
    router = APIRouter(
        prefix="/probe", route_class=TransactionalRoute, dependencies=[Depends(csrf_protect)]
    )

    @router.get("/form", response_class=HTMLResponse)
    async def show(request: Request) -> str:
        return f'<form method="post"><input name="csrf_token" value="{csrf_token(request)}"></form>'

    @router.post("/form")
    async def submit(request: Request) -> Response:
        flash(request, "Saved.", "success")
        return RedirectResponse("/", status_code=303)

    return router


@pytest.fixture
async def browser(
    settings: Settings, bound_database: Database, connection: AsyncConnection
) -> AsyncIterator[httpx2.AsyncClient]:
    app = create_app(settings, database=database_on(bound_database.engine, connection))
    app.include_router(form_routes())
    async with serving(app) as http:
        yield http


async def _token(http: httpx2.AsyncClient) -> str:
    page = await http.get("/probe/form")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    assert http.cookies[CSRF_COOKIE] == match.group(1)
    return match.group(1)


async def test_form_post_with_token_succeeds_and_flashes_once(browser: httpx2.AsyncClient) -> None:
    token = await _token(browser)
    response = await browser.post(
        "/probe/form", data={"csrf_token": token}, headers={"Origin": "http://testserver"}
    )
    assert response.status_code == 303
    first = await browser.get("/")
    assert 'class="flash flash-success">Saved.</p>' in first.text
    second = await browser.get("/")
    assert "Saved." not in second.text


async def test_token_in_header_is_accepted(browser: httpx2.AsyncClient) -> None:
    token = await _token(browser)
    response = await browser.post("/probe/form", headers={"X-CSRF-Token": token})
    assert response.status_code == 303


async def test_form_post_without_token_is_refused(browser: httpx2.AsyncClient) -> None:
    await _token(browser)
    response = await browser.post("/probe/form", data={"other": "x"})
    assert response.status_code == 403
    assert "cross-site request" in response.text
    assert response.headers["content-type"].startswith("text/html")


async def test_form_post_with_a_forged_token_is_refused(browser: httpx2.AsyncClient) -> None:
    await _token(browser)
    browser.cookies.set(CSRF_COOKIE, "forged")
    response = await browser.post("/probe/form", data={"csrf_token": "forged"})
    assert response.status_code == 403


async def test_cross_origin_post_is_refused_even_with_a_token(browser: httpx2.AsyncClient) -> None:
    token = await _token(browser)
    response = await browser.post(
        "/probe/form", data={"csrf_token": token}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    referer = await browser.post(
        "/probe/form",
        data={"csrf_token": token},
        headers={"Referer": "https://evil.example/page"},
    )
    assert referer.status_code == 403


async def test_tampered_flash_cookie_is_ignored(browser: httpx2.AsyncClient) -> None:
    browser.cookies.set("hackops_flash", "not-signed")
    response = await browser.get("/")
    assert response.status_code == 200
    assert 'class="flashes"' not in response.text
