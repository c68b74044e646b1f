"""Tracing over OTLP: with OTEL_EXPORTER_OTLP_ENDPOINT set, an HTTP request and the workflow and
activities it caused arrive at the collector as spans of one trace; unset, nothing of
OpenTelemetry's SDK is loaded and nothing is exported."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core import tracing
from core.settings import Settings
from core.temporal import connect
from tests.conftest import ROOT, make_settings
from tests.support.waiting import eventually
from worker import build_worker


@dataclass(frozen=True)
class Span:
    name: str
    trace_id: str
    service: str


class Collector:
    """An OTLP/HTTP collector on a free local port: what arrives at `/v1/traces`, decoded."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.paths: list[str] = []
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                received.paths.append(self.path)
                if self.path == "/v1/traces":
                    received.spans.extend(_spans(body))
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> Collector:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _spans(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest.FromString(body)
    found = []
    for resource_spans in request.resource_spans:
        attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(
                    Span(span.name, span.trace_id.hex(), attributes.get("service.name", ""))
                )
    return found


@pytest.fixture
def collector() -> Iterator[Collector]:
    with Collector() as running:
        yield running


async def test_a_request_and_the_workflow_and_activity_it_caused_share_one_trace(
    temporal_env: WorkflowEnvironment,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    db: AsyncSession,
    collector: Collector,
) -> None:
    address = temporal_env.client.service_client.config.target_host
    traced = settings.model_copy(
        update={
            "temporal_address": address,
            "otel_exporter_otlp_endpoint": collector.url,
            "otel_service_name": "homeplans-test",
        }
    )
    client = await connect(traced)
    async with build_worker(client, traced, sessions=sessions):
        application = create_app(traced, temporal=client)
        async with application.router.lifespan_context(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
                # Registering starts the account's verification workflow, whose activity sends
                # the code.
                registered = await api.post(
                    "/api/v1/auth/register",
                    json={"email": "traced@example.com", "password": "correct horse battery"},
                )
                assert registered.status_code == 201, registered.text
                await api.get("/healthz")

                def one_trace(spans: list[Span]) -> bool:
                    names = _trace_of(spans, "POST /api/v1/auth/register")
                    return {
                        "RunWorkflow:AccountVerificationWorkflow",
                        "RunActivity:send_verification_code",
                    } <= names

                async def exported() -> list[Span]:
                    tracing.flush()
                    return list(collector.spans)

                spans = await eventually(
                    exported, one_trace, "the request's, the workflow's and the activity's spans"
                )
    assert collector.paths and set(collector.paths) == {"/v1/traces"}
    assert {span.service for span in spans} == {"homeplans-test"}
    assert not [span for span in spans if "healthz" in span.name], "probes are not traced"


def _trace_of(spans: list[Span], root_name: str) -> set[str]:
    """The names of the spans in the trace of the span named `root_name` (none: empty)."""
    roots = {span.trace_id for span in spans if span.name == root_name}
    if len(roots) != 1:
        return set()
    return {span.name for span in spans if span.trace_id in roots}


NO_ENDPOINT_SCRIPT = """
import asyncio, os, sys
import httpx
from api.main import create_app
from core import tracing
from core.settings import Settings
from core.temporal import connect

async def main():
    settings = Settings(_env_file=None, environment="test")
    client = await connect(settings, lazy=True)
    app = create_app(settings, temporal=client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        await c.get("/api/v1/nowhere")
    assert tracing.provider(settings) is None and tracing.temporal_interceptors(settings) == []
    loaded = sorted(
        m for m in sys.modules
        if m.startswith(("opentelemetry.sdk", "opentelemetry.exporter",
                         "temporalio.contrib.opentelemetry"))
    )
    print("LOADED", loaded, flush=True)

asyncio.run(main())
os._exit(0)
"""


def test_without_an_endpoint_nothing_of_the_sdk_is_loaded_and_nothing_is_exported() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", NO_ENDPOINT_SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "LOADED []" in done.stdout, done.stdout


@pytest.mark.parametrize("endpoint", ["otel-collector:4318", "http://", "ftp://x:4318"])
def test_an_endpoint_that_is_not_an_http_url_is_refused(endpoint: str) -> None:
    with pytest.raises(ValueError, match="OTEL_EXPORTER_OTLP_ENDPOINT"):
        make_settings(otel_exporter_otlp_endpoint=endpoint)


def test_an_endpoint_is_read_without_its_trailing_slash() -> None:
    settings = make_settings(otel_exporter_otlp_endpoint="http://otel-collector:4318/")
    assert settings.otel_exporter_otlp_endpoint == "http://otel-collector:4318"
