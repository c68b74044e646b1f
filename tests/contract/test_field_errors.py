"""Invalid input is reported at the field it is about, in the validator's own words: a cross-field
rule (a window's end before its start, neither contact given) names the field an app shows the
message beside, and no message carries pydantic's "Value error, " prefix."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

import domain
from tests.conftest import bearer, register
from tests.support.request_helpers import ask, shop, window

PREFIXES = ("Value error", "Assertion failed")


def _errors(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    body = response.json()
    errors: list[dict[str, Any]] = body["errors"]
    for error in errors:
        assert not error["message"].startswith(PREFIXES), error
    assert not body["detail"].split(": ", 1)[-1].startswith(PREFIXES), body["detail"]
    return errors


async def test_a_reversed_callback_window_is_refused_at_preferred_to(
    api: httpx.AsyncClient,
) -> None:
    headers = bearer((await register(api, "reversed@example.com"))["tokens"])
    refused = await api.post(
        "/support/callbacks",
        json={
            "reason": "billing",
            "phone": "+919800000001",
            "preferred_from": "2030-01-10T12:00:00+05:30",
            "preferred_to": "2030-01-10T10:00:00+05:30",
        },
        headers=headers,
    )
    [error] = _errors(refused)
    assert error["field"] == "preferred_to"
    assert error["message"] == "the window is reversed: preferred_to must be after preferred_from"
    assert refused.json()["detail"] == f"preferred_to: {error['message']}"

    half = await api.post(
        "/support/callbacks",
        json={"reason": "billing", "preferred_from": "2030-01-10T12:00:00+05:30"},
        headers=headers,
    )
    [error] = _errors(half)
    assert error["field"] == "preferred_to"


async def test_registering_with_no_contact_is_refused_at_email(api: httpx.AsyncClient) -> None:
    refused = await api.post("/auth/register", json={"password": "correct horse battery"})
    [error] = _errors(refused)
    assert (error["field"], error["message"]) == ("email", "give an email or a phone number")


async def test_a_field_validators_message_has_no_prefix(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    body = {
        "name": "Twice Listed",
        "phone": "+919800000002",
        "skills": ["plumbing"],
        "zones": ["560001", "560001"],
        "working_hours": {"mon": [["09:00", "18:00"]]},
        "timezone": "Asia/Kolkata",
    }
    refused = await api.post("/admin/technicians", json=body, headers=s.admin)
    [error] = _errors(refused)
    assert error["field"] == "zones"
    assert error["message"] == "postal code '560001' is listed twice"


async def test_a_reversed_visit_window_says_it_is_reversed(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)
    start, end = window(hours=3)
    refused = await ask(api, s, when=(end, start))
    [error] = _errors(refused)
    assert error["field"] == "window_end"
    assert error["message"] == "the window is reversed: window_end must be after window_start"


# --- every cross-field validator names its field --------------------------------------------------


def _models() -> Iterator[type[BaseModel]]:
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        loaded = importlib.import_module(module.name)
        for _, value in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == module.name:
                yield value


def _bare_raises(function: Any) -> list[str]:
    """`raise ValueError(...)` / `raise AssertionError(...)` / `assert` in a validator's body."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found.append("assert")
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = getattr(node.exc.func, "id", None)
            if name in ("ValueError", "AssertionError"):
                found.append(f"raise {name}")
    return found


def test_every_model_validator_names_the_field_it_is_about() -> None:
    """A model-level validator sees the whole model, so pydantic cannot tell which field its
    error is about: it must raise `FieldProblem(field, message)`, not a bare ValueError."""
    checked, offenders = 0, []
    for model in _models():
        for name, decorator in model.__pydantic_decorators__.model_validators.items():
            checked += 1
            bare = _bare_raises(decorator.func)
            if bare:
                offenders.append(f"{model.__module__}.{model.__name__}.{name}: {', '.join(bare)}")
    assert checked >= 7, "the walk found the model validators"
    assert offenders == []
