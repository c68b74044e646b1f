"""The admin panel's sign-in, as a browser meets it: staff only; the access token in the answer
and the refresh token in an HttpOnly, SameSite=Strict cookie scoped to /api/v1/auth/web; refresh
and logout refused without the CSRF header or from another site's page; the cookie rotates, a
copied one ends the session, logout ends it at once."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.settings import Settings
from domain.accounts.models import AuthSession, User
from tests.conftest import PASSWORD, bearer, count_rows, make_settings
from tests.support.admin_helpers import CSRF, account

LOGIN = "/auth/web/login"
REFRESH = "/auth/web/refresh"
LOGOUT = "/auth/web/logout"


def _cookie(response: httpx.Response) -> SimpleCookie:
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    return jar


async def _login(api: httpx.AsyncClient, email: str) -> httpx.Response:
    return await api.post(LOGIN, json={"identifier": email, "password": PASSWORD})


async def test_an_admin_signs_in_with_a_cookie_scripts_cannot_read(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin_id, _ = await account(api, db, "boss@example.com", role="admin", name="Boss")
    signed_in = await _login(api, "boss@example.com")
    assert signed_in.status_code == 200, signed_in.text
    body = signed_in.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "user"}  # no refresh token
    assert body["token_type"] == "bearer"
    assert body["user"] == {
        "id": admin_id,
        "name": "Boss",
        "email": "boss@example.com",
        "roles": ["admin"],
    }
    morsel = _cookie(signed_in)["hp_refresh"]
    assert morsel.value
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "strict"
    assert morsel["path"] == "/api/v1/auth/web"
    assert not morsel["secure"]  # served over http here
    assert int(morsel["max-age"]) == 30 * 86_400
    assert signed_in.headers["cache-control"] == "no-store"

    me = await api.get("/me", headers=bearer(body))
    assert me.status_code == 200
    assert me.json()["roles"] == ["admin"]


async def test_support_staff_sign_in_too(api: httpx.AsyncClient, db: AsyncSession) -> None:
    await account(api, db, "help@example.com", role="support")
    signed_in = await _login(api, "help@example.com")
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["roles"] == ["support"]


async def test_the_cookie_is_secure_when_the_api_is_served_over_https(
    database_url: str,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    db: AsyncSession,
) -> None:
    configured = make_settings(
        database_url=database_url,
        temporal_task_queue=settings.temporal_task_queue,  # the test's worker serves it
        public_base_url="https://admin.homeplans.example",
    )
    app = create_app(configured, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://admin.homeplans.example/api/v1"
        ) as api:
            await account(api, db, "tls@example.com", role="admin")
            signed_in = await _login(api, "tls@example.com")
    assert signed_in.status_code == 200, signed_in.text
    assert _cookie(signed_in)["hp_refresh"]["secure"] is True


async def test_customers_and_technicians_are_refused_with_a_reason(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    customer_id, _ = await account(api, db, "buyer@example.com")
    await account(api, db, "fixer@example.com", role="technician")
    for email in ("buyer@example.com", "fixer@example.com"):
        refused = await _login(api, email)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "admin or support" in refused.json()["detail"]
        assert "set-cookie" not in refused.headers
    # No session was opened for the refused sign-in (the one from registering is all).
    assert await count_rows(db, AuthSession, AuthSession.user_id == customer_id) == 1


async def test_a_wrong_password_is_a_401_counted_with_the_apps_sign_in(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(api, db, "guess@example.com", role="admin")
    wrong = {"identifier": "guess@example.com", "password": "not the password"}
    for _ in range(5):
        assert (await api.post("/auth/login", json=wrong)).status_code == 401
    for _ in range(5):
        assert (await api.post(LOGIN, json=wrong)).status_code == 401
    # Ten failures on the account, whichever door they came through: the limit is reached.
    limited = await _login(api, "guess@example.com")
    assert limited.status_code == 429
    assert "retry-after" in limited.headers


async def test_refresh_needs_the_csrf_header_and_this_sites_origin(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(api, db, "csrf@example.com", role="admin")
    assert (await _login(api, "csrf@example.com")).status_code == 200

    bare = await api.post(REFRESH)  # the cookie alone, as a form on another site would send it
    assert bare.status_code == 403
    assert "X-Requested-With" in bare.json()["detail"]
    wrong_value = await api.post(REFRESH, headers={"X-Requested-With": "XMLHttpRequest"})
    assert wrong_value.status_code == 403
    elsewhere = await api.post(REFRESH, headers={**CSRF, "Origin": "https://evil.example"})
    assert elsewhere.status_code == 403
    assert "evil.example" in elsewhere.json()["detail"]

    lookalike = await api.post(REFRESH, headers={**CSRF, "Origin": "http://test.evil.example"})
    assert lookalike.status_code == 403

    same_site = await api.post(REFRESH, headers={**CSRF, "Origin": "http://test"})
    assert same_site.status_code == 200, same_site.text
    behind_nginx = await api.post(REFRESH, headers={**CSRF, "Origin": "http://test:8080"})
    assert behind_nginx.status_code == 200, behind_nginx.text


async def test_refresh_rotates_the_cookie_and_a_copied_one_ends_the_session(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(api, db, "rotate@example.com", role="support")
    signed_in = await _login(api, "rotate@example.com")
    first = _cookie(signed_in)["hp_refresh"].value

    refreshed = await api.post(REFRESH, headers=CSRF)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["user"]["roles"] == ["support"]
    second = _cookie(refreshed)["hp_refresh"].value
    assert second != first
    assert (await api.get("/me", headers=bearer(refreshed.json()))).status_code == 200

    # Someone copied the first cookie and presents it: the session ends for both of them.
    api.cookies.clear()
    replayed = await api.post(REFRESH, headers={**CSRF, "Cookie": f"hp_refresh={first}"})
    assert replayed.status_code == 401
    assert "already used" in replayed.json()["detail"]
    assert _cookie(replayed)["hp_refresh"]["max-age"] == "0"  # the browser drops it
    api.cookies.clear()
    after = await api.post(REFRESH, headers={**CSRF, "Cookie": f"hp_refresh={second}"})
    assert after.status_code == 401
    assert (await api.get("/me", headers=bearer(refreshed.json()))).status_code == 401


async def test_refresh_without_a_cookie_is_no_session_not_an_error(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Every signed-out load of the panel asks; the answer is "no session" (204), which the
    browser does not log as a failed request."""
    missing = await api.post(REFRESH, headers=CSRF)
    assert missing.status_code == 204
    assert missing.content == b""


