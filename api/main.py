"""The FastAPI application: `uvicorn api.main:app` (settings from the environment), or
`create_app(settings)` with explicit settings (tests, benchmarks)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from temporalio.client import Client

from api import errors, limits, metrics, problems, request_ids, tracing
from api.app_config import app_policy
from api.boundary import reject_nul, require_body_type
from api.caching import CatalogCache, CatalogFastPath
from api.dashboard_hub import DashboardHub
from api.methods import concrete_paths_first
from api.routes import (
    admin_audit,
    admin_campaigns,
    admin_catalog,
    admin_customers,
    admin_dashboard,
    admin_dispatch,
    admin_notifications,
    admin_orders,
    admin_payments,
    admin_refunds,
    admin_reports,
    admin_search,
    admin_service_requests,
    admin_subscriptions,
    admin_support,
    admin_technicians,
    admin_users,
    app_auth,
    app_config,
    auth,
    cart,
    catalog,
    checkout,
    health,
    me,
    notifications,
    orders,
    request_events,
    request_photos,
    sandbox,
    service_requests,
    subscriptions,
    support,
    technician_jobs,
    unsubscribe,
    web_auth,
    webhooks,
)
from api.spa import Build, SinglePageApp, dist_dir
from api.streams import RequestEventHub, drain_on_stop_signals
from core.db import make_engine, make_sessionmaker
from core.logs import configure_logging
from core.settings import Settings, get_settings
from core.temporal import connect
from domain.accounts.auth import Authenticator
from providers.identity import identity_verifier
from providers.payments import payment_provider
from providers.storage import photo_store

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    *,
    temporal: Client | None = None,
    drain_streams_on_stop_signals: bool = False,
) -> FastAPI:
    """The app; `drain_streams_on_stop_signals` (set when a server runs it, see `app()`) ends its
    live streams as soon as the process is told to stop (see `RequestEventHub`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        # The sessions of the GET routes marked `api.deps.reads_only`: no BEGIN / ROLLBACK.
        app.state.read_sessions = make_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        app.state.catalog = CatalogCache(app.state.sessions)
        # Its own connection (not one of the pool's), held for the life of the process.
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        app.state.catalog.start(conninfo)
        # Live streams of service requests: one more connection of its own, listening likewise.
        app.state.streams = RequestEventHub(max_per_user=settings.max_streams_per_user)
        app.state.streams.start(conninfo)
        # The live dashboard: one more listening connection, one recompute for all its streams.
        app.state.dashboard = DashboardHub(
            app.state.sessions,
            time_zone=settings.default_time_zone,
            currency=settings.reports_currency,
            max_per_user=settings.max_dashboard_streams_per_user,
        )
        app.state.dashboard.start(conninfo)
        undo_signals = (
            app.state.streams.drain_on_stop_signals()
            if drain_streams_on_stop_signals
            else (lambda: None)
        )
        undo_dashboard_signals = (
            drain_on_stop_signals(app.state.dashboard.drain)
            if drain_streams_on_stop_signals
            else (lambda: None)
        )
        app.state.auth = Authenticator(settings, firebase=identity_verifier(settings))
        app.state.payments = payment_provider(settings, sessions=app.state.sessions)
        app.state.photos = photo_store(settings)
        # Lazy: the API starts (and says "not ready") while Temporal is still coming up.
        app.state.temporal = temporal or await connect(settings, lazy=True)
        # Everything loaded so far lives as long as the process: keep it out of the garbage
        # collector's generations, so its pauses stay short (they set the API's p99).
        gc.freeze()
        try:
            yield
        finally:
            undo_dashboard_signals()
            undo_signals()
            await app.state.dashboard.stop()
            await app.state.streams.stop()
            await app.state.catalog.stop()
            await engine.dispose()

    app = FastAPI(
        title="HomePlans API",
        version="1.0.0",
        summary="Home-service plans: accounts, catalog, checkout, service requests.",
        lifespan=lifespan,
        telemetry=tracing.telemetry(settings),  # spans only when an OTLP endpoint is set
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # Checked for every route before its own code (see api.boundary).
        dependencies=[
            Depends(concrete_paths_first),
            Depends(require_body_type),
            Depends(reject_nul),
        ],
    )
    errors.install(app)
    problems.install(app)
    # Body size, timeouts, security headers, CORS and the client's address, around everything.
    limits.install(app, settings)
    request_ids.install(app)  # outside all of it: every answer has an id and an access line
    # GET /metrics, and the request counts and latencies around all of the above (api.metrics).
    metrics.install(app)
    # Repeated public catalog reads are answered before routing (see api.caching).
    app.add_middleware(CatalogFastPath, prefix=f"{API_PREFIX}/catalog/")
    app.include_router(health.router)
    # The public catalog first: it is the most requested, and routes are matched in order.
    for router in (
        catalog.router,
        auth.router,
        web_auth.router,
        app_auth.router,
        app_config.router,
        me.router,
        admin_users.router,
        admin_notifications.router,
        admin_catalog.router,
        cart.router,
        checkout.router,
        orders.router,
        sandbox.router,
        webhooks.router,
        admin_orders.router,
        admin_refunds.router,
        subscriptions.router,
        admin_subscriptions.router,
        admin_technicians.router,
        service_requests.router,
        admin_service_requests.router,
        technician_jobs.router,
        request_photos.router,
        request_events.router,
        support.router,
        notifications.router,
        unsubscribe.router,
        admin_support.router,
        admin_audit.router,
        admin_payments.router,
        admin_customers.router,
        admin_campaigns.router,
        admin_dashboard.router,
        admin_reports.router,
        admin_dispatch.router,
        admin_search.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    # The web apps' builds, same-origin with the API (see api.spa).
    app.mount(
        "/admin",
        SinglePageApp(dist_dir(settings.admin_ui_dist), Build("admin panel", "admin_ui")),
        name="admin-ui",
    )
    app.mount(
        "/app",
        SinglePageApp(
            dist_dir(settings.customer_app_dist),
            Build("customer app", "customer_app", app_policy(settings)),
        ),
        name="customer-app",
    )
    return app


def app() -> FastAPI:
    """uvicorn factory: `uvicorn --factory api.main:app`."""
    configure_logging(get_settings(), service="homeplans-api")
    return create_app(drain_streams_on_stop_signals=True)
