"""Sign-in and the signed-in profile under load: POST /api/v1/auth/login and GET /api/v1/me.

The bench registers one user through the API (POST /auth/register, which also starts its
verification workflow on Temporal), then measures, 16 clients at a time:
- login with that user's valid credentials (every request is one argon2id verification and one
  new session row), and
- GET /me with a bearer token from a fresh login (JWT check + one principal query).
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from dataclasses import dataclass

import httpx

from bench.harness import LoadGenerator, LoadResult, Request, Stack, log, measure

API = "/api/v1"
PASSWORD = "bench passphrase, long enough"  # noqa: S105 (a throwaway user of a throwaway DB)


@dataclass(frozen=True)
class Figure:
    label: str
    result: LoadResult
    note: str = ""


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


def _expect(response: httpx.Response, status: int, what: str) -> dict[str, object]:
    if response.status_code != status:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:500]}")
    body: dict[str, object] = response.json()
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
        _expect(client.get("/me", headers=bearer), 200, "GET /me")

        log("measuring GET /me")
        me = measure(
            generator,
            Request("GET", f"{stack.api_url}{API}/me", bearer),
            seconds=seconds,
            warmup_s=warmup_s,
        )
    return [
        Figure(
            "POST /auth/login",
            login,
            note=f"bounded by argon2id hashing ({argon2_params()}, OWASP), by design",
        ),
        Figure("GET /me", me, note="bearer token: JWT check + one PostgreSQL query"),
    ]