async def test_an_admin_demoted_since_signing_in_cannot_refresh(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin_id, _ = await account(api, db, "demoted@example.com", role="admin")
    signed_in = await _login(api, "demoted@example.com")
    await db.execute(update(User).where(User.id == admin_id).values(role="customer"))
    await db.commit()

    refused = await api.post(REFRESH, headers=CSRF)
    assert refused.status_code == 403
    assert (await api.get("/me", headers=bearer(signed_in.json()))).status_code == 401


async def test_logout_needs_the_header_ends_the_session_and_clears_the_cookie(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(api, db, "leave@example.com", role="admin")
    signed_in = await _login(api, "leave@example.com")
    cookie = _cookie(signed_in)["hp_refresh"].value

    assert (await api.post(LOGOUT)).status_code == 403
    assert (await api.get("/me", headers=bearer(signed_in.json()))).status_code == 200

    out = await api.post(LOGOUT, headers=CSRF)
    assert out.status_code == 204
    cleared = _cookie(out)["hp_refresh"]
    assert cleared["max-age"] == "0"
    assert cleared["path"] == "/api/v1/auth/web"
    assert (await api.get("/me", headers=bearer(signed_in.json()))).status_code == 401
    api.cookies.clear()
    again = await api.post(REFRESH, headers={**CSRF, "Cookie": f"hp_refresh={cookie}"})
    assert again.status_code == 401

    # Signed out already: the same answer.
    assert (await api.post(LOGOUT, headers=CSRF)).status_code == 204
