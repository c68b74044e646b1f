"""Liveness and readiness probes (outside /api/v1, where load balancers look for them)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])
log = logging.getLogger("homeplans.health")
CHECK_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency is down; body names it"}})
async def readyz(request: Request) -> JSONResponse:
    """PostgreSQL and Temporal are reachable; 503 naming the part that is down otherwise."""
    checks = {"postgres": _postgres(request), "temporal": _temporal(request)}
    results = await asyncio.gather(*checks.values())
    parts: dict[str, Any] = dict(zip(checks, results, strict=True))
    down = [name for name, result in parts.items() if result != "ok"]
    # Informational, never a reason to be unready: without its listener the catalog cache checks
    # the catalog's revision on every request instead (slower, still correct), and live streams
    # read the timeline every second.
    catalog = request.app.state.catalog
    streams = request.app.state.streams
    info: dict[str, Any] = {
        "catalog_cache": "notified" if catalog.listening else "checking every request",
        "request_streams": "notified" if streams.listening else "reading every second",
        "open_streams": streams.open_streams,
    }
    if not down:
        return JSONResponse({"status": "ready", "checks": parts, "info": info})
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Service unavailable",
            "status": 503,
            "detail": f"not ready: {', '.join(down)} unreachable",
            "checks": parts,
            "info": info,
        },
        status_code=503,
        media_type="application/problem+json",
    )


async def _postgres(request: Request) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        log.warning("readiness: postgres unreachable: %s", exc)
        return f"down: {type(exc).__name__}"


async def _temporal(request: Request) -> str:
    try:
        client = request.app.state.temporal
        ok = await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_S))
        return "ok" if ok else "down: not serving"
    except Exception as exc:
        log.warning("readiness: temporal unreachable: %s", exc)
        return f"down: {type(exc).__name__}"
