"""Who may call each operation of the API: the classification the authorization matrix
(tests/contract/test_authorization_matrix.py) walks, one entry per operation of the OpenAPI
document (method and path template). An operation nobody classified fails the matrix, and so does
an entry whose operation is gone.

The classes:

- PUBLIC: anyone, without a token. `expect` is what a stranger gets for the request described
  (never 401).
- SELF: any signed-in user's own account (no id of anyone's thing in the request).
- OWN: a customer's own things, named by id (in the path; or in the body or query, `expect` then
  says the answer, 422 on the field where that is the route's documented answer). Anyone else gets
  the answer a missing id gets: 404 for an id in the path.
- TECHNICIAN: a technician's own jobs; anyone who is not a technician gets 403, another
  technician 404.
- STAFF: support or admin; customers and technicians get 403.
- ADMIN: admin only; support gets 403 too.

Strings like "{order_id}" in a path, body or query are filled with B's ids and the world's values
(tests/support/authz_world.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PUBLIC, SELF, OWN, TECHNICIAN, STAFF, ADMIN = (
    "public",
    "self",
    "customer-own",
    "technician-own",
    "support",
    "admin",
)
CLASSES = (PUBLIC, SELF, OWN, TECHNICIAN, STAFF, ADMIN)
APP_CSRF = {"X-Requested-With": "homeplans-app"}
ADMIN_CSRF = {"X-Requested-With": "homeplans-admin"}


@dataclass(frozen=True)
class Op:
    kind: str
    body: Any = None  # a JSON body (templates filled)
    query: dict[str, str] | None = None
    form: dict[str, str] | None = None  # a form body instead
    photo: bool = False  # a multipart body with a photo
    headers: dict[str, str] | None = None
    expect: int | None = None  # PUBLIC: a stranger's answer; OWN: the foreign id's, if not 404
    stream: bool = False  # text/event-stream: served by a live server, status read only
    shared: bool = False  # OWN: the request's technician and staff read it too
    # PUBLIC phone sign-in: the world's value naming the phone a code is sent to first.
    code_for: str | None = None


WINDOW = {"window_start": "{window_start}", "window_end": "{window_end}"}
FREE_WINDOWS = {
    "subscription_id": "{subscription_id}",
    "category_id": "{category_id}",
    "day": "{day}",
}
ASK = {
    "subscription_id": "{subscription_id}",
    "category_id": "{category_id}",
    "description": "The tap drips.",
    **WINDOW,
}
SIGN_IN = {"identifier": "{spare_email}", "password": "{password}"}


def stranger(tag: str) -> dict[str, str]:
    return {
        "email": f"authz-stranger-{tag}@example.com",
        "password": "{password}",
        "name": "Stranger",
    }


V1 = "/api/v1"
OPERATIONS: dict[tuple[str, str], Op] = {
    # --- health, catalog, the app's configuration, the support line --------------------------
    ("GET", "/healthz"): Op(PUBLIC, expect=200),
    ("GET", "/readyz"): Op(PUBLIC, expect=200),
    ("GET", f"{V1}/catalog/categories"): Op(PUBLIC, expect=200),
    ("GET", f"{V1}/catalog/plans"): Op(PUBLIC, expect=200),
    ("GET", f"{V1}/catalog/plans/{{plan}}"): Op(PUBLIC, expect=200),
    ("GET", f"{V1}/app/config"): Op(PUBLIC, expect=200),
    ("GET", f"{V1}/support"): Op(PUBLIC, expect=200),
    # --- signing in and out --------------------------------------------------------------------
    ("POST", f"{V1}/auth/register"): Op(PUBLIC, body=stranger("token"), expect=201),
    ("POST", f"{V1}/auth/login"): Op(PUBLIC, body=SIGN_IN, expect=200),
    ("POST", f"{V1}/auth/refresh"): Op(
        PUBLIC, body={"refresh_token": "{spare_refresh}"}, expect=200
    ),
    ("POST", f"{V1}/auth/phone/start"): Op(PUBLIC, body={"phone": "+919812377999"}, expect=202),
    ("POST", f"{V1}/auth/phone/verify"): Op(PUBLIC, code_for="tech_a_phone", expect=200),
    ("POST", f"{V1}/auth/firebase"): Op(PUBLIC, body={"id_token": "x" * 40}, expect=404),
    ("POST", f"{V1}/auth/web/login"): Op(
        PUBLIC, body={"identifier": "{support_email}", "password": "{password}"}, expect=200
    ),
    ("POST", f"{V1}/auth/web/refresh"): Op(PUBLIC, headers=ADMIN_CSRF, expect=204),
    ("POST", f"{V1}/auth/web/logout"): Op(PUBLIC, headers=ADMIN_CSRF, expect=204),
    ("POST", f"{V1}/auth/app/register"): Op(PUBLIC, body=stranger("app"), expect=201),
    ("POST", f"{V1}/auth/app/login"): Op(PUBLIC, body=SIGN_IN, expect=200),
    ("POST", f"{V1}/auth/app/phone/verify"): Op(PUBLIC, code_for="tech_b_phone", expect=200),
    ("POST", f"{V1}/auth/app/firebase"): Op(PUBLIC, body={"id_token": "x" * 40}, expect=404),
    ("POST", f"{V1}/auth/app/refresh"): Op(PUBLIC, headers=APP_CSRF, expect=204),
    ("POST", f"{V1}/auth/app/logout"): Op(PUBLIC, headers=APP_CSRF, expect=204),
    ("POST", f"{V1}/auth/logout"): Op(SELF),
    ("POST", f"{V1}/auth/logout-all"): Op(SELF),
    ("POST", f"{V1}/auth/verification/{{channel}}"): Op(SELF),
    ("POST", f"{V1}/auth/verification/{{channel}}/resend"): Op(SELF),
    ("POST", f"{V1}/auth/verification/{{channel}}/confirm"): Op(SELF, body={"code": "123456"}),
    # --- payments' pages and webhooks, the unsubscribe link -------------------------------------
    ("GET", f"{V1}/sandbox/payments/{{session_id}}"): Op(PUBLIC, expect=200),
    ("POST", f"{V1}/sandbox/payments/{{session_id}}/approve"): Op(
        PUBLIC, form={"client_secret": "not-the-secret"}, expect=404
    ),
    ("POST", f"{V1}/sandbox/payments/{{session_id}}/decline"): Op(
        PUBLIC, form={"client_secret": "not-the-secret"}, expect=404
    ),
    ("POST", f"{V1}/webhooks/{{provider}}"): Op(PUBLIC, body={}, expect=404),
    ("GET", f"{V1}/unsubscribe"): Op(PUBLIC, query={"token": "{unsubscribe_token}"}, expect=200),
    ("POST", f"{V1}/unsubscribe"): Op(PUBLIC, query={"token": "{unsubscribe_token}"}, expect=200),
    # --- the account ---------------------------------------------------------------------------
    ("GET", f"{V1}/me"): Op(SELF),
    ("PATCH", f"{V1}/me"): Op(SELF, body={"name": "Renamed"}),
    ("POST", f"{V1}/me/password"): Op(SELF, body={"current_password": "x", "new_password": "y"}),
    ("GET", f"{V1}/me/addresses"): Op(SELF),
    ("POST", f"{V1}/me/addresses"): Op(SELF, body={}),
    ("GET", f"{V1}/me/addresses/{{address_id}}"): Op(OWN),
    ("PATCH", f"{V1}/me/addresses/{{address_id}}"): Op(OWN, body={"city": "Mysuru"}),
    ("DELETE", f"{V1}/me/addresses/{{address_id}}"): Op(OWN),
    ("GET", f"{V1}/me/payment-methods"): Op(SELF),
    ("POST", f"{V1}/me/payment-methods"): Op(SELF, body={}),
    ("DELETE", f"{V1}/me/payment-methods/{{method_id}}"): Op(OWN),
    ("GET", f"{V1}/me/notifications"): Op(SELF),
    ("GET", f"{V1}/me/notifications/unread-count"): Op(SELF),
    ("POST", f"{V1}/me/notifications/{{message_id}}/read"): Op(OWN),
    ("POST", f"{V1}/me/notifications/read-all"): Op(SELF),
    ("GET", f"{V1}/me/devices"): Op(SELF),
    ("PUT", f"{V1}/me/devices"): Op(SELF, body={}),
    ("DELETE", f"{V1}/me/devices/{{token}}"): Op(OWN),
    ("GET", f"{V1}/me/notification-settings"): Op(SELF),
    ("PATCH", f"{V1}/me/notification-settings"): Op(SELF, body={}),
    # --- buying --------------------------------------------------------------------------------
    ("GET", f"{V1}/cart"): Op(SELF),
    ("POST", f"{V1}/cart"): Op(
        OWN, body={"plan_id": "{plan_id}", "address_id": "{address_id}"}, expect=422
    ),
    ("PATCH", f"{V1}/cart/items/{{item_id}}"): Op(OWN, body={"refresh": True}),
    ("DELETE", f"{V1}/cart/items/{{item_id}}"): Op(OWN),
    ("POST", f"{V1}/checkout"): Op(OWN, body={"item_ids": ["{item_id}"]}, expect=422),
    ("POST", f"{V1}/orders/{{order_id}}/confirm"): Op(OWN, body={"session_id": "sbx_confirmed"}),
    ("GET", f"{V1}/orders/{{order_id}}/checkout"): Op(OWN),
    ("GET", f"{V1}/orders"): Op(SELF),
    ("GET", f"{V1}/orders/{{order_id}}"): Op(OWN),
    ("GET", f"{V1}/orders/{{order_id}}/receipt"): Op(OWN),
    # --- plans held ----------------------------------------------------------------------------
    ("GET", f"{V1}/subscriptions"): Op(SELF),
    ("GET", f"{V1}/subscriptions/{{subscription_id}}"): Op(OWN),
    ("POST", f"{V1}/subscriptions/{{subscription_id}}/renew"): Op(OWN),
    ("PUT", f"{V1}/subscriptions/{{subscription_id}}/auto-renew"): Op(OWN, body={"enabled": False}),
    ("POST", f"{V1}/subscriptions/{{subscription_id}}/cancellation-quote"): Op(OWN),
    ("POST", f"{V1}/subscriptions/{{subscription_id}}/cancel"): Op(
        OWN, body={"quote_id": "{quote_id}"}
    ),
    # --- visits --------------------------------------------------------------------------------
    ("GET", f"{V1}/service-requests/free-windows"): Op(OWN, query=FREE_WINDOWS),
    ("POST", f"{V1}/service-requests"): Op(OWN, body=ASK),
    ("GET", f"{V1}/service-requests"): Op(SELF),
    ("GET", f"{V1}/service-requests/{{request_id}}"): Op(OWN),
    ("POST", f"{V1}/service-requests/{{request_id}}/reschedule"): Op(OWN, body=WINDOW),
    ("POST", f"{V1}/service-requests/{{request_id}}/cancel"): Op(OWN, body={}),
    ("POST", f"{V1}/service-requests/{{request_id}}/rating"): Op(OWN, body={"stars": 1}),
    ("POST", f"{V1}/service-requests/{{request_id}}/photos"): Op(OWN, photo=True),
    ("GET", f"{V1}/service-requests/{{request_id}}/photos"): Op(OWN, shared=True),
    ("GET", f"{V1}/service-requests/{{request_id}}/photos/{{photo_id}}"): Op(OWN, shared=True),
    ("DELETE", f"{V1}/service-requests/{{request_id}}/photos/{{photo_id}}"): Op(OWN),
    ("GET", f"{V1}/service-requests/{{request_id}}/events"): Op(OWN, shared=True, stream=True),
    ("GET", f"{V1}/technician/jobs"): Op(TECHNICIAN),
    ("GET", f"{V1}/technician/jobs/{{request_id}}"): Op(TECHNICIAN),
    ("POST", f"{V1}/technician/jobs/{{request_id}}/start"): Op(TECHNICIAN),
    ("POST", f"{V1}/technician/jobs/{{request_id}}/complete"): Op(
        TECHNICIAN, body={"notes": "Not my job."}
    ),
    # --- support -------------------------------------------------------------------------------
    ("POST", f"{V1}/support/callbacks"): Op(SELF, body={}),
    ("GET", f"{V1}/support/callbacks"): Op(SELF),
    ("GET", f"{V1}/support/callbacks/{{callback_id}}"): Op(OWN),
    ("POST", f"{V1}/support/callbacks/{{callback_id}}/cancel"): Op(OWN),
}

# Staff routes: (method, path under /api/v1/admin), support's or the admin's.
_STAFF = """
GET users | GET users/{user_id} | GET users/{user_id}/notifications | GET transactions
GET orders | GET orders/{order_id} | GET orders/{order_id}/receipt | GET subscriptions
GET subscriptions/{subscription_id} | GET technicians | GET technicians/{technician_id}
GET time-zones | GET service-requests | GET service-requests/{request_id}
GET service-requests/{request_id}/suggestions | GET callbacks | GET callbacks/{callback_id}
POST callbacks/{callback_id}/take | POST callbacks/{callback_id}/assign
POST callbacks/{callback_id}/calls | GET callbacks/{callback_id}/history
POST callbacks/{callback_id}/close | GET users/{user_id}/calls | POST users/{user_id}/calls
GET payments | GET payments/{order_id} | GET users/{user_id}/overview | GET campaigns
POST campaigns/preview | GET campaigns/{campaign_id} | GET campaigns/{campaign_id}/audience
GET campaigns/{campaign_id}/message | GET campaigns/{campaign_id}/progress | GET dashboard
GET dispatch/board | GET search
"""
_ADMIN = """
PATCH users/{user_id} | GET catalog/categories | POST catalog/categories
POST catalog/categories/reorder | POST catalog/categories/{category_id}/move
PATCH catalog/categories/{category_id} | POST catalog/categories/{category_id}/deactivate
POST catalog/categories/{category_id}/activate | GET catalog/plans | POST catalog/plans
POST catalog/plans/reorder | POST catalog/plans/{plan_id}/move | GET catalog/plans/{plan_id}
PATCH catalog/plans/{plan_id} | DELETE catalog/plans/{plan_id}
GET catalog/plans/{plan_id}/versions | POST catalog/plans/{plan_id}/publish
POST catalog/plans/{plan_id}/archive | POST orders/{order_id}/refunds
POST subscriptions/{subscription_id}/extend | POST subscriptions/{subscription_id}/cancel
POST technicians | PATCH technicians/{technician_id} | POST technicians/{technician_id}/time-off
DELETE technicians/{technician_id}/time-off/{time_off_id}
POST service-requests/{request_id}/assign | POST service-requests/{request_id}/reassign
POST service-requests/{request_id}/start | POST service-requests/{request_id}/complete
POST service-requests/{request_id}/cancel | GET audit | POST campaigns
POST campaigns/{campaign_id}/test | POST campaigns/{campaign_id}/start
POST campaigns/{campaign_id}/pause | POST campaigns/{campaign_id}/resume
POST campaigns/{campaign_id}/cancel | GET reports/activity | GET reports/daily
GET reports/daily/{day}
"""
for _kind, _listed in ((STAFF, _STAFF), (ADMIN, _ADMIN)):
    for _entry in _listed.replace("\n", " | ").split("|"):
        if _entry.strip():
            _method, _path = _entry.split()
            OPERATIONS[(_method, f"{V1}/admin/{_path}")] = Op(
                _kind, body=None if _method == "GET" else {}
            )
# The live dashboard is a stream; the revenue report is also a CSV download.
OPERATIONS[("GET", f"{V1}/admin/dashboard/events")] = Op(STAFF, stream=True)
OPERATIONS[("GET", f"{V1}/admin/reports/revenue")] = Op(ADMIN, query={"format": "csv"})
OPERATIONS[("GET", f"{V1}/admin/search")] = Op(STAFF, query={"q": "authz"})


# The caller's own thing in the path (or the plan it acts under) and another customer's elsewhere
# in the request: (operation, the parameters filled with the caller's own ids, the probe). Each
# answers as it would for a missing id there: the route's answer for a bad field.
MIXED: list[tuple[tuple[str, str], tuple[str, ...], Op]] = [
    (
        ("PUT", f"{V1}/subscriptions/{{subscription_id}}/auto-renew"),
        ("subscription_id",),
        Op(OWN, body={"enabled": True, "payment_method_id": "{method_id}"}, expect=422),
    ),
    (
        ("PATCH", f"{V1}/cart/items/{{item_id}}"),
        ("item_id",),
        Op(OWN, body={"address_id": "{address_id}"}, expect=422),
    ),
    (
        ("GET", f"{V1}/service-requests/{{request_id}}/photos/{{photo_id}}"),
        ("request_id",),
        Op(OWN),
    ),
    (
        ("DELETE", f"{V1}/service-requests/{{request_id}}/photos/{{photo_id}}"),
        ("request_id",),
        Op(OWN),
    ),
    (
        ("GET", f"{V1}/service-requests/free-windows"),
        ("subscription_id",),
        Op(OWN, query={**FREE_WINDOWS, "address_id": "{address_id}"}),
    ),
    (
        ("POST", f"{V1}/service-requests"),
        ("subscription_id",),
        Op(OWN, body={**ASK, "address_id": "{address_id}"}, expect=422),
    ),
]


def document_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def fill(template: Any, values: dict[str, str]) -> Any:
    """The template with every "{name}" replaced by its value (in strings, lists and dicts)."""
    if isinstance(template, str):
        return template.format_map(values) if "{" in template else template
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    return template
