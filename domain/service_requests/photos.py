"""Photos of a service request: who may see and change them, what a photo may be, and keeping
the row and the stored bytes in step.

- What a photo is comes from its bytes (their magic numbers), never from the client's content
  type or file name: JPEG, PNG, WebP and HEIC (an ISO-BMFF `ftyp` box with a HEVC-image brand;
  AVIF and other HEIF codecs are refused). Nothing is decoded or stripped.
- The storage key is ours (`service-requests/<request>/<photo>.<ext>`); so is everything a
  client reads back (the type we decided, the size we counted, our ids).
- Who sees a request's photos: its customer, staff (support, admin) and the technician assigned
  to it. Anyone else is told the request does not exist, exactly as for a missing one. Only the
  customer adds photos (until the visit is completed or cancelled) and removes them (until the
  visit starts); anyone else who can see them is refused with 403.
"""

from __future__ import annotations

import enum
import logging
import struct
import uuid
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import Conflict, Forbidden, InvalidField, NotFound, TooLarge, Unavailable
from core.settings import Settings
from domain.accounts.models import Role, User
from domain.service_requests.models import RequestPhoto, RequestStatus, ServiceRequest
from domain.storage import ObjectMissing, PhotoStore
from domain.technicians.models import Technician

log = logging.getLogger(__name__)
STORE_RETRY_AFTER_S = 5

FIELD = "file"
ALLOWED = "JPEG, PNG, WebP or HEIC"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
STAFF = {Role.admin.value, Role.support.value}
# Photos are added until the visit is over, removed until it starts.
ADDABLE = {
    RequestStatus.pending.value,
    RequestStatus.assigned.value,
    RequestStatus.in_progress.value,
}
REMOVABLE = {RequestStatus.pending.value, RequestStatus.assigned.value}

# HEIF brands whose images are HEVC-coded (HEIC); `mif1`/`msf1` are HEIF's generic brands, which
# say what the image is only through the compatible brands that follow.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_GENERIC = {b"mif1", b"msf1"}


class Viewer(enum.StrEnum):
    customer = "customer"
    staff = "staff"
    technician = "technician"


class PhotoOut(BaseModel):
    id: uuid.UUID
    content_type: str = Field(description="What the bytes are, as we read them")
    size_bytes: int
    created_at: datetime
    url: str = Field(description="Where to fetch the photo (with the same bearer token)")


