"""OpenTelemetry tracing, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set.

Unset (the default), nothing here imports OpenTelemetry's SDK and nothing is traced: a request or
a workflow costs nothing more. Set, each process has one tracer provider, its spans named by
service (`homeplans-api`, `homeplans-worker`; OTEL_SERVICE_NAME overrides), sent in batches to
`{endpoint}/v1/traces`:

- the API's requests (`api.tracing`: FastAPI's instrumentation, one span per request named by its
  route template);
- Temporal's client calls, workflows and activities (`temporalio.contrib.opentelemetry`'s
  `TracingInterceptor`, put on the client by `core.temporal.connect`, so the worker built from that
  client has it too). The trace context travels in a Temporal header, so a purchase's HTTP request,
  its checkout workflow and each of its activities are spans of one trace.
"""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING, Any

from core.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

_process = {"service": "homeplans"}


def name_process(service: str) -> None:
    """The service name of this process's spans, unless OTEL_SERVICE_NAME says otherwise."""
    _process["service"] = service


def enabled(settings: Settings) -> bool:
    return bool(settings.otel_exporter_otlp_endpoint)


def provider(settings: Settings) -> TracerProvider | None:
    """The process's tracer provider for `settings` (made once), None when no endpoint is set."""
    if not enabled(settings):
        return None
    key = (settings.otel_exporter_otlp_endpoint, settings.otel_service_name or _process["service"])
    made = _providers.get(key)
    if made is None:
        made = _providers[key] = _make(*key)
    return made


_providers: dict[tuple[str, str], TracerProvider] = {}


def _make(endpoint: str, service: str) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    made = TracerProvider(resource=Resource.create({"service.name": service}))
    made.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces")))
    # Spans still queued are sent when the process ends normally (the worker, which exits
    # without its atexit hooks, flushes first: worker.exit_now).
    atexit.register(made.shutdown)
    return made


def temporal_interceptors(settings: Settings) -> list[Any]:
    """The Temporal client's (and so its workers') tracing interceptor; none without an
    endpoint."""
    tracer_provider = provider(settings)
    if tracer_provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(tracer_provider.get_tracer("temporalio"))]


def flush(timeout_ms: int = 5_000) -> None:
    """Send every span still queued, of every provider made (none: nothing is imported)."""
    for made in _providers.values():
        made.force_flush(timeout_ms)
