"""The OpenAPI document tells a client the truth: schemathesis drives every operation of the live
API (a real uvicorn and a real worker, over HTTP, on seeded data) with generated requests, valid
and invalid, as a customer, as an admin, and as a technician on the technician's own routes,
and runs every check it has on each answer (tests.support.fuzzing): no server error, and every
status, content type, header and body as the document declares them; invalid input refused and
valid input taken; a method the path does not have answered 405 with its `Allow`; a required
header's absence refused; an operation that needs a token refusing a request without one.

A seeded budget runs in `make test` (the figures are printed at the end of the run); a longer run
is the same test with more examples:

    CONTRACT_EXAMPLES=60 .venv/bin/python -m pytest tests/contract/test_openapi_contract.py

The scenarios that chain operations (a thing created, then read, changed and deleted) are in
test_openapi_stateful.py.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.main import create_app
from tests.conftest import make_settings
from tests.support import fuzzing
from tests.support.fuzz_seed import Seeded
from tests.support.live_api import LiveApi

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "6"))
STAFF_EXAMPLES = 2

# The document as the app builds it (no server needed to read it), loaded at collection so each
# operation is a test of its own. (Loading it lazily from a fixture instead fails on pytest 9.2:
# schemathesis 4.32 renames the test node through an attribute pytest no longer has.)
DOCUMENT = create_app(make_settings()).openapi()
STREAMS = fuzzing.streams_of(DOCUMENT)
STAFF_PATHS = "^/api/v1/(admin|technician)/"
TECHNICIAN_PATHS = "^/api/v1/technician/"


def _schema(*, coverage: bool = True) -> Any:
    loaded = schemathesis.openapi.from_dict(DOCUMENT)
    # A stream that opens (the live dashboard, a service request's events) lasts until the
    # client leaves: the contract reads its first event (the next may be minutes away) and
    # hangs up.
    loaded.config.max_stream_events = 1
    loaded.config.phases.coverage.enabled = coverage
    return loaded


schema = _schema()
customer_schema = schema.exclude(path_regex=STAFF_PATHS)
technician_schema = schema.include(path_regex=TECHNICIAN_PATHS)
# A customer is refused every staff route (403) whatever the input: a few generated requests
# each (and no coverage phase, whose hundreds of input variants would all meet the same 403).
staff_schema = _schema(coverage=False).include(path_regex=STAFF_PATHS)


@pytest.fixture(scope="module")
def http() -> Any:
    with fuzzing.session() as s:
        yield s


def _drive(case: Any, seeded_api: tuple[LiveApi, Seeded], role: str, http: Any) -> None:
    live, seeded = seeded_api
    fuzzing.drive(case, live, role, http=http, values=seeded.values[role], streams=STREAMS)


# Seeded (derandomize): the same examples on every run, so a failure here reproduces.
CONTRACT_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@customer_schema.parametrize()
@CONTRACT_SETTINGS
def test_every_operation_answers_a_customer_as_documented(
    case: Any, seeded_api: tuple[LiveApi, Seeded], http: Any
) -> None:
    _drive(case, seeded_api, "customer", http)


@staff_schema.parametrize()
@settings(CONTRACT_SETTINGS, max_examples=STAFF_EXAMPLES)
def test_every_staff_operation_refuses_a_customer_as_documented(
    case: Any, seeded_api: tuple[LiveApi, Seeded], http: Any
) -> None:
    _drive(case, seeded_api, "customer", http)


@technician_schema.parametrize()
@CONTRACT_SETTINGS
def test_the_technicians_operations_answer_a_technician_as_documented(
    case: Any, seeded_api: tuple[LiveApi, Seeded], http: Any
) -> None:
    _drive(case, seeded_api, "technician", http)


@schema.parametrize()
@CONTRACT_SETTINGS
def test_every_operation_answers_an_admin_as_documented(
    case: Any, seeded_api: tuple[LiveApi, Seeded], http: Any
) -> None:
    _drive(case, seeded_api, "admin", http)


def test_every_check_schemathesis_has_runs() -> None:
    """The checks are taken from schemathesis's registry, not listed here: this says how many
    there are in the version pinned, so an upgrade that adds one is noticed."""
    names = {check.__name__ for check in fuzzing.CHECKS}
    assert len(names) == 14, sorted(names)
    assert {"use_after_free", "ensure_resource_availability", "ignored_auth"} <= names


# --- the document itself ------------------------------------------------------------------------


def test_every_error_an_operation_declares_is_problem_json() -> None:
    document = create_app(make_settings()).openapi()
    checked = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    expected = (
                        # The unsubscribe link's pages too, for a person in a browser (who is
                        # shown a 400 page for invalid input, never a 422).
                        ["application/problem+json", "text/html"]
                        if path == "/api/v1/unsubscribe" and status != "422"
                        else ["application/problem+json"]
                    )
                    assert list(response["content"]) == expected, (where, status)
                    checked += 1
            if op.get("security"):  # a bearer token is needed
                assert "401" in op["responses"], where
            if path.startswith("/api/v1/admin/"):
                assert "403" in op["responses"], where
    assert checked > 150
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_sign_up_schema_says_an_email_or_a_phone_is_needed() -> None:
    schema = create_app(make_settings()).openapi()["components"]["schemas"]["RegisterIn"]
    assert {"required": ["email"]}.items() <= schema["anyOf"][0].items()
    assert {"required": ["phone"]}.items() <= schema["anyOf"][1].items()
