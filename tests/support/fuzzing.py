"""How the contract tests drive the live API with schemathesis: every check it has, on seeded
data, as a role, counted.

- `CHECKS` is every check schemathesis registers, built-in or not: a newer schemathesis with a
  new check runs it here without anyone listing it (test_openapi_contract asserts the count).
  Where a check cannot judge an answer for a reason that is ours to state, it is scoped out for
  exactly that (a field, an operation's status: `BEYOND_THE_SCHEMA`, `SECRETS`), never for the
  whole run. ignored_auth probes an operation once, as schemathesis's own runner does.
- Generated ids rarely exist, so most cases would end in a 404 before any logic ran. In a valid
  case, a parameter or top-level body field named like a seeded thing (`subscription_id`,
  `plan_id`, ...) gets that role's real value three times in four (decided from the generated
  value, so a seeded run repeats), when the generated value was of the same kind (a UUID for a
  UUID, a date for a date). Invalid cases are sent as generated. (In schemathesis's
  `before_call` hook, after which it reads the case's validity again.)
- The operations that end the caller's session run on a session of their own; when one ends
  every session of the account, the role signs in again. An invalid case that leaves the token
  out on purpose is sent without one.
"""

from __future__ import annotations

import contextvars
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import schemathesis
from schemathesis.checks import CHECKS as REGISTRY
from schemathesis.checks import CheckContext, load_all_checks
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from tests.support.live_api import LiveApi

load_all_checks()
CHECKS: list[Any] = list(REGISTRY.get_all())

# Sent on a session of their own: they end the session they are sent on (logout) or all of the
# account's (logout-all, after which the role signs in again).
ENDS_SESSION = {"/api/v1/auth/logout"}
ENDS_ALL_SESSIONS = {"/api/v1/auth/logout-all"}
STREAM_READ_TIMEOUT_S = 10.0  # a live stream lasts as long as what it follows
REAL_IN = 4  # of every REAL_IN generated ids of a seeded kind, REAL_IN - 1 become real ones

# Schema-valid input the API refuses for what only its data, its clock or its tables can know:
# positive_data_acceptance does not judge a 422 whose every field error is in one of these
# fields (a name on the field's path: `working_hours.sun.0` is in `working_hours`; or
# "<operation> <name>" for one operation only), or names a field that was sent a UUID (a
# reference to a thing: whether it exists, and is the caller's, is the API's state). Any other
# refusal of schema-valid input fails the check.
NUMBERING = "a phone number exists or not by its country's numbering plan, not by a pattern"
ZONES = "a time zone is a name in the server's tz database (it changes with tzdata)"
CLOCK = "a time must lie ahead of now (or within the last 30 days): the clock's rule"
ORDER = "one field's rule depends on another's value: JSON Schema compares no two fields"
SLUGS = "a category named by its slug must exist: the catalog's state"
PLAN_ADDRESS = "a visit needs an address when the plan has none: the plan's state"
REFUNDABLE = "at most what is paid and not yet refunded: the order's state"
CURRENCIES = "a code in ISO 4217's table, with a minor unit, in any case (inr is INR)"
# format: email is the address's syntax; its domain must also not be special-use (RFC 6761's
# registry: .test, .localhost, .invalid...), which email-validator checks and no pattern says.
EMAIL_DOMAINS = "an address at a special-use or reserved domain is refused: RFC 6761's registry"
BEYOND_THE_SCHEMA: dict[str, str] = {
    "phone": NUMBERING,
    "number": NUMBERING,
    "time_zone": ZONES,
    "timezone": ZONES,
    "window_start": CLOCK,
    "window_end": CLOCK,
    "called_at": CLOCK,
    "since": ORDER,
    "until": ORDER,
    "ends_at": ORDER,
    "preferred_from": ORDER,
    "preferred_to": ORDER,
    "parts_cap_minor": ORDER,
    "working_hours": ORDER,
    "quiet_hours": ORDER,
    "price": ORDER,  # a price of 0 needs confirm_free: true
    "currency": CURRENCIES,
    "email": EMAIL_DOMAINS,
    "inclusions": "one inclusion per category: uniqueItems compares whole items, not a field",
    "categories": SLUGS,
    "skills": SLUGS,
    "address_id": PLAN_ADDRESS,
    "POST /api/v1/admin/orders/{order_id}/refunds amount_minor": REFUNDABLE,
}
# Text is trimmed before its length is counted (a name of spaces is no name); JSON Schema counts
# the spaces: a "too short" for text sent with spaces around it is not judged either.
TRIMMED = ("string_too_short", "missing")
# Operations whose refusal of schema-valid input is a secret the caller does not have: a code
# sent to the account's phone or email, an unsubscribe link's signature.
SECRETS: dict[tuple[str, int], str] = {
    (
        "POST /api/v1/auth/verification/{channel}/confirm",
        400,
    ): "the code sent is the only right one",
    ("GET /api/v1/unsubscribe", 400): "the link's token is signed by the server",
    ("POST /api/v1/unsubscribe", 400): "the link's token is signed by the server",
}

