"""The authorization matrix: every operation of the OpenAPI document is classified
(tests/support/authz_matrix.py) and sent by everyone who must be refused it, with real ids:

- a stranger (no token): 401, but on the public routes, which answer as they would anyone;
- a customer (and a technician) on another customer's order, plan, visit, photo, receipt, card,
  address, cart item, callback, message, device: the answer a missing id gets (404 for an id in
  the path), also with their own thing in the path and the other's in the body or query; and
  nothing in the tables those routes write changes (nor the stored photos);
- customers and technicians on staff routes: 403; support on admin-only routes: 403; anyone but
  a technician on a technician's routes: 403; a technician on another technician's job: 404;
- a customer the admin deactivated, an inactive one whose sessions are still open, a signed-out
  one, and an admin whose sessions another admin ended: 401 on everything but the public routes.

And, so that the refusals are of real things: the owners reach them (B its own things, technician
B their job, support the staff routes and a request's photos and live status), and a customer's
own lists (a technician's jobs) name nothing of another customer's.

One world is made (tests/support/authz_world.py) and every request is sent once by a module
fixture, in-process (tests/support/authz_caller.py); the tests below read its answers. Streams go
to a live API process (an in-process client would wait for a stream's end), read for their status
only and closed at once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from core.db import Base
from tests.conftest import free_port, make_settings
from tests.support.authz_caller import Caller, Stack
from tests.support.authz_matrix import (
    ADMIN,
    CLASSES,
    MIXED,
    OPERATIONS,
    OWN,
    PUBLIC,
    SELF,
    STAFF,
    TECHNICIAN,
    document_operations,
)
from tests.support.authz_world import (
    PRIVATE,
    World,
    build_world,
    missing_values,
    settled_snapshot,
    snapshot,
)
from tests.support.sse import ApiProcess, api_environment
from worker import build_worker

DOCUMENT = create_app(make_settings()).openapi()
WRITES_LAST = ("GET", "POST", "PUT", "PATCH", "DELETE")

# The run's figures (printed by conftest's terminal summary).
STATUSES: Counter[int] = Counter()
TIMES: dict[str, float] = {}


def figures() -> list[str]:
    if not STATUSES:
        return []
    by_class = Counter(
        op.kind for key, op in OPERATIONS.items() if key in document_operations(DOCUMENT)
    )
    classes = ", ".join(f"{kind} {by_class[kind]}" for kind in CLASSES)
    return [
        f"authorization matrix: {sum(by_class.values())} operations ({classes}); "
        f"{sum(STATUSES.values())} requests in {TIMES.get('requests', 0):.1f} s "
        f"(seeding {TIMES.get('seeding', 0):.1f} s), by status {dict(sorted(STATUSES.items()))}"
    ]


@dataclass
class Wrong:
    """A wrong answer: who sent what, what came, what should have."""

    who: str
    method: str
    path: str
    got: Any
    expected: str

    def __str__(self) -> str:
        return f"{self.method} {self.path} as {self.who}: {self.got} (expected {self.expected})"


@dataclass
class Answers:
    world: World
    wrong: dict[str, list[Wrong]] = field(default_factory=dict)
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    checked: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
async def stack(
    database_url: str,
    temporal_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    uploads = tmp_path_factory.mktemp("authz") / "uploads"
    settings = make_settings(database_url=database_url, uploads_dir=str(uploads))
    live = ApiProcess(
        api_environment(database_url, temporal_env), free_port(), uploads.parent / "api.log"
    )
    live.start()
    try:
        async with build_worker(temporal_env.client, settings, sessions=sessions):
            app = create_app(settings, temporal=temporal_env.client)
            async with app.router.lifespan_context(app), sessions() as db:
                transport = httpx.ASGITransport(app=app)
                async with (
                    httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as api,
                    httpx.AsyncClient(transport=transport, base_url="http://test") as root,
                ):
                    yield Stack(api, root, db, uploads, live, settings)
    finally:
        live.stop()
        async with sessions() as session:
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            await session.commit()


def _kind(key: tuple[str, str]) -> str:
    return OPERATIONS[key].kind


async def _foreign_ids(call: Caller, answers: Answers, keys: list[tuple[str, str]]) -> None:
    """A customer and a technician on B's things: a missing thing's answer."""
    world = answers.world
    wrong = answers.wrong.setdefault("foreign ids", [])
    for key in keys:
        op = OPERATIONS[key]
        expected = op.expect or 404
        people = {"customer A": world.a.headers, "technician A": world.a.technician}
        if op.kind == TECHNICIAN:
            people = {"technician A": world.a.technician}
        for who, headers in people.items():
            foreign = await call.send(headers, key, world.values)
            missing = await call.send(headers, key, {**world.values, **missing_values()})
            answers.checked["foreign ids"] += 1
            if foreign[0] != expected or foreign != missing:
                wrong.append(
                    Wrong(who, *key, foreign, f"{expected}, as for a missing id: {missing}")
                )


async def _mixed(call: Caller, answers: Answers) -> None:
    """Customer A's own thing in the path, B's elsewhere: a missing thing's answer."""
    world = answers.world
    wrong = answers.wrong.setdefault("foreign ids", [])
    for key, mine, op in MIXED:
        values = {**world.values, **{name: world.a.ids[name] for name in mine}}
        nothing = {k: v for k, v in missing_values().items() if k not in mine}
        foreign = await call.send(world.a.headers, key, values, op)
        missing = await call.send(world.a.headers, key, {**values, **nothing}, op)
        answers.checked["foreign ids"] += 1
        expected = op.expect or 404
        if foreign[0] != expected or foreign != missing:
            wrong.append(
                Wrong(f"customer A, own {mine}", *key, foreign, f"{expected}, as for: {missing}")
            )


