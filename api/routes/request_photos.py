"""Photos of a service request: the customer adds them (multipart, field `file`) and removes them;
the customer, staff and the assigned technician list and fetch them. Anyone else gets 404, exactly
as for a request that does not exist (domain.service_requests.photos says who may do what).

A photo's size is refused with 413 (the limit in the detail) as soon as it is passed, before the
rest of the body is read; its type (from its bytes) and an empty file with 422 on `file`.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from api.deps import CurrentUser, PhotoStoreDep, SessionDep, SettingsDep
from api.limits import takes_upload
from api.pagination import at_most
from api.problems import problems
from api.uploads import check_file_request, file_field_schema, read_file
from domain.service_requests import photos
from domain.service_requests.models import RequestPhoto
from domain.service_requests.photos import PhotoOut

router = APIRouter(prefix="/service-requests/{request_id}/photos", tags=["service requests"])

PHOTO_ROUTE = "service_request_photo"
MAX_PHOTOS = 50  # the most PHOTOS_PER_REQUEST may be (core.settings)


def _out(request: Request, photo: RequestPhoto) -> PhotoOut:
    # A path on this API, built from our ids only: nothing in it comes from the client (its Host
    # header included).
    url = request.app.url_path_for(PHOTO_ROUTE, request_id=photo.request_id, photo_id=photo.id)
    return PhotoOut(
        id=photo.id,
        content_type=photo.content_type,
        size_bytes=photo.size_bytes,
        created_at=photo.created_at,
        url=str(url),
    )


@router.post(
    "",
    response_model=PhotoOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **problems(404, 409, 413),
        403: {"description": "Only the customer who asked for the visit adds its photos"},
    },
    openapi_extra=file_field_schema(
        photos.FIELD, f"The photo: {photos.ALLOWED}, as its bytes say (not its name or type)"
    ),
)
@takes_upload
async def add_photo(
    request_id: uuid.UUID,
    request: Request,
    response: Response,
    user: CurrentUser,
    db: SessionDep,
    store: PhotoStoreDep,
    settings: SettingsDep,
) -> PhotoOut:
    """Add a photo to your request, until its visit is completed or cancelled (at most
    `PHOTOS_PER_REQUEST`, each at most `PHOTO_MAX_BYTES`)."""
    max_bytes = settings.photo_max_bytes
    check_file_request(request, field=photos.FIELD, max_bytes=max_bytes, what="a photo")
    # Checked before the body is read, so nobody who may not add a photo gets to send one; checked
    # again, under a lock, once it has arrived.
    found, viewer = await photos.visible_request(db, request_id=request_id, user=user)
    await photos.check_can_add(db, request=found, viewer=viewer, settings=settings)
    # The body may take a while to arrive: the database connection goes back to the pool
    # meanwhile instead of being held by a slow upload.
    await db.commit()
    data = await read_file(request, field=photos.FIELD, max_bytes=max_bytes, what="a photo")
    photo = await photos.add_photo(
        db, store, request_id=request_id, user=user, data=data, settings=settings
    )
    out = _out(request, photo)
    response.headers["Location"] = out.url
    return out


@router.get("", response_model=at_most(PhotoOut, MAX_PHOTOS), responses=problems(404))
async def list_photos(
    request_id: uuid.UUID, request: Request, user: CurrentUser, db: SessionDep
) -> list[PhotoOut]:
    """The request's photos, the oldest first."""
    found, _ = await photos.visible_request(db, request_id=request_id, user=user)
    return [_out(request, photo) for photo in await photos.list_photos(db, request_id=found.id)]


@router.get(
    "/{photo_id}",
    name=PHOTO_ROUTE,
    summary="Fetch Photo",
    response_class=Response,
    responses={
        200: {
            "description": "The photo's bytes, of the type recorded when it was added",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in photos.EXTENSIONS
            },
        },
        **problems(404),
    },
)
async def fetch_photo(
    request_id: uuid.UUID,
    photo_id: uuid.UUID,
    user: CurrentUser,
    db: SessionDep,
    store: PhotoStoreDep,
) -> Response:
    """One photo's bytes."""
    found, _ = await photos.visible_request(db, request_id=request_id, user=user)
    photo = await photos.get_photo(db, request_id=found.id, photo_id=photo_id)
    await db.commit()  # the store may be slow: release the connection first
    data = await photos.read_photo(store, photo)
    return Response(
        content=data,
        media_type=photo.content_type,
        headers={
            # The type is the one we decided from the bytes; a browser must not guess another
            # (a file that is also HTML, say). Only the user's own cache may keep it (the bytes
            # under a photo id never change).
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{photos.download_name(photo)}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.delete(
    "/{photo_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **problems(404, 409),
        403: {"description": "Only the customer who asked for the visit removes its photos"},
    },
)
async def remove_photo(
    request_id: uuid.UUID,
    photo_id: uuid.UUID,
    user: CurrentUser,
    db: SessionDep,
    store: PhotoStoreDep,
) -> Response:
    """Remove a photo from your request, until its visit starts."""
    await photos.remove_photo(db, store, request_id=request_id, photo_id=photo_id, user=user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
