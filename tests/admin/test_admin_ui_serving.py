"""The admin panel's build at /admin, as a browser fetches it: the app's routes answer its page,
which is revalidated every time, while hashed assets are cached for good; a strict CSP on every
answer; a missing asset is a 404, not the page; no build is a 503 page that says how to make one.

A tiny fake build in a temporary folder (ADMIN_UI_DIST) stands in for Vite's output. The files
are served without the app's database or Temporal, so no lifespan is started.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.main import create_app
from tests.conftest import make_settings

INDEX = (
    '<!doctype html><html><head><script type="module" src="/admin/assets/index-3f9a1c.js">'
    '</script></head><body><div id="root"></div></body></html>'
)
SCRIPT = "console.log('admin');"


def _build(dist: Path) -> None:
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "assets" / "index-3f9a1c.js").write_text(SCRIPT)
    (dist / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (dist / ".build-stamp").write_text("0123abcd")


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    dist = tmp_path / "dist"
    _build(dist)
    app = create_app(make_settings(admin_ui_dist=str(dist)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def _assert_strict_csp(response: httpx.Response) -> None:
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline or foreign scripts
    assert policy["connect-src"] == "'self'"  # the app talks to this API only
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_app_page_is_served_at_admin_and_never_cached(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/admin/")
    assert page.status_code == 200
    assert page.text == INDEX
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    _assert_strict_csp(page)

    bare = await browser.get("/admin", follow_redirects=False)
    assert bare.status_code in (307, 308)
    assert bare.headers["location"].endswith("/admin/")


async def test_a_route_of_the_app_answers_its_page(browser: httpx.AsyncClient) -> None:
    for path in ("/admin/service-requests/42", "/admin/customers", "/admin/index.html"):
        page = await browser.get(path)
        assert page.status_code == 200, path
        assert page.text == INDEX, path
        assert page.headers["cache-control"] == "no-cache", path
        _assert_strict_csp(page)


async def test_the_page_is_revalidated_with_its_etag(browser: httpx.AsyncClient) -> None:
    first = await browser.get("/admin/")
    again = await browser.get("/admin/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_hashed_assets_are_cached_for_good(browser: httpx.AsyncClient) -> None:
    script = await browser.get("/admin/assets/index-3f9a1c.js")
    assert script.status_code == 200
    assert script.text == SCRIPT
    assert "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    _assert_strict_csp(script)

    icon = await browser.get("/admin/favicon.svg")  # not hashed: revalidated
    assert icon.status_code == 200
    assert icon.headers["cache-control"] == "no-cache"


async def test_a_missing_asset_is_a_404_not_the_page(browser: httpx.AsyncClient) -> None:
    missing = await browser.get("/admin/assets/index-old.js")
    assert missing.status_code == 404
    assert INDEX not in missing.text
    assert missing.headers["cache-control"] == "no-store"


async def test_nothing_outside_the_build_is_served(browser: httpx.AsyncClient) -> None:
    stamp = await browser.get("/admin/.build-stamp")
    assert stamp.status_code == 404
    for path in ("/admin/../pyproject.toml", "/admin/%2e%2e/%2e%2e/pyproject.toml"):
        answer = await browser.get(path)
        assert "[project]" not in answer.text, path
    posted = await browser.post("/admin/")
    assert posted.status_code == 405


async def test_without_a_build_a_503_page_says_how_to_make_one(tmp_path: Path) -> None:
    dist = tmp_path / "not-built"
    app = create_app(make_settings(admin_ui_dist=str(dist)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as browser:
        page = await browser.get("/admin/plans")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert "npm ci" in page.text and "npm run build" in page.text
        assert "make run" in page.text
        assert page.headers["cache-control"] == "no-store"

        # Built while the API runs: served from the next request on, no restart.
        _build(dist)
        page = await browser.get("/admin/plans")
        assert page.status_code == 200
        assert page.text == INDEX
