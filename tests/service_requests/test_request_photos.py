"""Photos of a service request through the API: a customer adds them to their own request (the
type from the bytes, the size and the number bounded), fetches them back byte for byte, and
removes them; staff and the assigned technician see them; anyone else is told the request does
not exist. The requests are rows made through the ORM under a plan bought through the API.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.uploads import ENVELOPE_BYTES
from core.db import utcnow
from core.settings import Settings
from domain.accounts.models import Address, User
from domain.catalog.models import ServiceCategory
from domain.orders.cart import address_snapshot
from domain.service_requests.models import RequestPhoto, RequestStatus, ServiceRequest
from domain.service_requests.photos import content_type_of
from domain.technicians.models import Technician
from tests.conftest import bearer, count_rows, free_port, make_settings, register
from tests.support.images import png
from tests.support.orders_helpers import Customer, customer
from tests.support.s3_server import LocalS3, local_s3
from tests.support.subscription_helpers import Bought, buy_plan

MAX_BYTES = 64 * 1024
PER_REQUEST = 3


# Real 1x1 images: a baseline JPEG and a lossless WebP.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////"
    "////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "PxA="
)
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
PNG = png()


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    brands = b"".join(compatible)
    return struct.pack(">I", 16 + len(brands)) + b"ftyp" + major + b"\0\0\0\0" + brands


HEIC = _ftyp(b"heic", b"mif1", b"heic") + b"\0\0\0\x08meta" + bytes(64)
HEIF_OF_HEVC = _ftyp(b"mif1", b"mif1", b"heic") + bytes(64)
AVIF = _ftyp(b"avif", b"mif1", b"avif") + bytes(64)
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@dataclass
class Visit:
    bought: Bought
    request_id: uuid.UUID

    @property
    def owner(self) -> Customer:
        return self.bought.buyer

    @property
    def photos(self) -> str:
        return f"/service-requests/{self.request_id}/photos"


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def settings(database_url: str, uploads: Path) -> Settings:
    return make_settings(
        database_url=database_url,
        uploads_dir=str(uploads),
        photo_max_bytes=MAX_BYTES,
        photos_per_request=PER_REQUEST,
    )


async def ask_for_visit(db: AsyncSession, bought: Bought, *, status: str = "pending") -> uuid.UUID:
    """A service request of the plan's holder, as the request workflow's activity writes it."""
    category = (
        await db.execute(select(ServiceCategory).where(ServiceCategory.slug == "plumbing"))
    ).scalar_one()
    address = await db.get(Address, bought.buyer.address_id)
    assert address is not None
    start = utcnow() + timedelta(days=2)
    request = ServiceRequest(
        user_id=bought.buyer.id,
        subscription_id=bought.subscription_id,
        category_id=category.id,
        address_id=address.id,
        address=address_snapshot(address),
        postal_code=address.postal_code,
        description="The kitchen tap drips.",
        window_start=start,
        window_end=start + timedelta(hours=2),
        status=status,
    )
    db.add(request)
    await db.commit()
    return request.id


@pytest.fixture
async def visit(api: httpx.AsyncClient, db: AsyncSession) -> Visit:
    bought = await buy_plan(api, db)
    return Visit(bought, await ask_for_visit(db, bought))


async def user_with_role(
    api: httpx.AsyncClient, db: AsyncSession, email: str, role: str
) -> tuple[uuid.UUID, dict[str, str]]:
    body = await register(api, email)
    await db.execute(update(User).where(User.email == email).values(role=role))
    await db.commit()
    return uuid.UUID(body["user"]["id"]), bearer(body["tokens"])


async def technician(
    api: httpx.AsyncClient, db: AsyncSession, email: str
) -> tuple[uuid.UUID, dict[str, str]]:
    """A technician's account and record: (technician id, their headers)."""
    user_id, headers = await user_with_role(api, db, email, "technician")
    row = Technician(
        user_id=user_id,
        name="Ravi",
        phone="+919812345678",
        zones=["560001"],
        working_hours={"mon": [["09:00", "18:00"]]},
    )
    db.add(row)
    await db.commit()
    return row.id, headers