async def _owners(call: Caller, answers: Answers, keys: list[tuple[str, str]]) -> None:
    """B reads its own things, technician B their job, A its own lists (naming nothing of B's)."""
    world = answers.world
    wrong = answers.wrong.setdefault("owners", [])
    b_ids = world.private_ids(world.b)
    for key in keys:
        op = OPERATIONS[key]
        if key[0] != "GET":
            continue
        if op.kind == OWN:
            status, _ = await call.send(world.b.headers, key, world.values)
            who = "customer B"
            if op.shared:
                for other, headers in (
                    ("technician B", world.b.technician),
                    ("support", world.support),
                ):
                    answers.checked["owners"] += 1
                    if (seen := await call.send(headers, key, world.values))[0] != 200:
                        wrong.append(Wrong(other, *key, seen, "200"))
        elif op.kind == TECHNICIAN:
            status, _ = await call.send(world.b.technician, key, world.values)
            who = "technician B"
            if "{" not in key[1]:  # technician A's list of jobs names none of B's
                _, body = await call.send(world.a.technician, key, world.values)
                if leaked := sorted(i for i in b_ids if i in body):
                    wrong.append(Wrong("technician A", *key, f"B's ids {leaked}", "none"))
        elif op.kind == SELF:
            status, body = await call.send(world.a.headers, key, world.values)
            who = "customer A"
            if leaked := sorted(i for i in b_ids if i in body):
                wrong.append(Wrong(who, *key, f"B's ids {leaked}", "none"))
        else:
            continue
        answers.checked["owners"] += 1
        if status != 200:
            wrong.append(Wrong(who, *key, status, "200"))


async def _roles(call: Caller, answers: Answers, keys: list[tuple[str, str]]) -> None:
    """Customers and technicians off staff routes; support off admin routes; non-technicians off
    technicians' routes; support on its own routes."""
    world = answers.world
    refused: dict[str, dict[str, dict[str, str]]] = {
        STAFF: {"customer A": world.a.headers, "technician A": world.a.technician},
        ADMIN: {
            "customer A": world.a.headers,
            "technician A": world.a.technician,
            "support": world.support,
        },
        TECHNICIAN: {"customer A": world.a.headers, "support": world.support},
    }
    wrong = answers.wrong.setdefault("roles", [])
    for key in keys:
        for who, headers in refused.get(_kind(key), {}).items():
            status, _ = await call.send(headers, key, world.values)
            answers.checked["roles"] += 1
            if status != 403:
                wrong.append(Wrong(who, *key, status, "403"))
    reach = answers.wrong.setdefault("support reaches", [])
    for key in keys:
        if _kind(key) == STAFF:
            status, detail = await call.send(world.support, key, world.values)
            answers.checked["support reaches"] += 1
            if status in (401, 403) or status >= 500:
                reach.append(Wrong("support", *key, (status, detail), "not 401, 403 or 5xx"))


async def _strangers(call: Caller, answers: Answers, keys: list[tuple[str, str]]) -> None:
    world = answers.world
    wrong = answers.wrong.setdefault("strangers", [])
    for key in keys:
        op = OPERATIONS[key]
        status, detail = await call.send(None, key, world.values)
        answers.checked["strangers"] += 1
        expected = op.expect if op.kind == PUBLIC else 401
        if status != expected:
            wrong.append(Wrong("a stranger", *key, (status, detail[:200]), str(expected)))


