"""Register, verify, sign in, refresh, reuse detection, logout: an account through the API."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import PASSWORD, bearer, latest_code, register


async def test_register_sends_code_and_confirming_it_verifies_the_email(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    registered = await register(api, "Asha@Example.com")
    assert registered["user"]["email"] == "asha@example.com"
    assert registered["user"]["email_verified"] is False
    assert registered["verification"]["status"] == "pending"
    assert registered["verification"]["attempts_left"] == 5

    code = await latest_code(db, "asha@example.com")
    headers = bearer(registered["tokens"])
    confirmed = await api.post(
        "/auth/verification/email/confirm", json={"code": code}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email_verified"] is True

    me = await api.get("/me", headers=headers)
    assert me.json()["email_verified"] is True


async def test_login_with_email_or_phone_and_password(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, "ravi@example.com")
    await register(api, phone="+91 98123 45678")

    by_email = await api.post(
        "/auth/login", json={"identifier": "RAVI@example.com", "password": PASSWORD}
    )
    assert by_email.status_code == 200, by_email.text
    me = await api.get("/me", headers=bearer(by_email.json()))
    assert me.json()["email"] == "ravi@example.com"

    by_phone = await api.post(
        "/auth/login", json={"identifier": "+919812345678", "password": PASSWORD}
    )
    assert by_phone.status_code == 200, by_phone.text
    me = await api.get("/me", headers=bearer(by_phone.json()))
    assert me.json()["phone"] == "+919812345678"


async def test_wrong_password_and_unknown_account_get_the_same_answer(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, "meera@example.com")
    wrong = await api.post(
        "/auth/login", json={"identifier": "meera@example.com", "password": "not the password"}
    )
    unknown = await api.post(
        "/auth/login", json={"identifier": "nobody@example.com", "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_registering_a_taken_email_is_a_conflict(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, "dup@example.com")
    again = await api.post(
        "/auth/register", json={"email": "DUP@example.com", "password": PASSWORD}
    )
    assert again.status_code == 409
    assert "email" in again.json()["detail"]


async def test_refresh_rotates_and_the_old_token_stops_working(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    tokens = (await register(api, "rot@example.com"))["tokens"]
    first = await api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert (await api.get("/me", headers=bearer(rotated))).status_code == 200

    second = await api.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert second.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    tokens = (await register(api, "thief@example.com"))["tokens"]
    legit = (
        await api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).json()

    # Someone replays the old refresh token (it was copied before rotation).
    replay = await api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]

    # Both the legitimate newest refresh token and its access token are dead now.
    after = await api.post("/auth/refresh", json={"refresh_token": legit["refresh_token"]})
    assert after.status_code == 401
    assert (await api.get("/me", headers=bearer(legit))).status_code == 401


async def test_reuse_revokes_only_that_session(api: httpx.AsyncClient, db: AsyncSession) -> None:
    await register(api, "two@example.com")
    phone = (
        await api.post("/auth/login", json={"identifier": "two@example.com", "password": PASSWORD})
    ).json()
    laptop = (
        await api.post("/auth/login", json={"identifier": "two@example.com", "password": PASSWORD})
    ).json()
    await api.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    await api.post("/auth/refresh", json={"refresh_token": phone["refresh_token"]})  # reuse
    assert (await api.get("/me", headers=bearer(laptop))).status_code == 200


async def test_logout_ends_the_session_at_once(api: httpx.AsyncClient, db: AsyncSession) -> None:
    tokens = (await register(api, "bye@example.com"))["tokens"]
    out = await api.post("/auth/logout", headers=bearer(tokens))
    assert out.status_code == 204
    assert (await api.get("/me", headers=bearer(tokens))).status_code == 401
    refreshed = await api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401


async def test_password_change_ends_every_other_session(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    first = (await register(api, "pw@example.com"))["tokens"]
    other = (
        await api.post("/auth/login", json={"identifier": "pw@example.com", "password": PASSWORD})
    ).json()
    changed = await api.post(
        "/me/password",
        headers=bearer(first),
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert changed.status_code == 200, changed.text

    assert (await api.get("/me", headers=bearer(other))).status_code == 401
    assert (await api.get("/me", headers=bearer(first))).status_code == 401
    assert (await api.get("/me", headers=bearer(changed.json()))).status_code == 200
    old = await api.post("/auth/login", json={"identifier": "pw@example.com", "password": PASSWORD})
    assert old.status_code == 401
    new = await api.post(
        "/auth/login", json={"identifier": "pw@example.com", "password": "a brand new passphrase"}
    )
    assert new.status_code == 200


async def test_password_change_needs_the_current_password(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    tokens = (await register(api, "guard@example.com"))["tokens"]
    wrong = await api.post(
        "/me/password",
        headers=bearer(tokens),
        json={"current_password": "guess", "new_password": "something new!"},
    )
    assert wrong.status_code == 401
    assert (await api.get("/me", headers=bearer(tokens))).status_code == 200


async def test_phone_sign_in_with_a_code(api: httpx.AsyncClient, db: AsyncSession) -> None:
    await register(api, phone="+919812300001")
    started = await api.post("/auth/phone/start", json={"phone": "+91 98123 00001"})
    assert started.status_code == 202
    code = await latest_code(db, "+919812300001")

    signed_in = await api.post("/auth/phone/verify", json={"phone": "+919812300001", "code": code})
    assert signed_in.status_code == 200, signed_in.text
    me = (await api.get("/me", headers=bearer(signed_in.json()))).json()
    assert me["phone"] == "+919812300001"
    assert me["phone_verified"] is True


async def test_phone_start_does_not_reveal_whether_a_number_is_registered(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, phone="+919812300002")
    known = await api.post("/auth/phone/start", json={"phone": "+919812300002"})
    unknown = await api.post("/auth/phone/start", json={"phone": "+919812300003"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


async def test_phone_sign_in_with_a_wrong_code_fails(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, phone="+919812300004")
    await api.post("/auth/phone/start", json={"phone": "+919812300004"})
    code = await latest_code(db, "+919812300004")
    wrong = "000000" if code != "000000" else "111111"
    response = await api.post("/auth/phone/verify", json={"phone": "+919812300004", "code": wrong})
    assert response.status_code == 401


async def test_a_locked_sign_in_code_says_to_ask_for_a_new_one(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    await register(api, phone="+919812300005")
    await api.post("/auth/phone/start", json={"phone": "+919812300005"})
    code = await latest_code(db, "+919812300005")
    wrong = "000000" if code != "000000" else "111111"
    answers = [
        await api.post("/auth/phone/verify", json={"phone": "+919812300005", "code": wrong})
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [401] * 5
    assert "POST /api/v1/auth/phone/start" in answers[4].json()["detail"]
    assert (await api.post("/auth/phone/start", json={"phone": "+919812300005"})).status_code == 202
    fresh = await latest_code(db, "+919812300005")
    signed_in = await api.post("/auth/phone/verify", json={"phone": "+919812300005", "code": fresh})
    assert signed_in.status_code == 200, signed_in.text


async def test_wrong_verification_code_counts_down_then_locks(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    registered = await register(api, "lock@example.com")
    headers = bearer(registered["tokens"])
    code = await latest_code(db, "lock@example.com")
    wrong = "000000" if code != "000000" else "111111"
    answers = [
        await api.post("/auth/verification/email/confirm", json={"code": wrong}, headers=headers)
        for _ in range(5)
    ]
    assert [a.status_code for a in answers[:4]] == [400] * 4
    assert "4 attempts left" in answers[0].json()["detail"]
    assert answers[3].json()["detail"] == "wrong code; 1 attempt left"
    assert answers[4].status_code == 409
    start_again = "start a new verification with POST /api/v1/auth/verification/email"
    assert "too many wrong codes" in answers[4].json()["detail"]
    assert start_again in answers[4].json()["detail"]

    # Even the right code no longer works: the verification is over.
    late = await api.post("/auth/verification/email/confirm", json={"code": code}, headers=headers)
    assert late.status_code == 409
    me = (await api.get("/me", headers=headers)).json()
    assert me["email_verified"] is False

    # A resend cannot revive it, and says what does; what it says works.
    resend = await api.post("/auth/verification/email/resend", headers=headers)
    assert resend.status_code == 409
    assert start_again in resend.json()["detail"]
    assert (await api.post("/auth/verification/email", headers=headers)).status_code == 202
    fresh = await latest_code(db, "lock@example.com")
    confirmed = await api.post(
        "/auth/verification/email/confirm", json={"code": fresh}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email_verified"] is True


async def test_resend_is_refused_during_the_cooldown(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    registered = await register(api, "wait@example.com")
    resend = await api.post("/auth/verification/email/resend", headers=bearer(registered["tokens"]))
    assert resend.status_code == 429
    assert int(resend.headers["Retry-After"]) > 0


async def test_changing_email_requires_verifying_the_new_one(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    registered = await register(api, "old@example.com")
    headers = bearer(registered["tokens"])
    await api.post(
        "/auth/verification/email/confirm",
        headers=headers,
        json={"code": await latest_code(db, "old@example.com")},
    )

    changed = await api.patch("/me", headers=headers, json={"email": "new@example.com"})
    assert changed.status_code == 200
    assert changed.json()["email"] == "new@example.com"
    assert changed.json()["email_verified"] is False

    code = await latest_code(db, "new@example.com")
    confirmed = await api.post(
        "/auth/verification/email/confirm", headers=headers, json={"code": code}
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["email_verified"] is True