async def upload(
    api: httpx.AsyncClient,
    visit: Visit,
    data: bytes,
    *,
    headers: dict[str, str] | None = None,
    name: str = "photo.jpg",
    claimed: str = "image/jpeg",
) -> httpx.Response:
    return await api.post(
        visit.photos,
        files={"file": (name, data, claimed)},
        headers=headers or visit.owner.headers,
    )


def field_error(response: httpx.Response, status: int = 422) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if status == 422:
        (error,) = body["errors"]
        assert error["field"] == "file", body
        return str(error["message"])
    return str(body["detail"])


# --- what a photo is ------------------------------------------------------------------------------


def test_the_type_is_read_from_the_bytes() -> None:
    assert content_type_of(JPEG) == "image/jpeg"
    assert content_type_of(PNG) == "image/png"
    assert content_type_of(WEBP) == "image/webp"
    assert content_type_of(HEIC) == "image/heic"
    assert content_type_of(HEIF_OF_HEVC) == "image/heic"
    for other in (AVIF, PDF, b"hello", b"RIFF\0\0\0\0WAVEfmt ", b"GIF89a\x01\0\x01\0", b""):
        assert content_type_of(other) is None, other
    # An ftyp box that claims to be longer than the file is not trusted.
    assert content_type_of(struct.pack(">I", 4096) + HEIC[4:40]) is None


@pytest.mark.parametrize(
    ("data", "content_type", "extension"),
    [(JPEG, "image/jpeg", "jpg"), (PNG, "image/png", "png"), (WEBP, "image/webp", "webp")],
)
async def test_a_photo_is_stored_and_fetched_back_byte_for_byte(
    api: httpx.AsyncClient,
    db: AsyncSession,
    visit: Visit,
    uploads: Path,
    data: bytes,
    content_type: str,
    extension: str,
) -> None:
    # The client's name and type for the file are nobody's business but the client's.
    added = await upload(api, visit, data, name="../../etc/passwd", claimed="text/html")
    assert added.status_code == 201, added.text
    photo = added.json()
    assert photo["content_type"] == content_type
    assert photo["size_bytes"] == len(data)
    assert photo["url"] == f"/api/v1/service-requests/{visit.request_id}/photos/{photo['id']}"
    assert added.headers["location"] == photo["url"]

    fetched = await api.get(photo["url"].removeprefix("/api/v1"), headers=visit.owner.headers)
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"] == content_type
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert fetched.headers["content-disposition"] == (
        f'inline; filename="photo-{photo["id"]}.{extension}"'
    )
    assert fetched.headers["cache-control"].startswith("private")

    row = (await db.execute(select(RequestPhoto))).scalar_one()
    assert row.storage_key == f"service-requests/{visit.request_id}/{photo['id']}.{extension}"
    assert row.uploaded_by == visit.owner.id
    assert (uploads / row.storage_key).read_bytes() == data

    listed = await api.get(visit.photos, headers=visit.owner.headers)
    assert listed.status_code == 200
    assert listed.json() == [photo]


async def test_a_heic_photo_is_taken(api: httpx.AsyncClient, visit: Visit) -> None:
    added = await upload(api, visit, HEIC, name="IMG_0001.HEIC", claimed="image/heic")
    assert added.status_code == 201, added.text
    assert added.json()["content_type"] == "image/heic"


@pytest.mark.parametrize(
    ("data", "claimed"),
    [(PDF, "image/png"), (b"just some text\n", "image/jpeg"), (AVIF, "image/avif")],
)
async def test_a_file_that_is_not_a_photo_is_refused_whatever_it_claims(
    api: httpx.AsyncClient, db: AsyncSession, visit: Visit, data: bytes, claimed: str
) -> None:
    message = field_error(await upload(api, visit, data, name="photo.png", claimed=claimed))
    assert "JPEG, PNG, WebP or HEIC" in message
    assert await count_rows(db, RequestPhoto) == 0


