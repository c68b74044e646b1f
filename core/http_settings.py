"""The settings of the API's HTTP boundary (api.limits, api.security): how large a body and how
long a request may be, which other origins may call the API from a browser, which hops are proxies
whose `X-Forwarded-For` is believed, and HTTPS's Strict-Transport-Security.

`core.settings.Settings` takes these fields from this class (a base class of it, so the settings
module stays one page); they are read from the environment like every other setting.

The lists (`CORS_ALLOW_ORIGINS`, `TRUSTED_PROXIES`) are comma-separated text, as an operator writes
them in an environment file, and checked at start: a malformed entry fails the process with a
reason instead of being silently never matched.
"""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$|^https?://\[[0-9a-f:.]+\](:\d{1,5})?$")


def parse_origins(text: str) -> frozenset[str]:
    """The origins of `CORS_ALLOW_ORIGINS` (`scheme://host[:port]`, lowercase, comma-separated).
    ValueError naming the entry that is not an origin."""
    origins = set()
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        origin = entry.lower().rstrip("/")
        if not ORIGIN.fullmatch(origin):
            raise ValueError(
                f"CORS_ALLOW_ORIGINS: {entry!r} is not an origin: write scheme://host[:port], "
                "e.g. https://partner.example.com (no path, no wildcard)"
            )
        origins.add(origin)
    return frozenset(origins)


def parse_proxies(text: str) -> list[str]:
    """The hops of `TRUSTED_PROXIES`: addresses and networks (`10.0.0.5`, `10.0.0.0/8`,
    `fd00::/8`), or `*` alone for every hop. ValueError naming the entry that is neither."""
    entries = [part.strip() for part in text.split(",") if part.strip()]
    if entries == ["*"]:
        return entries
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ValueError(
                f"TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                "(e.g. 10.0.0.5, 10.0.0.0/8), or '*' alone"
            ) from exc
    return [str(ipaddress.ip_network(entry, strict=False)) for entry in entries]


class HttpSettings(BaseSettings):
    # A request body (JSON, a form) is at most this large: larger is a 413 before it is read. A
    # route that takes an upload bounds its own body (photos: PHOTO_MAX_BYTES).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # A request still unanswered after this long is a 503 and its work is cancelled; live streams
    # (text/event-stream) last once they have started. An upload has longer to arrive.
    request_timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    upload_timeout_seconds: float = Field(default=120.0, gt=0, le=3600)
    # Other origins whose pages may call the API (CORS), comma-separated; empty: same-origin only.
    cors_allow_origins: str = ""
    # Hops whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses, networks, or `*`);
    # empty: none, the client is the address that connected.
    trusted_proxies: str = ""
    # Strict-Transport-Security's max-age, sent when the request came over https (directly, or
    # through a trusted proxy) or PUBLIC_BASE_URL is https; 0: never sent.
    hsts_max_age_seconds: int = Field(default=31_536_000, ge=0, le=2 * 31_536_000)

    @field_validator("cors_allow_origins")
    @classmethod
    def _origins_parse(cls, value: str) -> str:
        parse_origins(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        parse_proxies(value)
        return value
