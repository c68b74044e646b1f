"""The client, retrying as the app does: a connection error, a 5xx (503 included) or a 429 is
tried again with backoff, against either API process, with the same `Idempotency-Key`; an
expired token is renewed by signing in again. Counts operations (one per call the mix makes,
however many attempts it took) and attempts."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = secrets.token_urlsafe(18)  # every customer of this run
GIVE_UP_S = 240.0  # a call still failing after this long is reported, never waited on forever
ATTEMPT_TIMEOUT_S = 30.0


class GaveUp(Exception):
    """A call that kept failing for GIVE_UP_S (the stack never came back)."""


@dataclass
class Session:
    """Someone signed in: their bearer token, renewed by signing in again when it expires."""

    email: str
    password: str
    headers: dict[str, str] = field(default_factory=dict)
    user_id: str = ""


class Api:
    def __init__(self, urls: list[str], rng: random.Random) -> None:
        self.urls = urls
        self.rng = rng
        self.http = httpx.AsyncClient(timeout=ATTEMPT_TIMEOUT_S)
        self.ops: Counter[str] = Counter()
        self.attempts = 0
        self.retries = 0
        self.gave_up = 0

    async def close(self) -> None:
        await self.http.aclose()

    def url(self, path: str) -> str:
        return f"{self.rng.choice(self.urls)}/api/v1{path}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        who: Session | None = None,
        op: str | None = None,
        key: str | None = None,
        ok: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """One operation: attempts until an answer that is not a passing failure. `key` is sent
        as the Idempotency-Key of every attempt."""
        self.ops[op or f"{method} {path.split('/')[1]}"] += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GIVE_UP_S
        delay = 0.2
        last = "no attempt"
        while True:
            headers = dict(kwargs.pop("headers", None) or {})
            if who is not None:
                headers.update(who.headers)
            if key is not None:
                headers["Idempotency-Key"] = key
            self.attempts += 1
            try:
                response = await self.http.request(
                    method, self.url(path), headers=headers, **kwargs
                )
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status == 401 and who is not None and path != "/auth/login":
                    await self.sign_in(who)
                    last = "401"
                elif status >= 500 or status == 429:
                    last = f"{status} {response.text[:200]}"
                    if status == 429:
                        delay = max(delay, float(response.headers.get("Retry-After", 1)))
                else:
                    if ok and status not in ok:
                        raise AssertionError(f"{method} {path}: {status} {response.text[:300]}")
                    return response
            if loop.time() > deadline:
                self.gave_up += 1
                at = time.strftime("%H:%M:%S")
                raise GaveUp(f"{method} {path} (given up at {at}): {last}")
            self.retries += 1
            await asyncio.sleep(delay * (0.5 + self.rng.random()))
            delay = min(delay * 2, 4.0)

    async def sign_in(self, who: Session) -> None:
        response = await self.call(
            "POST",
            "/auth/login",
            op="sign in",
            json={"identifier": who.email, "password": who.password},
            ok=(200,),
        )
        who.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    async def register(self, email: str, *, name: str = "Chaos Customer") -> Session:
        """A new customer (the same key again is the same sign-up: a retried register whose
        first attempt landed is a 409, then they sign in)."""
        who = Session(email=email, password=PASSWORD)
        body = {"email": email, "password": PASSWORD, "name": name}
        response = await self.call("POST", "/auth/register", op="register", json=body)
        if response.status_code == 201:
            tokens = response.json()["tokens"]
            who.headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            who.user_id = response.json()["user"]["id"]
        elif response.status_code == 409:
            await self.sign_in(who)
            who.user_id = (await self.call("GET", "/me", who=who, ok=(200,))).json()["id"]
        else:
            raise AssertionError(f"register {email}: {response.status_code} {response.text}")
        return who


def new_key(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4()}"