def content_type_of(data: bytes) -> str | None:
    """The type of an image from its first bytes, or None when it is none of ours."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if _is_heic(data):
        return "image/heic"
    return None


def _is_heic(data: bytes) -> bool:
    # ISO-BMFF: the file opens with its `ftyp` box: size, "ftyp", major brand, minor version,
    # then the compatible brands, four bytes each, to the end of the box.
    if len(data) < 16 or data[4:8] != b"ftyp":
        return False
    (size,) = struct.unpack(">I", data[:4])
    if size < 16 or size > len(data) or size % 4:
        return False
    major = data[8:12]
    if major in _HEIC_BRANDS:
        return True
    compatible = {data[i : i + 4] for i in range(16, size, 4)}
    return major in _HEIF_GENERIC and bool(compatible & _HEIC_BRANDS)


def check_photo(data: bytes, *, max_bytes: int) -> str:
    """The content type of `data` as a photo; 422 (on the `file` field) or 413 otherwise."""
    if not data:
        raise InvalidField((FIELD,), f"the file is empty; send a photo: {ALLOWED}")
    if len(data) > max_bytes:
        raise TooLarge(f"a photo may be at most {max_bytes} bytes")
    content_type = content_type_of(data)
    if content_type is None:
        raise InvalidField((FIELD,), f"the file is not a photo of a type we take; send {ALLOWED}")
    return content_type


def storage_key(photo: RequestPhoto) -> str:
    return f"service-requests/{photo.request_id}/{photo.id}.{EXTENSIONS[photo.content_type]}"


def download_name(photo: RequestPhoto) -> str:
    return f"photo-{photo.id}.{EXTENSIONS.get(photo.content_type, 'bin')}"


async def visible_request(
    db: AsyncSession, *, request_id: uuid.UUID, user: User, for_update: bool = False
) -> tuple[ServiceRequest, Viewer]:
    """The request, if `user` may see it, and as whom; NotFound otherwise, as if it were
    missing. `for_update` locks it (its photos change one at a time)."""
    stmt = (
        select(ServiceRequest, Technician.user_id)
        # An inactive technician (off the roster) no longer sees their jobs, as on the job routes.
        .outerjoin(
            Technician,
            (Technician.id == ServiceRequest.technician_id) & Technician.is_active,
        )
        .where(ServiceRequest.id == request_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        stmt = stmt.with_for_update(of=ServiceRequest)
    found = (await db.execute(stmt)).one_or_none()
    if found is not None:
        request, technician_user_id = found
        if request.user_id == user.id:
            return request, Viewer.customer
        if user.role in STAFF:
            return request, Viewer.staff
        if technician_user_id is not None and technician_user_id == user.id:
            return request, Viewer.technician
    raise NotFound("service request not found")


async def photo_count(db: AsyncSession, *, request_id: uuid.UUID) -> int:
    stmt = (
        select(func.count()).select_from(RequestPhoto).where(RequestPhoto.request_id == request_id)
    )
    return int((await db.execute(stmt)).scalar_one())


async def check_can_add(
    db: AsyncSession, *, request: ServiceRequest, viewer: Viewer, settings: Settings
) -> None:
    """403 unless the customer; 409 once the visit is over or the request has all its photos."""
    if viewer is not Viewer.customer:
        raise Forbidden("only the customer who asked for the visit can add photos to it")
    if request.status not in ADDABLE:
        raise Conflict(
            f"the request is {request.status}: photos can be added until the visit is completed"
        )
    limit = settings.photos_per_request
    if limit == 0:
        raise Conflict("photos of requests are not taken here (PHOTOS_PER_REQUEST is 0)")
    if await photo_count(db, request_id=request.id) >= limit:
        raise Conflict(
            f"a request can have at most {limit} photos and this one has them all; "
            "remove one to add another"
        )


async def add_photo(
    db: AsyncSession,
    store: PhotoStore,
    *,
    request_id: uuid.UUID,
    user: User,
    data: bytes,
    settings: Settings,
) -> RequestPhoto:
    """Check `data` as a photo, store it and record it, committed. The request is locked while
    its photos are counted and the new one stored, so two uploads at once cannot pass the limit
    together; the bytes are stored before the row is committed, so no row points at nothing."""
    content_type = check_photo(data, max_bytes=settings.photo_max_bytes)
    request, viewer = await visible_request(db, request_id=request_id, user=user, for_update=True)
    await check_can_add(db, request=request, viewer=viewer, settings=settings)
    photo = RequestPhoto(
        id=uuid.uuid4(),
        request_id=request.id,
        content_type=content_type,
        size_bytes=len(data),
        uploaded_by=user.id,
        created_at=utcnow(),
    )
    photo.storage_key = storage_key(photo)
    db.add(photo)
    await db.flush()
    try:
        await store.put(photo.storage_key, data, content_type)
    except Exception as exc:
        raise _store_down(store, "store", photo.storage_key, exc) from exc
    try:
        await db.commit()
    except Exception:
        # Not recorded, so nobody will ever ask for these bytes. (A commit that did land but
        # whose answer was lost would leave a row without bytes: fetching it says so in the log.)
        await _forget(store, photo.storage_key)
        raise
    return photo


async def list_photos(db: AsyncSession, *, request_id: uuid.UUID) -> list[RequestPhoto]:
    stmt = (
        select(RequestPhoto)
        .where(RequestPhoto.request_id == request_id)
        .order_by(RequestPhoto.created_at, RequestPhoto.id)
    )
    return list((await db.execute(stmt)).scalars().all())


async def get_photo(
    db: AsyncSession, *, request_id: uuid.UUID, photo_id: uuid.UUID
) -> RequestPhoto:
    stmt = select(RequestPhoto).where(
        RequestPhoto.id == photo_id, RequestPhoto.request_id == request_id
    )
    photo = (await db.execute(stmt)).scalar_one_or_none()
    if photo is None:
        raise NotFound("photo not found")
    return photo


async def read_photo(store: PhotoStore, photo: RequestPhoto) -> bytes:
    try:
        return await store.get(photo.storage_key)
    except ObjectMissing as exc:
        # A row without its bytes: the store lost them (or someone removed them by hand).
        log.error("photo %s has no bytes in the %s store (%s)", photo.id, store.name, exc)
        raise NotFound("photo not found") from exc
    except Exception as exc:
        raise _store_down(store, "read", photo.storage_key, exc) from exc


def _store_down(store: PhotoStore, action: str, key: str, exc: Exception) -> Unavailable:
    log.warning("could not %s %s in the %s photo store: %r", action, key, store.name, exc)
    return Unavailable(
        "photos cannot be stored or read right now; try again shortly",
        headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
    )


async def remove_photo(
    db: AsyncSession,
    store: PhotoStore,
    *,
    request_id: uuid.UUID,
    photo_id: uuid.UUID,
    user: User,
) -> None:
    """Remove a photo, committed: 403 unless the customer, 409 once the visit has started. The
    row goes first; bytes left behind by a store that fails afterwards are only logged."""
    request, viewer = await visible_request(db, request_id=request_id, user=user, for_update=True)
    if viewer is not Viewer.customer:
        raise Forbidden("only the customer who asked for the visit can remove its photos")
    if request.status not in REMOVABLE:
        raise Conflict(
            f"the request is {request.status}: photos can be removed until the visit starts"
        )
    photo = await get_photo(db, request_id=request.id, photo_id=photo_id)
    key = photo.storage_key
    await db.delete(photo)
    await db.commit()
    await _forget(store, key)


async def _forget(store: PhotoStore, key: str) -> None:
    try:
        await store.delete(key)
    except Exception:
        log.exception(
            "could not remove %s from the %s photo store; it is left behind", key, store.name
        )
