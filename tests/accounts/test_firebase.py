"""Firebase sign-in (`POST /auth/firebase`) through the API, over firebase-admin's real checks.

Tokens are RS256 JWTs signed with a local key whose certificate `responses` serves where the SDK
fetches Google's (see tests/support/firebase_tokens.py): signature, expiry, audience and issuer
are checked by the SDK exactly as in production, and nothing reaches Google. The emulator switch,
which turns those checks off, is removed for every test here.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import responses
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.settings import Settings
from domain.accounts.models import User
from providers.identity.firebase import EMULATOR_HOST_ENV
from tests.conftest import PASSWORD, bearer, latest_code, make_settings, register
from tests.support.firebase_tokens import (
    OTHER_SIGNER,
    PROJECT_ID,
    SIGNER,
    cert_uri,
    claims,
    google_certificates,
    id_token,
    sign,
    unsigned,
)

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(autouse=True)
def _real_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the emulator variable set, firebase-admin checks no signature: never here."""
    monkeypatch.delenv(EMULATOR_HOST_ENV, raising=False)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Firebase on for this module: conftest's `worker`, `app` and `api` are built with these."""
    return make_settings(database_url=database_url, firebase_project_id=PROJECT_ID)


@pytest.fixture
def certs() -> Iterator[responses.RequestsMock]:
    """Google's certificate endpoint, played locally; any other `requests` call fails."""
    with google_certificates() as mock:
        yield mock


