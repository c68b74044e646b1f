"""Business errors raised by domain services; the API maps them to problem+json responses.

Services raise these instead of HTTP exceptions so that the same service can be called from an
activity, a CLI command or a route and still say what went wrong in the domain's own words.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class InvalidField(DomainError):
    """A rule about one input field that only a service can check (it needs the database or the
    current state). The API reports it exactly like request validation: 422, field, reason."""

    status = 422
    title = "Invalid input"

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(f"{'.'.join(str(part) for part in loc)}: {message}")
        self.loc = loc
        self.message = message


class FieldProblem(ValueError):
    """Raised by a model-level (cross-field) validator: the message and the field it is about, a
    path within the model (`"preferred_to"`, `("items", 0, "quantity")`). Pydantic records it like
    any ValueError; the API's error mapping (`api.errors`) appends the path to the error's location,
    so the client can put the message next to that input. A bare ValueError from a model
    validator would name no field: the test over every input model's validators refuses it."""

    def __init__(self, field: str | tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc: tuple[str | int, ...] = (field,) if isinstance(field, str) else field
        self.message = message


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"

    def __init__(self, detail: str = "Not authenticated") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Gone(DomainError):
    status = 410
    title = "Gone"


class TooLarge(DomainError):
    """The body is larger than the operation accepts. The connection is closed after the answer,
    so the server does not go on receiving the rest of a body it has refused."""

    status = 413
    title = "Content too large"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Connection": "close"})


class UnsupportedMediaType(DomainError):
    """The body is of a type the operation does not take; the detail (and the headers the API
    sends with it) name the types it does."""

    status = 415
    title = "Unsupported media type"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = max(1, retry_after)


class Unavailable(DomainError):
    status = 503
    title = "Service unavailable"
