"""The API's requests as OpenTelemetry spans, when OTEL_EXPORTER_OTLP_ENDPOINT is set
(`core.tracing`): FastAPI's own instrumentation (`FastAPI(telemetry=...)`), one server span a
request named by its route template (`POST /api/v1/checkout`), continuing a `traceparent` the
caller sent, and the parent of the Temporal client's spans the route makes (the workflow and its
activities follow in the same trace). Unset, FastAPI's tracing is off and nothing of
OpenTelemetry's SDK is imported."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from fastapi.telemetry import TelemetryConfig

from core import tracing
from core.settings import Settings

QUIET_PATHS = frozenset({"/healthz", "/readyz"})  # probed every few seconds: not traced


def telemetry(settings: Settings) -> TelemetryConfig:
    """FastAPI's `telemetry` for `settings`: one span a request to our provider, or no tracing."""
    provider = tracing.provider(settings)
    if provider is None:
        return {"tracing": False}
    return {
        "tracer_provider": provider,
        "tracing": True,
        # The request's span, not one more for each dependency and the serialisation.
        "operation_spans": False,
        "exclude": _probe,
    }


def _probe(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in QUIET_PATHS
