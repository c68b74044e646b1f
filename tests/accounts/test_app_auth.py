"""The customer app's sign-in, as a browser meets it: sign up, password, phone code; the access
token in the answer and the refresh token in an HttpOnly, SameSite=Strict cookie of its own
(scoped to /api/v1/auth/app); refresh and logout refused without the app's CSRF header or from
another site's page; sign out everywhere ends every session of the account."""

from __future__ import annotations

from http.cookies import SimpleCookie

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from tests.conftest import PASSWORD, bearer, latest_code, register
from tests.support.admin_helpers import CSRF as ADMIN_CSRF
from tests.support.admin_helpers import account

APP = {"X-Requested-With": "homeplans-app"}
PHONE = "+919812312345"


def _cookie(response: httpx.Response) -> SimpleCookie:
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    jar: SimpleCookie = SimpleCookie()
    jar.load(headers[0])
    return jar


async def test_signing_up_in_the_app_signs_in_with_a_cookie_scripts_cannot_read(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    signed_up = await api.post(
        "/auth/app/register",
        json={"email": "asha@example.com", "password": PASSWORD, "name": "Asha"},
    )
    assert signed_up.status_code == 201, signed_up.text
    body = signed_up.json()
    assert "refresh_token" not in str(body)
    assert body["user"]["roles"] == ["customer"]
    assert body["verification"]["channel"] == "email"
    assert body["verification"]["resend_available_at"] is not None  # the cooldown to show
    morsel = _cookie(signed_up)["hp_app_refresh"]
    assert morsel["httponly"] is True and morsel["samesite"] == "strict"
    assert morsel["path"] == "/api/v1/auth/app"
    assert signed_up.headers["cache-control"] == "no-store"

    code = await latest_code(db, "asha@example.com")
    verified = await api.post(
        "/auth/verification/email/confirm", json={"code": code}, headers=bearer(body)
    )
    assert verified.status_code == 200, verified.text

    # A reload: the page has no token, only the cookie.
    refreshed = await api.post("/auth/app/refresh", headers=APP)
    assert refreshed.status_code == 200, refreshed.text
    assert _cookie(refreshed)["hp_app_refresh"].value != morsel.value  # rotated
    me = await api.get("/me", headers=bearer(refreshed.json()))
    assert me.json()["email"] == "asha@example.com"


async def test_password_and_phone_code_sign_in_and_the_guards(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, "ravi@example.com", phone=PHONE)
    await db.execute(update(User).where(User.email == "ravi@example.com").values(role="technician"))
    await db.commit()
    signed_in = await api.post(
        "/auth/app/login", json={"identifier": "ravi@example.com", "password": PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["roles"] == ["technician"]  # the technician's day, too

    assert (await api.post("/auth/app/refresh")).status_code == 403  # no CSRF header
    admins = await api.post("/auth/app/refresh", headers=ADMIN_CSRF)  # the other app's header
    assert admins.status_code == 403
    elsewhere = await api.post(
        "/auth/app/refresh", headers={**APP, "Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403 and "evil.example" in elsewhere.json()["detail"]
    # The app's cookie does not open the admin panel: it has no session there.
    panel = await api.post("/auth/web/refresh", headers=ADMIN_CSRF)
    assert panel.status_code == 204 and "access_token" not in panel.text

    api.cookies.clear()
    assert (await api.post("/auth/phone/start", json={"phone": PHONE})).status_code == 202
    code = await latest_code(db, PHONE)
    by_code = await api.post("/auth/app/phone/verify", json={"phone": PHONE, "code": code})
    assert by_code.status_code == 200, by_code.text
    cookie = _cookie(by_code)["hp_app_refresh"].value

    out = await api.post("/auth/app/logout", headers=APP)
    assert out.status_code == 204
    assert _cookie(out)["hp_app_refresh"]["max-age"] == "0"
    assert (await api.post("/auth/app/refresh", headers=APP)).status_code == 204  # none left
    api.cookies.clear()
    kept = await api.post(
        "/auth/app/refresh", headers={**APP, "Cookie": f"hp_app_refresh={cookie}"}
    )
    assert kept.status_code == 401  # a copy kept of the cookie opens nothing
    assert (await api.get("/me", headers=bearer(by_code.json()))).status_code == 401


async def test_sign_out_everywhere_ends_every_session_of_the_account(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await account(api, db, "many@example.com")
    login = {"identifier": "many@example.com", "password": PASSWORD}
    phone = (await api.post("/auth/login", json=login)).json()  # a native app elsewhere
    browser = (await api.post("/auth/app/login", json=login)).json()
    other = await account(api, db, "someone@example.com")

    out = await api.post("/auth/logout-all", headers=bearer(browser))
    assert out.status_code == 204
    for tokens in (phone, browser):
        assert (await api.get("/me", headers=bearer(tokens))).status_code == 401
    refused = await api.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert refused.status_code == 401
    assert (await api.post("/auth/app/refresh", headers=APP)).status_code == 401
    assert (await api.get("/me", headers=other[1])).status_code == 200  # nobody else's
