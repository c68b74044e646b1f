"""A method a path does not have is a 405 whose `Allow` names every method the path has (RFC
9110, 15.5.6), exactly those the OpenAPI document lists for it (and HEAD where GET answers it,
the public catalog). A path one route names literally is that resource only: `GET
/admin/campaigns/preview` is not the campaign "preview" but a 405 naming POST."""

from __future__ import annotations

import re
from typing import Any

import httpx

from api.methods import ORDER

TRIED = ("GET", "POST", "PUT", "PATCH", "DELETE")
# (A browser's Accept would get the unsubscribe link's error page instead: api.errors.)
JSON = {"Accept": "application/json"}


def _expected(path: str, declared: set[str]) -> str:
    methods = set(declared)
    if path.startswith("/api/v1/catalog/") and "GET" in methods:
        methods.add("HEAD")
    return ", ".join(m for m in ORDER if m in methods)


async def test_every_path_answers_an_undeclared_method_with_405_naming_its_methods(
    app: Any, api: httpx.AsyncClient
) -> None:
    checked = 0
    for path, item in app.openapi()["paths"].items():
        declared = {method.upper() for method in item}
        url = "http://test" + re.sub(r"\{[^}]+\}", "x", path)  # /healthz is not under /api/v1
        for method in (m for m in TRIED if m not in declared):
            answer = await api.request(method, url, headers=JSON)
            where = f"{method} {path}"
            assert answer.status_code == 405, (where, answer.text)
            assert answer.headers["allow"] == _expected(path, declared), where
            assert answer.headers["content-type"] == "application/problem+json", where
            checked += 1
        options = await api.options(url, headers=JSON)
        assert options.status_code == 405, path
        assert options.headers["allow"] == _expected(path, declared), path
    assert checked > 300


async def test_a_literal_path_is_not_taken_for_an_id_of_its_neighbour(
    api: httpx.AsyncClient,
) -> None:
    for method, url, allowed in (
        ("GET", "/admin/campaigns/preview", "POST"),
        ("PATCH", "/admin/catalog/plans/reorder", "POST"),
        ("DELETE", "/admin/catalog/categories/reorder", "POST"),
    ):
        answer = await api.request(method, url)
        assert answer.status_code == 405, (method, url, answer.text)
        assert answer.headers["allow"] == allowed, url
    # The id routes beside them still read their ids (and refuse one that is not).
    assert (await api.get("/admin/campaigns/not-an-id")).status_code in (401, 422)