async def test_an_empty_file_and_a_missing_one_are_refused(
    api: httpx.AsyncClient, visit: Visit
) -> None:
    assert "empty" in field_error(await upload(api, visit, b""))
    headers = visit.owner.headers
    unknown = await api.post(visit.photos, files={"other": (None, b"x")}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {
            "field": "other",
            "in": "body",
            "message": "unknown field; the only field is `file`",
            "type": "value_error",
        }
    ]
    nothing = await api.post(
        visit.photos,
        content=b"--b--\r\n",
        headers={**headers, "content-type": "multipart/form-data; boundary=b"},
    )
    assert "is needed" in field_error(nothing)
    cut = await api.post(
        visit.photos,
        content=_form_head("b"),  # the photo begins, and the body ends
        headers={**headers, "content-type": "multipart/form-data; boundary=b"},
    )
    assert "ends before" in field_error(cut)
    # A body that is not a form at all is of the wrong type: 415, naming the one taken.
    no_form = await api.post(visit.photos, json={"file": "x"}, headers=headers)
    assert "send the body as multipart/form-data" in field_error(no_form, 415)
    assert no_form.headers["accept-post"] == "multipart/form-data"
    no_boundary = await api.post(
        visit.photos, content=b"x", headers={**headers, "content-type": "multipart/form-data"}
    )
    assert "multipart/form-data" in field_error(no_boundary)
    two = await api.post(
        visit.photos, files=[("file", ("a.png", PNG)), ("file", ("b.png", PNG))], headers=headers
    )
    assert "one file" in field_error(two)


# --- how large, how many -----------------------------------------------------------------------


async def test_a_photo_at_the_limit_is_taken_and_one_byte_more_is_refused(
    api: httpx.AsyncClient, visit: Visit
) -> None:
    at_limit = JPEG + bytes(MAX_BYTES - len(JPEG))
    assert (await upload(api, visit, at_limit)).status_code == 201
    refused = await upload(api, visit, at_limit + b"\0")
    assert str(MAX_BYTES) in field_error(refused, 413)
    assert refused.headers["connection"] == "close"


class Counted:
    """A request body that says how much of it the server asked for."""

    def __init__(self, head: bytes, size: int, chunk: int = 8192) -> None:
        self.head, self.size, self.chunk, self.sent = head, size, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.size:
            piece = self.head if self.sent == 0 else bytes(self.chunk)
            self.sent += len(piece)
            yield piece


def _form_head(boundary: str) -> bytes:
    return (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + JPEG


async def test_a_large_photo_is_refused_without_the_whole_body_being_read(
    api: httpx.AsyncClient, db: AsyncSession, visit: Visit
) -> None:
    boundary = "photo-boundary"
    headers = {**visit.owner.headers, "content-type": f"multipart/form-data; boundary={boundary}"}
    big = 50 * 1024 * 1024

    # Sent without a length (chunked): refused once the limit is passed.
    body = Counted(_form_head(boundary), big)
    refused = await api.post(visit.photos, content=body, headers=headers)
    assert str(MAX_BYTES) in field_error(refused, 413)
    assert body.sent <= MAX_BYTES + ENVELOPE_BYTES + body.chunk

    # With its length declared: refused before a byte of the body is read.
    body = Counted(_form_head(boundary), big)
    refused = await api.post(
        visit.photos, content=body, headers={**headers, "content-length": str(big)}
    )
    assert str(MAX_BYTES) in field_error(refused, 413)
    assert body.sent == 0
    assert await count_rows(db, RequestPhoto) == 0


async def test_a_declared_large_body_is_answered_and_the_connection_closed_by_the_server(
    app: Any, visit: Visit
) -> None:
    """Over a real HTTP server (uvicorn): the refusal comes before the body is sent, and the
    server closes the connection instead of receiving the rest."""
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
            f"POST /api/v1{visit.photos} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            f"Authorization: {visit.owner.headers['Authorization']}",
            "Content-Type: multipart/form-data; boundary=b",
            f"Content-Length: {50 * 1024 * 1024}",
            "Expect: 100-continue",
        ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=30)  # to the server's close
        writer.close()
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line.startswith(b"HTTP/1.1 413 "), answer
        assert b"100 Continue" not in answer  # the client was never asked for the body
        assert str(MAX_BYTES).encode() in rest
    finally:
        server.should_exit = True
        await serving