async def _ended(call: Caller, answers: Answers, keys: list[tuple[str, str]]) -> None:
    world = answers.world
    wrong = answers.wrong.setdefault("ended", [])
    for key in keys:
        if _kind(key) == PUBLIC:
            continue
        for who, headers in world.refused.items():
            status, _ = await call.send(headers, key, world.values)
            answers.checked["ended"] += 1
            if status != 401:
                wrong.append(Wrong(who, *key, status, "401"))


@pytest.fixture(scope="module")
async def matrix(stack: Stack) -> Answers:
    started = time.monotonic()
    world = await build_world(stack.api, stack.db, stack.settings)
    TIMES["seeding"] = time.monotonic() - started
    started = time.monotonic()
    answers = Answers(world)
    call = Caller(stack, STATUSES)
    keys = sorted(OPERATIONS.keys() & document_operations(DOCUMENT))
    before = await settled_snapshot(stack.db, stack.uploads)
    # Reads first and removals last, so that a removal let through cannot hide a read let through.
    foreign = [k for k in keys if _kind(k) == OWN or (_kind(k) == TECHNICIAN and "{" in k[1])]
    await _foreign_ids(call, answers, sorted(foreign, key=lambda k: WRITES_LAST.index(k[0])))
    await _mixed(call, answers)
    after = await snapshot(stack.db, stack.uploads)
    answers.changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
    await _owners(call, answers, keys)
    await _roles(call, answers, keys)
    await _strangers(call, answers, keys)
    await _ended(call, answers, keys)
    TIMES["requests"] = time.monotonic() - started
    return answers


def _report(wrong: list[Wrong]) -> str:
    return "\n".join(str(w) for w in wrong)


# --- the classification itself -------------------------------------------------------------------


def test_every_operation_is_classified_and_every_entry_is_an_operation() -> None:
    documented = document_operations(DOCUMENT)
    unclassified = sorted(documented - OPERATIONS.keys())
    gone = sorted(OPERATIONS.keys() - documented)
    assert not unclassified, f"operations nobody classified: {unclassified}"
    assert not gone, f"classified operations the API no longer has: {gone}"
    assert {op.kind for op in OPERATIONS.values()} == set(CLASSES)
    for key, op in OPERATIONS.items():
        if op.kind == PUBLIC:
            assert op.expect is not None and op.expect != 401, key
    # Every customer-own probe carries one of a customer's ids (else it would prove nothing).
    for (_, path), op in OPERATIONS.items():
        if op.kind == OWN:
            sent = f"{path} {op.body} {op.query}"
            assert any(f"{{{name}}}" in sent for name in PRIVATE), path


# --- the matrix ----------------------------------------------------------------------------------


def test_strangers_get_401_and_public_routes_answer_them(matrix: Answers) -> None:
    assert matrix.checked["strangers"] == len(OPERATIONS.keys() & document_operations(DOCUMENT))
    assert not matrix.wrong["strangers"], _report(matrix.wrong["strangers"])


def test_another_customers_ids_answer_as_missing_ones_and_change_nothing(
    matrix: Answers,
) -> None:
    assert matrix.checked["foreign ids"] > 50
    assert not matrix.wrong["foreign ids"], _report(matrix.wrong["foreign ids"])
    assert matrix.changed == {}, f"tables changed by refused requests: {matrix.changed}"


def test_the_owners_reach_their_own_things_and_lists_name_nobody_elses(matrix: Answers) -> None:
    assert matrix.checked["owners"] > 20
    assert not matrix.wrong["owners"], _report(matrix.wrong["owners"])


def test_each_role_is_refused_the_routes_of_the_others(matrix: Answers) -> None:
    assert matrix.checked["roles"] > 200
    assert not matrix.wrong["roles"], _report(matrix.wrong["roles"])


def test_support_reaches_the_staff_routes(matrix: Answers) -> None:
    assert matrix.checked["support reaches"] > 30
    assert not matrix.wrong["support reaches"], _report(matrix.wrong["support reaches"])


def test_deactivated_and_signed_out_accounts_get_401_everywhere(matrix: Answers) -> None:
    assert matrix.checked["ended"] > 3 * 100
    assert not matrix.wrong["ended"], _report(matrix.wrong["ended"])