# (role, status) -> requests, and the same by operation: the figures of a run.
ANSWERS: Counter[tuple[str, int]] = Counter()
BY_OPERATION: Counter[tuple[str, str, int]] = Counter()
# (role, schemathesis's phase: examples, coverage, fuzzing, stateful) -> requests.
PHASES: Counter[tuple[str, str]] = Counter()

_values: contextvars.ContextVar[Mapping[str, list[Any]] | None] = contextvars.ContextVar(
    "_values", default=None
)


def figures() -> list[str]:
    """The run's figures, one line per role (printed by conftest's terminal summary)."""
    lines = []
    roles = sorted({role for role, _ in ANSWERS})
    for role in roles:
        statuses = {status: n for (who, status), n in sorted(ANSWERS.items()) if who == role}
        phases = ", ".join(f"{p} {n}" for (who, p), n in sorted(PHASES.items()) if who == role)
        lines.append(
            f"contract, as {role}: {sum(statuses.values())} requests ({phases}), "
            f"by status {statuses}"
        )
    if ANSWERS:
        lines.append(f"contract, in all: {sum(ANSWERS.values())} requests")
    return lines


def session() -> requests.Session:
    """Keep-alive connections, and no cookies: a sign-in's cookie would otherwise ride along on
    every later request of the role."""
    s = requests.Session()
    s.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return s