async def test_a_request_takes_at_most_its_number_of_photos(
    api: httpx.AsyncClient, db: AsyncSession, visit: Visit
) -> None:
    for _ in range(PER_REQUEST - 1):
        assert (await upload(api, visit, PNG)).status_code == 201
    # The last place, asked for twice at once: one gets it.
    answers = await asyncio.gather(upload(api, visit, JPEG), upload(api, visit, WEBP))
    assert sorted(a.status_code for a in answers) == [201, 409]
    refused = await upload(api, visit, PNG)
    detail = field_error(refused, 409)
    assert f"at most {PER_REQUEST} photos" in detail
    assert await count_rows(db, RequestPhoto) == PER_REQUEST
    assert len((await api.get(visit.photos, headers=visit.owner.headers)).json()) == PER_REQUEST


# --- who ----------------------------------------------------------------------------------------


async def test_another_customer_is_told_the_request_does_not_exist(
    api: httpx.AsyncClient, db: AsyncSession, visit: Visit
) -> None:
    photo = (await upload(api, visit, JPEG)).json()
    stranger = (await customer(api, "stranger@example.com")).headers
    missing = f"/service-requests/{uuid.uuid4()}/photos"
    for url in (visit.photos, missing):
        added = await api.post(url, files={"file": ("a.jpg", JPEG)}, headers=stranger)
        listed = await api.get(url, headers=stranger)
        fetched = await api.get(f"{url}/{photo['id']}", headers=stranger)
        removed = await api.delete(f"{url}/{photo['id']}", headers=stranger)
        for answer in (added, listed, fetched, removed):
            assert answer.status_code == 404, (url, answer.text)
            assert answer.json()["detail"] == "service request not found"
    assert await count_rows(db, RequestPhoto) == 1
    # A photo of another request of the same customer is not found under this one.
    other = await ask_for_visit(db, visit.bought)
    wrong = await api.get(
        f"/service-requests/{other}/photos/{photo['id']}", headers=visit.owner.headers
    )
    assert wrong.status_code == 404


async def test_staff_and_the_assigned_technician_see_the_photos_and_change_nothing(
    api: httpx.AsyncClient, db: AsyncSession, visit: Visit
) -> None:
    photo = (await upload(api, visit, PNG)).json()
    url = f"{visit.photos}/{photo['id']}"
    _, support = await user_with_role(api, db, "support@example.com", "support")
    assigned, tech = await technician(api, db, "ravi@example.com")
    _, other_tech = await technician(api, db, "meera@example.com")

    assert (await api.get(url, headers=tech)).status_code == 404  # not theirs yet
    await db.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == visit.request_id)
        .values(technician_id=assigned, status=RequestStatus.assigned.value)
    )
    await db.commit()

    for who in (visit.bought.admin, support, tech):
        fetched = await api.get(url, headers=who)
        assert fetched.status_code == 200
        assert fetched.content == PNG
        assert (await api.get(visit.photos, headers=who)).json() == [photo]
        assert (await upload(api, visit, JPEG, headers=who)).status_code == 403
        assert (await api.delete(url, headers=who)).status_code == 403
    for answer in (
        await api.get(url, headers=other_tech),
        await api.get(visit.photos, headers=other_tech),
    ):
        assert answer.status_code == 404
    assert await count_rows(db, RequestPhoto) == 1

    # Taken off the roster, the technician no longer sees the job's photos; back on, they do.
    for active, status in ((False, 404), (True, 200)):
        await db.execute(
            update(Technician).where(Technician.id == assigned).values(is_active=active)
        )
        await db.commit()
        assert (await api.get(url, headers=tech)).status_code == status
        assert (await api.get(visit.photos, headers=tech)).status_code == status


