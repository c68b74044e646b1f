"""The settings of logs and traces (core.logs, core.tracing).

`core.settings.Settings` takes these fields from this class (a base class of it, like
`core.http_settings.HttpSettings`); they are read from the environment like every other setting.
`OTEL_EXPORTER_OTLP_ENDPOINT` and `OTEL_SERVICE_NAME` are OpenTelemetry's own names: the exporter's
other standard variables (`OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`, `..._COMPRESSION`) are read
by the exporter itself.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator
from pydantic_settings import BaseSettings

_ENDPOINT = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class LogSettings(BaseSettings):
    # One JSON object a line (production's default: for a log collector), or readable text (the
    # default elsewhere); empty: by ENVIRONMENT.
    log_format: Literal["", "json", "text"] = ""
    # The least severe level written (each API request's access line is INFO).
    log_level: str = "INFO"
    # Traces go over OTLP/HTTP to this collector's base URL (`/v1/traces` is added), e.g.
    # http://otel-collector:4318; empty: no tracing at all (nothing of OpenTelemetry's SDK is
    # loaded, and a request costs nothing more).
    otel_exporter_otlp_endpoint: str = ""
    # The service name the spans carry; empty: homeplans-api or homeplans-worker, by process.
    otel_service_name: str = ""

    @field_validator("log_level")
    @classmethod
    def _level_is_known(cls, value: str) -> str:
        level = value.strip().upper() or "INFO"
        if level not in LEVELS:
            raise ValueError(f"LOG_LEVEL {value!r} is not one of {', '.join(LEVELS)}")
        return level

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _endpoint_is_a_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not _ENDPOINT.fullmatch(value):
            raise ValueError(
                f"OTEL_EXPORTER_OTLP_ENDPOINT {value!r} is not an http(s) URL, e.g. "
                "http://otel-collector:4318"
            )
        return value