def _kind(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        if str(uuid.UUID(value)) == value:
            return "uuid"
    except ValueError:
        pass
    try:
        date.fromisoformat(value)
        return "date"
    except ValueError:
        return "text"


def _substitute(container: Any, values: Mapping[str, list[Any]]) -> None:
    if not isinstance(container, dict):
        return
    for name, generated in list(container.items()):
        options = values.get(name)
        kind = _kind(generated)
        if not options or kind is None:
            continue
        fitting = [o for o in options if _kind(o) == kind or kind == "text"]
        digest = zlib.crc32(f"{name}={generated}".encode())
        if fitting and digest % REAL_IN:
            container[name] = fitting[(digest // REAL_IN) % len(fitting)]


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Seeded values into a valid case (see the module's docstring), only while `drive` runs: an
    invalid one is sent as generated, so what makes it invalid stays."""
    values = _values.get()
    if values is None or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    _substitute(case.path_parameters, values)
    _substitute(case.query, values)
    _substitute(case.body, values)


@contextmanager
def _seeded(values: Mapping[str, list[Any]] | None) -> Iterator[None]:
    token = _values.set(values)
    try:
        yield
    finally:
        _values.reset(token)


def _positive_data_acceptance(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """schemathesis's check, not judging what `BEYOND_THE_SCHEMA` and `SECRETS` set aside."""
    if (case.operation.label, response.status_code) in SECRETS:
        return None
    if response.status_code == 422 and _beyond_the_schema(response, case):
        return None
    return positive_data_acceptance(ctx, response, case)


_positive_data_acceptance.__name__ = "positive_data_acceptance"


def _beyond_the_schema(response: Any, case: Any) -> bool:
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return False
    return bool(errors) and all(_state_dependent(error, case) for error in errors)


def _state_dependent(error: dict[str, Any], case: Any) -> bool:
    path = [part for part in str(error.get("field") or "").split(".") if part]
    names = [part for part in path if not part.isdigit()]
    if any(
        name in BEYOND_THE_SCHEMA or f"{case.operation.label} {name}" in BEYOND_THE_SCHEMA
        for name in names
    ):
        return True
    sent = {"body": case.body, "query": case.query, "path": case.path_parameters}.get(
        str(error.get("in"))
    )
    for part in path:
        if isinstance(sent, dict):
            sent = sent.get(part)
        elif isinstance(sent, list) and part.isdigit() and int(part) < len(sent):
            sent = sent[int(part)]
        else:
            return False
    if error.get("type") in TRIMMED and isinstance(sent, str) and sent != sent.strip():
        return True
    return _kind(sent) == "uuid"


# Operations ignored_auth has seen refuse a request without credentials and one with wrong ones.
AUTH_ENFORCED: set[str] = set()


def _ignored_auth(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """schemathesis's check, once per operation, as its own runner does: it sends two more
    requests (no token, a wrong one) after a success, and enforcement is the operation's."""
    if case.operation.label in AUTH_ENFORCED:
        return None
    result = ignored_auth(ctx, response, case)
    if 200 <= response.status_code < 300:
        AUTH_ENFORCED.add(case.operation.label)
    return result


_ignored_auth.__name__ = "ignored_auth"
WRAPPED = {positive_data_acceptance: _positive_data_acceptance, ignored_auth: _ignored_auth}


def checks_for(label: str) -> list[Any]:
    """Every check, positive_data_acceptance and ignored_auth as wrapped above."""
    return [WRAPPED.get(check, check) for check in CHECKS]


def streams_of(document: dict[str, Any]) -> set[str]:
    """The paths whose 200 is a live stream (text/event-stream), which lasts as long as what it
    follows: read with a timeout (shorter than its keep-alive) rather than to its end."""
    return {
        path
        for path, item in document["paths"].items()
        for op in item.values()
        if "text/event-stream" in op["responses"].get("200", {}).get("content", {})
    }


def send(
    case: Any,
    live: LiveApi,
    role: str,
    *,
    http: requests.Session,
    streams: set[str],
    values: Mapping[str, list[Any]] | None = None,
    counted: str = "",
) -> tuple[Any, dict[str, str]]:
    """Send `case` as `role` (its token replacing the ones schemathesis makes up for the bearer
    scheme), with seeded `values`, and count the answer: (the response, the headers sent)."""
    token = live.tokens[role]
    if case.path in ENDS_SESSION | ENDS_ALL_SESSIONS:
        token = live.sign_in(role)
    # An invalid case that leaves the token out on purpose is sent without one.
    headers = {} if _drops_authorization(case) else {"Authorization": f"Bearer {token}"}
    bounded = {"timeout": STREAM_READ_TIMEOUT_S} if case.path in streams else {}
    # A made-up framing header (`transfer-encoding: u`nix`) is answered by the HTTP server's
    # parser (uvicorn's, nginx's in production: a plain 400) before any route sees the request:
    # the transport's, not the API's, so the cases carry none.
    for name in [n for n in (case.headers or {}) if n.lower() in FRAMING_HEADERS]:
        del case.headers[name]
    with _seeded(values):
        response = case.call(base_url=live.base_url, headers=headers, session=http, **bounded)
    ANSWERS[(f"{role}{counted}", response.status_code)] += 1
    phase = case.meta.phase.name.value if case.meta is not None else "unknown"
    PHASES[(f"{role}{counted}", phase)] += 1
    BY_OPERATION[(role, f"{case.method} {case.path}", response.status_code)] += 1
    if case.path in ENDS_ALL_SESSIONS and response.status_code < 300:
        live.renew(role)
    return response, headers


FRAMING_HEADERS = frozenset(
    {
        "transfer-encoding",
        "content-length",
        "connection",
        "te",
        "trailer",
        "upgrade",
        "host",
        "expect",
        "keep-alive",
        "proxy-connection",
    }
)


def _drops_authorization(case: Any) -> bool:
    """Whether schemathesis made this case invalid by leaving out the Authorization header."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    data = meta.phase.data
    named = [getattr(data, "parameter", None)] + [
        m.parameter or repr(m.original_value) for m in getattr(data, "mutations", ())
    ]
    return any("authorization" in str(name).lower() for name in named if name)


def drive(
    case: Any,
    live: LiveApi,
    role: str,
    *,
    http: requests.Session,
    values: Mapping[str, list[Any]] | None,
    streams: set[str],
) -> Any:
    """`send`, then every check on the answer."""
    response, headers = send(case, live, role, http=http, streams=streams, values=values)
    case.validate_response(response, checks=checks_for(case.operation.label), headers=headers)
    return response
