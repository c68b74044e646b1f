"""One file from a multipart/form-data body, read as it arrives and never past a bound.

Starlette's form parsing (FastAPI's `UploadFile`) reads the whole body, however large, into a
temporary file before a route runs. A route that takes a file reads it here instead: a declared
`Content-Length` past the bound is refused before a byte of the body is read, and a body without
one (chunked) is refused as soon as the bound is passed; at most `max_bytes + 1` bytes of the file
are ever held. The client's file name and content type are not kept: what the bytes are is
decided by the caller, from the bytes.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from core.errors import InvalidField, TooLarge

# Room for what surrounds the file in the body: boundaries and part headers (a client's file
# name, its content type).
ENVELOPE_BYTES = 16 * 1024
MAX_PART_HEADER_BYTES = 4 * 1024


def file_field_schema(field: str, description: str) -> dict[str, Any]:
    """The request body to declare in the OpenAPI document (`openapi_extra`) for `read_file`."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [field],
                        "properties": {
                            field: {
                                "type": "string",
                                "format": "binary",
                                "description": description,
                            }
                        },
                        "additionalProperties": False,
                    }
                }
            },
        }
    }


def human_size(size: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


class _Refused(Exception):
    def __init__(self, error: Exception) -> None:
        self.error = error


class _FilePart:
    """The parser's callbacks: collect the one file field, bounded."""

    def __init__(self, field: str, max_bytes: int, too_large: TooLarge) -> None:
        self.field = field
        self.max_bytes = max_bytes
        self.too_large = too_large
        self.data = bytearray()
        self.seen = False
        self.ended = False
        self._in_file = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self._in_file = False
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]  # bounded by the parser's max_header_size

    def on_header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"").decode("latin-1")
        if name != self.field:
            # Like a JSON body's unknown field: refused, so a misspelt field is not silently lost.
            shown = name.encode("unicode_escape").decode("ascii")[:100] or "(a part with no name)"
            raise _Refused(
                InvalidField((shown,), f"unknown field; the only field is `{self.field}`")
            )
        if self.seen:
            raise _Refused(InvalidField((self.field,), "send one file per request"))
        self.seen = self._in_file = True

    def on_end(self) -> None:
        # Only at the closing boundary: a body cut short never gets here.
        self.ended = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._in_file:
            return
        room = self.max_bytes + 1 - len(self.data)
        self.data += data[start : min(end, start + room)]
        if len(self.data) > self.max_bytes:
            raise _Refused(self.too_large)


def _too_large(max_bytes: int, what: str) -> TooLarge:
    return TooLarge(f"{what} may be at most {human_size(max_bytes)} ({max_bytes} bytes)")


def check_file_request(request: Request, *, field: str, max_bytes: int, what: str) -> bytes:
    """What can be refused from the headers alone, before anything is looked up or read: 422 when
    the body is not multipart/form-data with a boundary (a route that declares its body as such
    in `file_field_schema` has another type refused before, with a 415: `api.boundary`), 413
    when its declared length is past the bound. The multipart boundary."""
    media_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise InvalidField((field,), f"send {what} as multipart/form-data, in the field `{field}`")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + ENVELOPE_BYTES:
        raise _too_large(max_bytes, what)
    return boundary


async def read_file(request: Request, *, field: str, max_bytes: int, what: str) -> bytes:
    """The bytes of the file in `field` of the request's multipart/form-data body: 422 (naming
    `field`) when the body is not such a form, has other fields or no file; 413 past `max_bytes`,
    with the limit in the detail. `what` names the file in messages ("a photo")."""
    boundary = check_file_request(request, field=field, max_bytes=max_bytes, what=what)
    too_large = _too_large(max_bytes, what)
    bound = max_bytes + ENVELOPE_BYTES
    part = _FilePart(field, max_bytes, too_large)
    received = 0
    try:
        parser = MultipartParser(boundary, part.callbacks(), max_header_size=MAX_PART_HEADER_BYTES)
        async for chunk in request.stream():
            received += len(chunk)
            if received > bound:
                raise too_large
            parser.write(chunk)
        parser.finalize()
    except _Refused as refused:
        raise refused.error from None
    except FormParserError as exc:
        raise InvalidField((field,), "the body is not valid multipart/form-data") from exc
    except ClientDisconnect as exc:
        raise InvalidField((field,), f"the upload ended before {what} did") from exc
    if not part.seen:
        raise InvalidField((field,), f"{what} is needed, in the field `{field}`")
    if not part.ended:
        raise InvalidField((field,), "the body ends before the form does (no closing boundary)")
    return bytes(part.data)
