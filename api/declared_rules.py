"""Rules the app enforces on every route, written into the OpenAPI document where FastAPI leaves
them out, so the document says what the API takes (a client generated from it, and the contract
tests, rely on that):

- A parameter (path, query, header) is sent or left out; it is never JSON null. FastAPI writes an
  optional one (`str | None`) as "a string or null", which a client can only send as the text
  "null" or an empty value, refused as any other invalid text. A parameter's schema is its
  non-null part; and likewise a body field that may be left out but not sent as null (its model
  says `SkipJsonSchema[None]`) loses the `default: null` pydantic writes for it.
- Text never holds a NUL character (`\\u0000`): `api.boundary.reject_nul` refuses one in any
  path or query parameter and anywhere in a JSON body, since PostgreSQL cannot store it. Every
  string there without a pattern, format or list of values of its own is declared with
  `NUL_FREE`. (A header cannot carry a NUL at all; a form is read by its own route.)
- A live stream's schema is one event (`api.streams.event_stream_content`); FastAPI merges in the
  `type: string` of a body that is not JSON, which is dropped.
"""

from __future__ import annotations

from typing import Any

NUL_FREE = "^[^\\u0000]*$"
JSON_BODY = ("application/json",)
COMPONENTS = "#/components/schemas/"


def declare(document: dict[str, Any]) -> None:
    components: dict[str, Any] = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _without_null(parameter["schema"])
                if parameter["in"] in ("path", "query"):
                    _nul_free(parameter["schema"], components, seen)
            content = operation.get("requestBody", {}).get("content", {})
            for media_type, entry in content.items():
                if media_type in JSON_BODY and "schema" in entry:
                    _nul_free(entry["schema"], components, seen)
            for response in operation.get("responses", {}).values():
                stream = response.get("content", {}).get("text/event-stream", {})
                if "oneOf" in stream.get("schema", {}):
                    stream["schema"].pop("type", None)
    for schema in components.values():
        _no_null_defaults(schema)


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` without its null branch (a parameter is present, or absent)."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list):
        return schema
    kept = [b for b in branches if b != {"type": "null"}]
    if len(kept) == len(branches):
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    if rest.get("default", 0) is None:
        del rest["default"]
    if len(kept) == 1:
        return {**kept[0], **rest}
    return {**rest, "anyOf": kept}


def _nul_free(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    """Declare every plain string under `schema` NUL-free, following references once."""
    if isinstance(schema, list):
        for item in schema:
            _nul_free(item, components, seen)
        return
    if not isinstance(schema, dict):
        return
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith(COMPONENTS):
        name = reference.removeprefix(COMPONENTS)
        if name not in seen and name in components:
            seen.add(name)
            _nul_free(components[name], components, seen)
        return
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(schema):
        schema["pattern"] = NUL_FREE
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        _nul_free(schema.get(key), components, seen)
    for key in ("items", "additionalProperties", "not"):
        _nul_free(schema.get(key), components, seen)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        _nul_free(list(properties.values()), components, seen)
    if isinstance(schema.get("additionalProperties"), dict):
        # Keys are text too, and refused with a NUL like values are.
        schema.setdefault("propertyNames", {"pattern": NUL_FREE})


def _no_null_defaults(schema: Any) -> None:
    """No `default: null` on a property that cannot be null (it may only be left out)."""
    if not isinstance(schema, dict):
        return
    for prop in (schema.get("properties") or {}).values():
        if isinstance(prop, dict) and prop.get("default", 0) is None and not _admits_null(prop):
            del prop["default"]


def _admits_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(
        isinstance(branch, dict) and _admits_null(branch)
        for key in ("anyOf", "oneOf")
        for branch in schema.get(key, [])
    )
