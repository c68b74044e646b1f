"""What the API refuses in every parameter, the document declares (api.declared_rules): a NUL
character in a path or query parameter's text (and in a JSON body's), and a parameter is sent or
left out, never null. Checked on the document, and on the API for a few of them."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from api.declared_rules import NUL_FREE
from tests.conftest import register


def _parameters(app: Any) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", parameter)
        for path, item in app.openapi()["paths"].items()
        for method, op in item.items()
        for parameter in op.get("parameters", [])
    ]


def test_every_parameter_is_declared_present_or_absent_never_null(app: Any) -> None:
    parameters = _parameters(app)
    for where, parameter in parameters:
        assert "null" not in str(parameter["schema"]), (where, parameter["name"])
    assert len(parameters) > 200


def test_every_free_text_path_or_query_parameter_is_declared_without_nul(app: Any) -> None:
    checked = 0
    for where, parameter in _parameters(app):
        schema = parameter["schema"]
        plain = schema.get("type") == "string" and not {"format", "enum", "const"} & set(schema)
        if parameter["in"] in ("path", "query") and plain:
            assert re.fullmatch(schema["pattern"], "plumbing"), (where, parameter["name"])
            assert not re.search(schema["pattern"], "plumb\x00ing"), (where, parameter["name"])
            checked += 1
    assert checked > 15
    assert re.fullmatch(NUL_FREE.replace("\\u0000", "\\x00"), "") is not None


def test_every_free_text_field_of_a_json_body_is_declared_without_nul(app: Any) -> None:
    schemas = app.openapi()["components"]["schemas"]
    for name in ("RegisterIn", "CategoryCreate", "AddressIn", "CallbackIn"):
        for field, schema in schemas[name]["properties"].items():
            for branch in schema.get("anyOf", [schema]):
                if branch.get("type") == "string" and not {"format", "enum"} & set(branch):
                    assert "pattern" in branch, (name, field)


async def test_a_nul_in_a_query_parameter_is_refused_naming_it(api: httpx.AsyncClient) -> None:
    answer = await api.get("/catalog/plans", params={"category": "plumb\x00ing"})
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert (error["field"], error["in"]) == ("category", "query")


async def test_last_event_id_is_declared_and_read_as_a_whole_number(
    app: Any, api: httpx.AsyncClient
) -> None:
    (header,) = [
        p
        for where, p in _parameters(app)
        if where == "GET /api/v1/service-requests/{request_id}/events"
        and p["name"] == "Last-Event-ID"
    ]
    assert header["in"] == "header"
    assert {"type": "integer", "minimum": 0}.items() <= header["schema"].items()

    tokens = (await register(api, "asha@example.com"))["tokens"]
    for written in ("abc", "-1", "1.5"):
        answer = await api.get(
            f"/service-requests/{uuid.uuid4()}/events",
            headers={"Authorization": f"Bearer {tokens['access_token']}", "Last-Event-ID": written},
        )
        assert answer.status_code == 422, (written, answer.text)
        (error,) = answer.json()["errors"]
        assert (error["field"], error["in"]) == ("Last-Event-ID", "header"), written


def test_a_field_that_may_be_left_out_but_not_null_is_not_offered_as_null(app: Any) -> None:
    schemas = app.openapi()["components"]["schemas"]
    for model, field in (
        ("PayerForm", "return_to"),
        ("CategoryUpdate", "slug"),
        ("CategoryUpdate", "is_active"),
        ("PlanUpdate", "price"),
        ("TechnicianUpdate", "phone"),
    ):
        schema = schemas[model]["properties"][field]
        assert "null" not in str(schema) and "default" not in schema, (model, field)
    # Where null means something (no icon, no email), it is still offered.
    assert {"type": "null"} in schemas["CategoryUpdate"]["properties"]["icon"]["anyOf"]
    assert {"type": "null"} in schemas["TechnicianUpdate"]["properties"]["email"]["anyOf"]


async def test_null_for_a_field_that_may_only_be_left_out_is_refused_naming_it(
    api: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    answer = await api.patch(
        f"/admin/catalog/categories/{uuid.uuid4()}", json={"slug": None}, headers=admin_headers
    )
    assert answer.status_code == 422, answer.text
    (error,) = answer.json()["errors"]
    assert (error["field"], error["message"]) == ("slug", "may be left out, but not null")


def test_the_document_says_what_only_the_api_knew(app: Any) -> None:
    schemas = app.openapi()["components"]["schemas"]
    # Ids to reorder are listed once each.
    assert schemas["ReorderIn"]["properties"]["ids"]["uniqueItems"] is True
    # Only topics with choices can be changed (security's codes always go out).
    (topics,) = [
        branch
        for branch in schemas["NotificationSettingsPatch"]["properties"]["topics"]["anyOf"]
        if branch.get("type") == "object"
    ]
    assert "security" not in topics["properties"] and topics["additionalProperties"] is False
    assert topics["properties"]["promotions"] == {"$ref": "#/components/schemas/ChannelChoices"}
    # A transactional topic's inbox stays on.
    assert {"const": True} in topics["properties"]["orders"]["properties"]["in_app"]["anyOf"]


def test_a_live_stream_is_declared_event_by_event(app: Any) -> None:
    paths = app.openapi()["paths"]
    for path, events in (
        ("/api/v1/service-requests/{request_id}/events", {"state", "change", "reauth"}),
        ("/api/v1/admin/dashboard/events", {"dashboard", "reauth"}),
    ):
        stream = paths[path]["get"]["responses"]["200"]["content"]["text/event-stream"]
        branches = stream["schema"]["oneOf"]
        assert {b["properties"]["event"]["const"] for b in branches} == events, path
        for branch in branches:
            data = branch["properties"]["data"]
            assert data["contentMediaType"] == "application/json", path
            assert data["contentSchema"]["type"] == "object", path
