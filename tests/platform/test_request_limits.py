"""How large a body and how long a request may be (api.limits), as a client meets them: a body past
MAX_BODY_BYTES is a 413 naming the limit, refused before it is read when its length is declared
and as soon as it passes the limit when it is not; a photo keeps its own, larger limit; a request
past REQUEST_TIMEOUT_SECONDS is a 503 and what it was doing is undone; a live stream outlasts the
deadline; an upload has UPLOAD_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.settings import Settings
from domain.accounts.models import User
from tests.conftest import PASSWORD, bearer, count_rows, free_port, make_settings, register
from tests.support.catalog_helpers import make_admin
from tests.support.request_helpers import asked, shop
from tests.support.sse import WAIT_S, ApiProcess, Stream, api_environment
from tests.support.waiting import eventually

MAX_BODY = 16 * 1024
PHOTO_MAX = 256 * 1024
# A real 1x1 baseline JPEG.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////"
    "////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "PxA="
)

Opener = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url=database_url,
        max_body_bytes=MAX_BODY,
        photo_max_bytes=PHOTO_MAX,
        uploads_dir=str(tmp_path / "uploads"),
    )


@pytest.fixture
def api_with(settings: Settings, temporal_env: WorkflowEnvironment, worker: Worker) -> Opener:
    """An HTTP client of an app built with the test's settings changed by `overrides` (the
    test's worker serves its workflows)."""

    @asynccontextmanager
    async def open_api(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=overrides), temporal=temporal_env.client)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test/api/v1"
            ) as client:
                yield client

    return open_api


class Counted:
    """A request body that says how much of it the server asked for."""

    def __init__(self, head: bytes, size: int, chunk: int = 4096) -> None:
        self.head, self.size, self.chunk, self.sent = head, size, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.size:
            piece = self.head if self.sent == 0 else b" " * self.chunk
            self.sent += len(piece)
            yield piece


def sign_up(email: str, padding: int = 0) -> bytes:
    """A sign-up as JSON, padded with whitespace (still valid JSON) to be `padding` bytes longer."""
    body = {"email": email, "password": PASSWORD, "name": "Big Body"}
    return json.dumps(body).encode() + b" " * padding


def assert_too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    problem = response.json()
    assert problem["max_bytes"] == MAX_BODY
    assert "16 KiB" in problem["detail"] and str(MAX_BODY) in problem["detail"], problem


# --- the body -----------------------------------------------------------------------------------