async def test_photos_are_added_until_the_visit_ends_and_removed_until_it_starts(
    api: httpx.AsyncClient, db: AsyncSession, visit: Visit, uploads: Path
) -> None:
    first = (await upload(api, visit, JPEG)).json()
    second = (await upload(api, visit, PNG)).json()
    row = await db.get(RequestPhoto, uuid.UUID(first["id"]))
    assert row is not None
    key = row.storage_key
    await db.commit()

    removed = await api.delete(f"{visit.photos}/{first['id']}", headers=visit.owner.headers)
    assert removed.status_code == 204
    assert not (uploads / key).exists()
    gone = await api.get(f"{visit.photos}/{first['id']}", headers=visit.owner.headers)
    assert gone.status_code == 404

    async def set_status(status: str) -> None:
        await db.execute(
            update(ServiceRequest)
            .where(ServiceRequest.id == visit.request_id)
            .values(status=status)
        )
        await db.commit()

    await set_status(RequestStatus.in_progress.value)
    assert (await upload(api, visit, WEBP)).status_code == 201  # during the visit: still
    late = await api.delete(f"{visit.photos}/{second['id']}", headers=visit.owner.headers)
    assert "until the visit starts" in field_error(late, 409)
    for status in (RequestStatus.completed.value, RequestStatus.cancelled.value):
        await set_status(status)
        assert "completed" in field_error(await upload(api, visit, JPEG), 409)
    # What is there can still be seen.
    assert len((await api.get(visit.photos, headers=visit.owner.headers)).json()) == 2


# --- in an S3-compatible bucket ----------------------------------------------------------------


@pytest.fixture
def s3() -> Iterator[LocalS3]:
    with local_s3() as server:
        yield server


async def test_photos_go_to_the_bucket_when_one_is_set(
    api: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    s3: LocalS3,
    uploads: Path,
) -> None:
    bought = await buy_plan(api, db)
    visit = Visit(bought, await ask_for_visit(db, bought))
    application = create_app(s3.settings(settings), temporal=temporal_env.client)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as s3_api:
            photo = (await upload(s3_api, visit, WEBP)).json()
            key = f"service-requests/{visit.request_id}/{photo['id']}.webp"
            stored = s3.client().get_object(Bucket=s3.bucket, Key=key)
            assert stored["Body"].read() == WEBP
            assert stored["ContentType"] == "image/webp"
            fetched = await s3_api.get(f"{visit.photos}/{photo['id']}", headers=visit.owner.headers)
            assert fetched.content == WEBP
            removed = await s3_api.delete(
                f"{visit.photos}/{photo['id']}", headers=visit.owner.headers
            )
            assert removed.status_code == 204
            assert s3.client().list_objects_v2(Bucket=s3.bucket).get("KeyCount") == 0
    assert not await asyncio.to_thread(uploads.exists)  # nothing went to the folder


async def test_a_store_that_cannot_be_reached_is_a_503_and_records_nothing(
    api: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    visit: Visit,
) -> None:
    down = settings.model_copy(
        update={
            "s3_bucket": "photos",
            "s3_endpoint_url": f"http://127.0.0.1:{free_port()}",  # nothing listens there
            "s3_region": "us-east-1",
            "s3_access_key_id": "k",
            "s3_secret_access_key": SecretStr("s"),
        }
    )
    application = create_app(down, temporal=temporal_env.client)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test/api/v1"
        ) as down_api:
            answer = await upload(down_api, visit, JPEG)
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"]
    assert await count_rows(db, RequestPhoto) == 0
