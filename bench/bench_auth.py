"""Sign-in and the signed-in reads under load: POST /api/v1/auth/login, GET /api/v1/me and the
customer's own lists (orders, subscriptions, service requests).

The bench registers one user through the API (POST /auth/register, which also starts its
verification workflow on Temporal), buys one plan of the demo catalog for them (so the orders and
subscriptions lists have a row each; the service-requests list is empty), then measures, 16
clients at a time:
- login with that user's valid credentials (every request is one argon2id verification and one
  new session row), and
- each authenticated read with a bearer token from a fresh login: GET /me (JWT check + the
  principal), GET /orders, GET /subscriptions, GET /service-requests (the principal + the list's
  queries). Issue 28's target for each: >= 25% of bare uvicorn's throughput, p99 <= 20 ms.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from bench.harness import (
    LoadGenerator,
    LoadResult,
    Request,
    Stack,
    finish_profiles,
    log,
    measure,
    start_profiles,
)

API = "/api/v1"
TARGET_READ_SHARE = 0.25  # an authenticated read: >= 25% of bare uvicorn's req/s ...
TARGET_READ_P99_MS = 20.0  # ... with p99 <= 20 ms
# The authenticated reads measured (label, path, what one request does).
READS = (
    ("GET /me", "/me", "bearer token: JWT check + the principal"),
    ("GET /orders", "/orders", "the principal + the customer's orders (1) with their refunds"),
    (
        "GET /subscriptions",
        "/subscriptions",
        "the principal + the customer's subscriptions (1) with their periods",
    ),
    ("GET /service-requests", "/service-requests", "the principal + the customer's requests (0)"),
)
PASSWORD = "bench passphrase, long enough"  # noqa: S105 (a throwaway user of a throwaway DB)


@dataclass(frozen=True)
class Figure:
    label: str
    result: LoadResult
    note: str = ""
    read: bool = False  # an authenticated read: judged against the read target


def read_target_text() -> str:
    return f">= {TARGET_READ_SHARE:.0%} of bare uvicorn, p99 <= {TARGET_READ_P99_MS:g} ms"


def read_target_met(result: LoadResult, baseline: LoadResult) -> tuple[bool, bool] | None:
    """(throughput half, p99 half) of the authenticated-read target; None on an invalid figure."""
    if not (result.valid and baseline.valid):
        return None
    return result.rps >= TARGET_READ_SHARE * baseline.rps, result.p99_ms <= TARGET_READ_P99_MS


def argon2_verify_ms(samples: int = 5) -> float:
    """Median time of one argon2id verification with the server's parameters (one core)."""
    from core.security import Passwords
    from core.settings import Settings

    passwords = Passwords(Settings(_env_file=None))
    stored = passwords.hash(PASSWORD)
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        assert passwords.verify(stored, PASSWORD)
        times.append((time.perf_counter() - started) * 1000.0)
    return statistics.median(times)


def argon2_params() -> str:
    from core.settings import Settings

    settings = Settings(_env_file=None)
    return (
        f"m={settings.argon2_memory_kib / 1024:g} MiB "
        f"t={settings.argon2_time_cost} p={settings.argon2_parallelism}"
    )


def _expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


def run(stack: Stack, generator: LoadGenerator, *, seconds: int, warmup_s: int) -> list[Figure]:
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    credentials = json.dumps({"identifier": email, "password": PASSWORD})
    json_headers = {"Content-Type": "application/json"}
    with httpx.Client(base_url=f"{stack.api_url}{API}", timeout=60.0) as client:
        log(f"registering {email}")
        _expect(
            client.post(
                "/auth/register",
                json={"email": email, "password": PASSWORD, "name": "Bench User"},
            ),
            201,
            "POST /auth/register",
        )
        _expect(
            client.post("/auth/login", content=credentials, headers=json_headers),
            200,
            "POST /auth/login",
        )

        log("measuring POST /auth/login")
        login = measure(
            generator,
            Request("POST", f"{stack.api_url}{API}/auth/login", json_headers, credentials),
            seconds=seconds,
            warmup_s=warmup_s,
        )

        # A fresh token (15 min at most), checked once before the load.
        tokens = _expect(
            client.post("/auth/login", content=credentials, headers=json_headers),
            200,
            "POST /auth/login",
        )
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        buy_one_plan(stack, client, bearer)
        figures = [
            Figure(
                "POST /auth/login",
                login,
                note=f"bounded by argon2id hashing ({argon2_params()}, OWASP), by design",
            )
        ]
        for label, path, note in READS:
            _expect(client.get(path, headers=bearer), 200, label)
            log(f"measuring {label}")
            profiles = start_profiles(
                stack.pids,
                label=label.split(" ")[1].strip("/").replace("/", "-"),
                seconds=warmup_s + seconds,
                names=("API",),
            )
            result = measure(
                generator,
                Request("GET", f"{stack.api_url}{API}{path}", bearer),
                seconds=seconds,
                warmup_s=warmup_s,
            )
            finish_profiles(profiles)
            figures.append(Figure(label, result, note=note, read=True))
    return figures


def buy_one_plan(stack: Stack, client: httpx.Client, bearer: dict[str, str]) -> str:
    """The signed-in customer buys the first plan of the demo catalog as the app does (address,
    cart, checkout, the sandbox provider's approval, confirm); the order's id."""
    from bench.bench_catalog import ensure_demo_catalog

    ensure_demo_catalog(stack)
    plans = _expect(client.get("/catalog/plans"), 200, "GET /catalog/plans")["items"]
    if not plans:
        raise RuntimeError("the demo catalog has no plan")
    address = {"line1": "12 MG Road", "city": "Bengaluru", "postal_code": "560001", "country": "IN"}
    _expect(client.post("/me/addresses", json=address, headers=bearer), 201, "POST /me/addresses")
    _expect(
        client.post("/cart", json={"plan_id": plans[0]["id"]}, headers=bearer), 201, "POST /cart"
    )
    started = _expect(
        client.post(
            "/checkout", json={}, headers={**bearer, "Idempotency-Key": f"bench-{uuid.uuid4()}"}
        ),
        201,
        "POST /checkout",
    )
    order, payment = started["order"], started["payment"]
    _expect(
        client.post(
            f"/sandbox/payments/{payment['provider_ref']}/approve",
            data={"client_secret": payment["client_secret"]},
        ),
        200,
        "POST approve",
    )
    confirmed = _expect(
        client.post(
            f"/orders/{order['id']}/confirm",
            json={"session_id": payment["provider_ref"]},
            headers=bearer,
        ),
        200,
        "POST confirm",
    )
    if confirmed.get("status") != "completed":
        raise RuntimeError(f"the bench customer's purchase ended {confirmed.get('status')!r}")
    return str(order["id"])