@pytest.fixture
async def plain_api(
    database_url: str, temporal_env: WorkflowEnvironment, db: AsyncSession
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with default settings: no Firebase project configured."""
    async with _client(make_settings(database_url=database_url), temporal_env) as client:
        yield client


@asynccontextmanager
async def _client(
    settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    """An API client of an app built from `settings`, its lifespan included (as conftest's)."""
    application = create_app(settings, temporal=temporal_env.client)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
            yield client


async def exchange(api: httpx.AsyncClient, token: str) -> httpx.Response:
    return await api.post("/auth/firebase", json={"id_token": token})


async def signed_in_as(api: httpx.AsyncClient, tokens: dict[str, Any]) -> dict[str, Any]:
    """The profile the app shows with these tokens."""
    me = await api.get("/me", headers=bearer(tokens))
    assert me.status_code == 200, me.text
    return me.json()


async def user_count(db: AsyncSession) -> int:
    count = (await db.execute(select(func.count()).select_from(User))).scalar_one()
    await db.commit()  # end the read transaction: the next count sees new rows
    return int(count)


def assert_problem(response: httpx.Response, status: int, *reason: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    detail = str(response.json()["detail"])
    for part in reason:
        assert part.lower() in detail.lower(), detail
    return detail


# --- sign-up and sign-in --------------------------------------------------------------------------


async def test_new_google_user_gets_an_account_and_signs_into_it_again(
    api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    first = await exchange(
        api,
        id_token("google-uid-meera", email="Meera@Example.com", email_verified=True, name="Meera"),
    )
    assert first.status_code == 200, first.text
    tokens = first.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["refresh_token"]

    me = await signed_in_as(api, tokens)
    assert me["email"] == "meera@example.com"
    assert me["email_verified"] is True
    assert me["name"] == "Meera"
    assert me["phone"] is None

    # Next day, a new ID token for the same Firebase user: the same account.
    again = await exchange(
        api,
        id_token(
            "google-uid-meera",
            email="meera@example.com",
            email_verified=True,
            issued_at=int(time.time()) - 60,
        ),
    )
    assert again.status_code == 200, again.text
    assert (await signed_in_as(api, again.json()))["id"] == me["id"]
    assert await user_count(db) == 1
    # The keys came from the local stand-in for Google's endpoint, nowhere else.
    assert certs.calls
    assert {call.request.url for call in certs.calls} == {cert_uri()}


async def test_verified_email_links_to_the_account_registered_with_it(
    api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    registered = await register(api, "ravi@example.com")
    assert registered["user"]["email_verified"] is False

    response = await exchange(
        api, id_token("google-uid-ravi", email="Ravi@example.com", email_verified=True)
    )
    assert response.status_code == 200, response.text
    me = await signed_in_as(api, response.json())
    assert me["id"] == registered["user"]["id"]
    assert me["email"] == "ravi@example.com"
    assert me["email_verified"] is True
    assert await user_count(db) == 1


async def test_unverified_email_of_an_existing_account_is_refused(
    api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    registered = await register(api, "sana@example.com")
    token = id_token(
        "password-uid-sana",
        email="sana@example.com",
        email_verified=False,
        sign_in_provider="password",
    )

    refused = await exchange(api, token)
    assert_problem(refused, 409, "account with this email exists", "verify the email")
    assert await user_count(db) == 1
    # Nothing was linked: the same token is refused again, and the account is untouched.
    assert_problem(await exchange(api, token), 409, "account with this email exists")
    assert await user_count(db) == 1
    me = await signed_in_as(api, registered["tokens"])
    assert me["email_verified"] is False


async def test_phone_sign_in_links_to_the_account_registered_with_that_phone(
    api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    registered = await register(api, phone="+919812345678")
    assert registered["user"]["phone_verified"] is False

    response = await exchange(
        api, id_token("phone-uid-1", phone_number="+919812345678", sign_in_provider="phone")
    )
    assert response.status_code == 200, response.text
    me = await signed_in_as(api, response.json())
    assert me["id"] == registered["user"]["id"]
    assert me["phone"] == "+919812345678"
    assert me["phone_verified"] is True
    assert await user_count(db) == 1


# --- tokens that must not sign anyone in --------------------------------------------------------


def _expired() -> str:
    return id_token("uid-attack", email="eve@example.com", issued_at=int(time.time()) - 7200)


def _other_key() -> str:
    # Names the published kid, but the signature is by a key Google never published.
    payload = claims("uid-attack", email="eve@example.com", email_verified=True)
    return sign(payload, signer=OTHER_SIGNER, kid=SIGNER.kid)


def _unpublished_kid() -> str:
    payload = claims("uid-attack", email="eve@example.com", email_verified=True)
    return sign(payload, signer=OTHER_SIGNER)


def _other_project() -> str:
    return id_token(
        "uid-attack", project="another-project", email="eve@example.com", email_verified=True
    )


def _wrong_issuer() -> str:
    payload = claims(
        "uid-attack",
        email="eve@example.com",
        email_verified=True,
        iss="https://securetoken.google.com/another-project",
    )
    return sign(payload)


def _alg_none() -> str:
    return unsigned(claims("uid-attack", email="eve@example.com", email_verified=True))


def _garbage() -> str:
    return "this-is-not-a-jwt-at-all-0123456789"


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        pytest.param(_expired, "expired", id="expired"),
        pytest.param(_other_key, "signature", id="signed-by-another-key"),
        pytest.param(_unpublished_kid, "not found", id="unpublished-kid"),
        pytest.param(_other_project, "audience", id="wrong-audience"),
        pytest.param(_wrong_issuer, "issuer", id="wrong-issuer"),
        pytest.param(_alg_none, "algorithm", id="alg-none"),
        pytest.param(_garbage, "segments", id="garbage"),
    ],
)
async def test_invalid_token_is_401_and_signs_no_one_in(
    api: httpx.AsyncClient,
    db: AsyncSession,
    certs: responses.RequestsMock,
    make_token: Any,
    reason: str,
) -> None:
    token = make_token()
    response = await exchange(api, token)
    detail = assert_problem(response, 401, "Firebase ID token is not valid", reason)
    assert response.headers["www-authenticate"] == "Bearer"
    assert "access_token" not in response.json()
    assert token not in detail  # the token is not echoed back
    assert await user_count(db) == 0


async def test_signing_key_outage_is_503_not_a_failed_sign_in(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    token = id_token("google-uid-kai", email="kai@example.com", email_verified=True)
    with google_certificates(status=500):
        response = await exchange(api, token)
    assert_problem(response, 503, "try again")
    assert await user_count(db) == 0
    # Once Google answers again, the same token works.
    with google_certificates():
        response = await exchange(api, token)
    assert response.status_code == 200, response.text


# --- configuration ----------------------------------------------------------------------------


async def test_without_a_firebase_project_the_exchange_is_not_found(
    plain_api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    response = await exchange(
        plain_api, id_token("google-uid-1", email="a@example.com", email_verified=True)
    )
    # Off for good on this server: 404, not a 503 that a client would retry.
    assert_problem(response, 404, "Firebase sign-in is not enabled")
    assert await user_count(db) == 0


async def test_each_project_accepts_only_its_own_tokens_in_one_process(
    api: httpx.AsyncClient,
    db: AsyncSession,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    certs: responses.RequestsMock,
) -> None:
    other_settings = make_settings(database_url=database_url, firebase_project_id="homeplans-other")
    mine = id_token("uid-mine", email="mine@example.com", email_verified=True)
    theirs = id_token(
        "uid-theirs", project="homeplans-other", email="theirs@example.com", email_verified=True
    )
    async with _client(other_settings, temporal_env) as other_api:
        assert_problem(await exchange(other_api, mine), 401, "audience")
        assert_problem(await exchange(api, theirs), 401, "audience")
        signed_in = await exchange(other_api, theirs)
        assert signed_in.status_code == 200, signed_in.text
        assert (await signed_in_as(other_api, signed_in.json()))["email"] == "theirs@example.com"
    signed_in = await exchange(api, mine)
    assert signed_in.status_code == 200, signed_in.text
    assert (await signed_in_as(api, signed_in.json()))["email"] == "mine@example.com"


async def test_production_refuses_to_start_with_the_auth_emulator_set(
    database_url: str, temporal_env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EMULATOR_HOST_ENV, "127.0.0.1:9099")
    production = make_settings(
        environment="production",
        database_url=database_url,
        firebase_project_id=PROJECT_ID,
        payments_provider="stripe",
        stripe_secret_key="sk_live_unused",
        stripe_webhook_secret="whsec_unused",
        support_phone="+918012345678",
    )
    with pytest.raises(ValueError, match=EMULATOR_HOST_ENV):
        async with _client(production, temporal_env):
            pass


# --- account pre-hijacking ----------------------------------------------------------------------


async def test_owner_signing_in_with_google_locks_out_whoever_preregistered_the_email(
    api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    # Eve registers the victim's address with her own password; she never sees the code.
    eve = await register(api, "victim@example.com", password="eves own password 123")
    # The owner signs in with Google, which has verified the address.
    owner = await exchange(
        api, id_token("google-uid-victim", email="victim@example.com", email_verified=True)
    )
    assert owner.status_code == 200, owner.text
    me = await signed_in_as(api, owner.json())
    assert me["id"] == eve["user"]["id"]  # linked (the behaviour test 2 expects) ...
    # ... but Eve's session and password no longer open the owner's account.
    assert (await api.get("/me", headers=bearer(eve["tokens"]))).status_code == 401
    login = await api.post(
        "/auth/login",
        json={"identifier": "victim@example.com", "password": "eves own password 123"},
    )
    assert login.status_code == 401, login.text


async def test_unverified_firebase_account_cannot_share_the_owners_account(
    api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    # Eve makes a Firebase email/password account with the victim's address, never verified.
    eve_token = id_token(
        "password-uid-eve",
        email="victim@example.com",
        email_verified=False,
        sign_in_provider="password",
    )
    eve_first = await exchange(api, eve_token)
    owner = await exchange(
        api, id_token("google-uid-victim", email="victim@example.com", email_verified=True)
    )
    assert owner.status_code == 200, owner.text
    owner_id = (await signed_in_as(api, owner.json()))["id"]
    if eve_first.status_code == 200:
        assert (await api.get("/me", headers=bearer(eve_first.json()))).status_code == 401
    eve_again = await exchange(api, eve_token)
    if eve_again.status_code == 200:
        assert (await signed_in_as(api, eve_again.json()))["id"] != owner_id


async def test_unproven_email_on_an_account_verified_by_phone_is_not_a_way_in(
    api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    # Priya's account is proven by her phone; she typed someone else's address, never verified.
    priya = await register(api, phone="+919876543210")
    code = await latest_code(db, "+919876543210")
    confirmed = await api.post(
        "/auth/verification/phone/confirm", json={"code": code}, headers=bearer(priya["tokens"])
    )
    assert confirmed.status_code == 200, confirmed.text
    patched = await api.patch(
        "/me", json={"email": "owner@example.com"}, headers=bearer(priya["tokens"])
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["email_verified"] is False

    # The address's owner signs in with Google: Priya's account is not theirs to enter.
    owner = await exchange(
        api, id_token("google-uid-owner", email="owner@example.com", email_verified=True)
    )
    if owner.status_code == 200:
        assert (await signed_in_as(api, owner.json()))["id"] != priya["user"]["id"]
    me = await signed_in_as(api, priya["tokens"])
    assert me["phone_verified"] is True


async def test_password_still_signs_in_after_linking_when_the_owner_registered_it(
    api: httpx.AsyncClient, db: AsyncSession, certs: responses.RequestsMock
) -> None:
    """Linking an account whose email was already verified changes nothing for its password."""
    registered = await register(api, "uma@example.com")
    code = await latest_code(db, "uma@example.com")
    confirmed = await api.post(
        "/auth/verification/email/confirm",
        json={"code": code},
        headers=bearer(registered["tokens"]),
    )
    assert confirmed.status_code == 200, confirmed.text

    linked = await exchange(
        api, id_token("google-uid-uma", email="uma@example.com", email_verified=True)
    )
    assert linked.status_code == 200, linked.text
    assert (await signed_in_as(api, linked.json()))["id"] == registered["user"]["id"]
    login = await api.post(
        "/auth/login", json={"identifier": "uma@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert (await api.get("/me", headers=bearer(registered["tokens"]))).status_code == 200


@pytest.mark.parametrize(
    "token_claims",
    [
        {"sign_in_provider": "anonymous"},
        {"email": "unproven@example.com", "email_verified": False, "sign_in_provider": "password"},
    ],
    ids=["anonymous", "unverified-email"],
)
async def test_a_sign_in_without_a_verified_contact_creates_no_account(
    api: httpx.AsyncClient,
    db: AsyncSession,
    certs: responses.RequestsMock,
    token_claims: dict[str, Any],
) -> None:
    response = await exchange(api, id_token("uid-without-contact", **token_claims))
    assert response.status_code == 403
    assert "verifies your email or phone" in response.json()["detail"]
    assert await user_count(db) == 0
