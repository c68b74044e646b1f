"""Connecting to Temporal with the converter and the interceptors every process must share."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core import tracing
from core.settings import Settings
from core.temporal_context import ContextPropagator


async def connect(settings: Settings, *, lazy: bool = False) -> Client:
    """A client for the configured namespace; `lazy` defers the connection to first use, so the
    API can start (and answer /readyz with 503) while Temporal is still coming up.

    Its interceptors carry the request id into workflows and activities (`core.temporal_context`)
    and, when OTEL_EXPORTER_OTLP_ENDPOINT is set, the trace (`core.tracing`); a worker built with
    this client runs them too."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        interceptors=[ContextPropagator(), *tracing.temporal_interceptors(settings)],
        lazy=lazy,
    )