async def test_a_body_within_the_limit_is_taken(api: httpx.AsyncClient, db: AsyncSession) -> None:
    body = sign_up("within@example.com")
    body += b" " * (MAX_BODY - len(body))  # exactly at the limit
    response = await api.post(
        "/auth/register", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text


async def test_a_declared_body_past_the_limit_is_refused_before_a_byte_is_read(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    body = Counted(sign_up("declared@example.com"), 10 * MAX_BODY)
    response = await api.post(
        "/auth/register",
        content=body,
        headers={"content-type": "application/json", "content-length": str(10 * MAX_BODY)},
    )
    assert_too_large(response)
    assert body.sent == 0
    assert await count_rows(db, User) == 0


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    body = Counted(sign_up("chunked@example.com"), 100 * MAX_BODY)
    response = await api.post(
        "/auth/register", content=body, headers={"content-type": "application/json"}
    )
    assert_too_large(response)
    assert body.sent <= MAX_BODY + body.chunk  # the rest was never asked for
    assert await count_rows(db, User) == 0


async def test_a_photo_keeps_its_own_larger_limit(api: httpx.AsyncClient, db: AsyncSession) -> None:
    asker = await shop(api, db)
    photos = f"/service-requests/{(await asked(api, asker))['id']}/photos"
    headers = asker.bought.buyer.headers

    large = JPEG + bytes(PHOTO_MAX - len(JPEG))  # 16 times MAX_BODY_BYTES: a photo's own limit
    taken = await api.post(photos, files={"file": ("p.jpg", large, "image/jpeg")}, headers=headers)
    assert taken.status_code == 201, taken.text
    fetched = await api.get(taken.json()["url"].removeprefix("/api/v1"), headers=headers)
    assert fetched.content == large

    refused = await api.post(
        photos, files={"file": ("p.jpg", large + b"\0", "image/jpeg")}, headers=headers
    )
    assert refused.status_code == 413, refused.text
    assert str(PHOTO_MAX) in refused.json()["detail"]  # the photo's limit, in the photo's words


async def test_over_a_real_server_a_declared_large_body_is_never_asked_for(
    app: Any, db: AsyncSession
) -> None:
    """uvicorn: the 413 comes before the client is told to send the body (`Expect:
    100-continue`), and the server closes the connection instead of reading the rest."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(3000):  # a bound for slow machines, never an expectation
            if server.started:
                break
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = [
            "POST /api/v1/auth/register HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Content-Type: application/json",
            f"Content-Length: {50 * 1024 * 1024}",
            "Expect: 100-continue",
        ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=WAIT_S)  # to the server's close
        writer.close()
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 413 "), answer
        assert b"100 Continue" not in answer
        assert str(MAX_BODY).encode() in rest
    finally:
        server.should_exit = True
        await serving


# --- time ---------------------------------------------------------------------------------------


async def test_a_request_past_the_deadline_is_503_and_its_work_is_undone(
    api: httpx.AsyncClient, db: AsyncSession, api_with: Opener
) -> None:
    headers = bearer((await register(api, "slow@example.com"))["tokens"])
    # The user's row is locked by another transaction: renaming them waits for it, past the
    # deadline.
    await db.execute(select(User).where(User.email == "slow@example.com").with_for_update())
    try:
        async with api_with(request_timeout_seconds=1) as slow:
            response = await slow.patch("/me", json={"name": "Renamed"}, headers=headers)
    finally:
        await db.rollback()  # the lock goes
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "took longer than the 1 s" in response.json()["detail"]

    # The rename was stopped where it waited: no statement of it is left in the server, and once
    # the lock is gone nothing of it is written.
    async def waiting_updates() -> int:
        found = await db.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND query ILIKE 'UPDATE users%' AND state = 'active'"
            )
        )
        await db.commit()
        return int(found.scalar_one())

    await eventually(waiting_updates, lambda n: n == 0, "the cancelled UPDATE ended")
    me = await api.get("/me", headers=headers)
    assert me.status_code == 200 and me.json()["name"] == "Test User", me.text


async def test_an_upload_has_its_own_longer_deadline(
    api: httpx.AsyncClient, db: AsyncSession, api_with: Opener
) -> None:
    asker = await shop(api, db)
    photos = f"/service-requests/{(await asked(api, asker))['id']}/photos"
    boundary = "slow-photo"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n".encode(),
        JPEG,
        f"\r\n--{boundary}--\r\n".encode(),
    ]

    async def slowly() -> AsyncIterator[bytes]:
        for part in parts:
            yield part
            await asyncio.sleep(1)  # the upload takes longer than REQUEST_TIMEOUT_SECONDS

    async with api_with(request_timeout_seconds=1, upload_timeout_seconds=WAIT_S * 2) as slow:
        response = await slow.post(
            photos,
            content=slowly(),
            headers={
                **asker.bought.buyer.headers,
                "content-type": f"multipart/form-data; boundary={boundary}",
            },
        )
    assert response.status_code == 201, response.text


async def test_a_live_stream_outlasts_the_deadline(
    api: httpx.AsyncClient,
    db: AsyncSession,
    database_url: str,
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> None:
    """A real API process with a 1 s deadline: the dashboard's stream keeps going past it (its
    keep-alive comes every 15 s), while the stream's own setup was held to it."""
    admin = await make_admin(api, db)
    env = {**api_environment(database_url, temporal_env), "REQUEST_TIMEOUT_SECONDS": "1"}
    server = ApiProcess(env, free_port(), tmp_path / "api.log")
    server.start()
    try:
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=WAIT_S) as client,
            client.stream("GET", "/api/v1/admin/dashboard/events", headers=admin) as response,
        ):
            assert response.status_code == 200, await response.aread()
            stream = Stream(response)
            retry = await stream.next()
            assert retry is not None and retry.retry == "3000"
            first = await stream.next_event()
            assert first is not None and first.name == "dashboard"
            later = await stream.next()  # the keep-alive, 15 s on: many deadlines later
            assert later is not None and later.comment == "keep-alive", later
    finally:
        server.stop()
