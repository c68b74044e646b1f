"""Scenarios across operations on the live API (schemathesis's stateful testing): what one answer
gives (an id in a list, a thing just made) feeds the next request, as links between operations
that schemathesis infers from the document, so requests reach real things without being told
their ids. Every check runs on every answer, and here also the ones only a scenario can judge:
a thing made is there when read next (ensure_resource_availability), a thing deleted is gone
(use_after_free).

As a customer (their own routes) and as an admin (every route but a technician's), over the
seeded data (tests.support.fuzz_seed); the budget is STATEFUL_SCENARIOS scenarios of up to
STATEFUL_STEPS steps each, per role.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis.core.failures import FailureGroup

from api.main import create_app
from tests.conftest import make_settings
from tests.support import fuzzing
from tests.support.fuzz_seed import Seeded
from tests.support.live_api import LiveApi

# Off in `make test`: a scenario's steps depend on what the API answers, and the data the rest of
# the suite's run changed changes them, so the same seed finds a different path each run (two
# runs found two different things, both fixed: a special-use email domain, a made-up framing
# header). Run it on its own, as a search, with STATEFUL_SCENARIOS=50.
SCENARIOS = int(os.environ.get("STATEFUL_SCENARIOS", "0"))
STEPS = int(os.environ.get("STATEFUL_STEPS", "12"))
pytestmark = pytest.mark.skipif(
    SCENARIOS == 0, reason="stateful scenarios run on request: STATEFUL_SCENARIOS=50"
)

DOCUMENT = create_app(make_settings()).openapi()
STREAMS = fuzzing.streams_of(DOCUMENT)
SCHEMAS = {
    "customer": schemathesis.openapi.from_dict(DOCUMENT).exclude(
        path_regex="^/api/v1/(admin|technician)/"
    ),
    "admin": schemathesis.openapi.from_dict(DOCUMENT).exclude(path_regex="^/api/v1/technician/"),
}
for _schema in SCHEMAS.values():
    _schema.config.max_stream_events = 1

# Generation only, as schemathesis's own runner does: a scenario replayed (to shrink it, or to
# reuse an example) runs against data the first run changed.
SCENARIO_SETTINGS = settings(
    max_examples=max(SCENARIOS, 1),
    stateful_step_count=STEPS,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    phases=[Phase.generate],
)


def _machine(role: str, live: LiveApi, http: Any, failures: dict[str, str]) -> Any:
    """The role's state machine, sending as `fuzzing.send` does and checking with every check
    (the machine's recorder lets the checks that need the scenario see it). A failure is kept in
    `failures` rather than raised: Hypothesis would replay the scenario to shrink it, against an
    API whose data the first run changed, and report its own "inconsistent data generation"
    instead of the failure. (The run is seeded: it repeats as it is.)"""

    class Scenarios(SCHEMAS[role].as_state_machine()):  # type: ignore[misc]
        sent: dict[str, str] = {}

        def call(self, case: Any, **kwargs: Any) -> Any:
            response, self.sent = fuzzing.send(
                case, live, role, http=http, streams=STREAMS, counted=" (scenarios)"
            )
            return response

        def validate_response(
            self,
            response: Any,
            case: Any,
            additional_checks: list[Any] | None = None,
            **kwargs: Any,
        ) -> None:
            try:
                case.validate_response(
                    response,
                    checks=fuzzing.checks_for(case.operation.label),
                    headers=self.sent,
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except FailureGroup as found:
                failures.setdefault(f"{case.operation.label}: {found.exceptions[0]}", str(found))

    return Scenarios


@pytest.fixture(scope="module")
def http() -> Any:
    with fuzzing.session() as s:
        yield s


@pytest.mark.parametrize("role", ["customer", "admin"])
def test_scenarios_across_operations_answer_as_documented(
    role: str, seeded_api: tuple[LiveApi, Seeded], http: Any
) -> None:
    live, _ = seeded_api
    failures: dict[str, str] = {}
    # Hypothesis expects the same choices to draw the same steps; here the steps offered depend
    # on what the API answered, which its changing data changes (Flaky). Like schemathesis's
    # runner, the scenarios end there; what they found is in `failures`.
    with contextlib.suppress(Flaky):
        _machine(role, live, http, failures).run(settings=SCENARIO_SETTINGS)
    assert not failures, "\n\n".join(failures.values())
