"""Process settings, read once from the environment (and `.env`).

Every process (API, worker, CLI, devstack) builds the same `Settings`; tests build one with explicit
values. Production mode refuses the development placeholders for secrets, so a deploy that forgot to
set one fails at start instead of signing tokens with a key that is in this repository.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from core.http_settings import HttpSettings
from core.log_settings import LogSettings

DEV_PLACEHOLDER = "dev-only-insecure-secret-change-me-0123456789"

# OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1.
OWASP_ARGON2_MEMORY_KIB = 19_456
OWASP_ARGON2_TIME_COST = 2
MAX_REQUEST_SLOTS = 24

# --- support hours: "mon-fri 09:00-18:00, sat 10:00-14:00" ----------------------------------------
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A fictional number (Ofcom keeps +44 20 7946 0xxx for drama): development dials nobody real, and
# production refuses it.
SUPPORT_PHONE_PLACEHOLDER = "+442079460000"
DEFAULT_SUPPORT_HOURS = "mon-sat 09:00-18:00"
_HOURS_ENTRY = re.compile(
    r"(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<opens>(?:[01]\d|2[0-3]):[0-5]\d)-(?P<closes>(?:[01]\d|2[0-3]):[0-5]\d|24:00)"
)
Week = dict[str, list[tuple[str, str]]]


def parse_support_hours(text: str) -> Week:
    """The week of `SUPPORT_HOURS`: entries `<day>[-<day>] HH:MM-HH:MM` separated by commas or
    semicolons (`24:00` ends a day), e.g. "mon-fri 09:00-18:00, sat 10:00-14:00". Every day is a
    key, in order; a day not named is closed. ValueError naming the entry that is wrong."""
    week: Week = {day: [] for day in WEEKDAYS}
    entries = [entry.strip() for entry in re.split(r"[,;]", text.strip().lower())]
    for entry in entries:
        match = _HOURS_ENTRY.fullmatch(entry)
        if (
            match is None
            or match["first"] not in WEEKDAYS
            or (match["last"] or "mon") not in WEEKDAYS
        ):
            raise ValueError(
                f"SUPPORT_HOURS: {entry!r} is not '<day>[-<day>] HH:MM-HH:MM' "
                "(days mon..sun), e.g. 'mon-fri 09:00-18:00, sat 10:00-14:00'"
            )
        first = WEEKDAYS.index(match["first"])
        last = WEEKDAYS.index(match["last"] or match["first"])
        if last < first:
            raise ValueError(f"SUPPORT_HOURS: {entry!r} runs backwards; write mon-fri, not fri-mon")
        opens, closes = match["opens"], match["closes"]
        if opens >= closes:  # zero-padded HH:MM compare as times
            raise ValueError(f"SUPPORT_HOURS: {entry!r} opens at {opens}, not before {closes}")
        for day in WEEKDAYS[first : last + 1]:
            week[day].append((opens, closes))
    for day, intervals in week.items():
        intervals.sort()
        for (_, earlier_end), (later_start, _) in pairwise(intervals):
            if later_start < earlier_end:
                raise ValueError(f"SUPPORT_HOURS: the hours of {day} overlap; join them")
    return week


# The HTTP boundary's settings (body size, timeouts, CORS, proxies, HSTS) are HttpSettings' fields;
# those of logs and traces (LOG_FORMAT, LOG_LEVEL, OTEL_EXPORTER_OTLP_ENDPOINT) LogSettings'.
class Settings(HttpSettings, LogSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"

    # --- storage and engine -------------------------------------------------------------------
    database_url: str = "postgresql+psycopg://postgres@127.0.0.1:5433/homeplans"
    database_pool_size: int = Field(default=10, ge=1, le=200)
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "homeplans"
    # The Temporal Web UI, for the admin panel's links to each workflow
    # ({url}/namespaces/{TEMPORAL_NAMESPACE}/workflows/{workflow id}).
    temporal_ui_url: str = Field(default="http://localhost:8233", pattern=r"^https?://[^\s]+$")

    # --- web apps (api.spa) ----------------------------------------------------------------------
    # The built SPAs (`npm run build` in each folder), relative to the repository: the admin
    # panel, served at /admin, and the customer app, served at /app.
    admin_ui_dist: str = "admin_ui/dist"
    customer_app_dist: str = "customer_app/dist"

    # --- tokens -------------------------------------------------------------------------------
    jwt_secret: SecretStr = SecretStr(DEV_PLACEHOLDER)
    jwt_issuer: str = "homeplans"
    jwt_audience: str = "homeplans-api"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=900)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)

    # --- passwords (argon2id) -------------------------------------------------------------------
    argon2_time_cost: int = Field(default=OWASP_ARGON2_TIME_COST, ge=OWASP_ARGON2_TIME_COST)
    argon2_memory_kib: int = Field(default=OWASP_ARGON2_MEMORY_KIB, ge=OWASP_ARGON2_MEMORY_KIB)
    argon2_parallelism: int = Field(default=1, ge=1, le=16)

    # --- one-time codes -------------------------------------------------------------------------
    otp_secret: SecretStr = SecretStr(DEV_PLACEHOLDER)
    otp_ttl_seconds: int = Field(default=600, ge=60, le=3600)
    otp_max_attempts: int = Field(default=5, ge=1, le=10)
    otp_resend_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    otp_max_resends: int = Field(default=3, ge=0, le=10)

    # --- abuse protection (domain.accounts.throttle) ---------------------------------------------
    # Failed sign-ins and codes: tight per account; wide per IP, which many honest users share
    # behind carrier-grade NAT and office networks.
    auth_failure_window_seconds: int = Field(default=900, ge=1)
    auth_max_failures_per_account: int = Field(default=10, ge=1)
    auth_max_failures_per_ip: int = Field(default=300, ge=1)
    # Codes sent (sign-up, verification, resend, phone sign-in): every SMS is billed.
    code_window_seconds: int = Field(default=3600, ge=1)
    codes_per_destination: int = Field(default=5, ge=1)
    codes_per_account: int = Field(default=10, ge=1)
    codes_per_ip: int = Field(default=100, ge=1)
    signup_window_seconds: int = Field(default=3600, ge=1)
    signups_per_ip: int = Field(default=30, ge=1)

    # --- payments -------------------------------------------------------------------------------
    payments_provider: Literal["sandbox", "stripe", "razorpay"] = "sandbox"
    # How long a checkout waits for the payment before the order expires.
    checkout_timeout_seconds: int = Field(default=1800, ge=60, le=86_400)
    # How often a waiting checkout asks the provider itself, in case no webhook arrives.
    checkout_reconcile_seconds: int = Field(default=300, ge=5, le=86_400)
    # Where the API is reached from outside (links in sandbox sessions, receipts, emails). Unset,
    # it is this machine's API at API_HOST:API_PORT, the address `make run` serves it on.
    public_base_url: str = ""
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    stripe_secret_key: SecretStr | None = None
    stripe_publishable_key: str | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str | None = None  # only to point the SDK at a local server in tests
    razorpay_key_id: str | None = None
    razorpay_key_secret: SecretStr | None = None
    razorpay_webhook_secret: SecretStr | None = None
    razorpay_base_url: str | None = None  # only to point the SDK at a local server in tests

    # --- subscriptions (SubscriptionWorkflow; a change applies to workflows started after it) ---
    subscription_reminder_days: list[int] = Field(default=[30, 7, 1])
    subscription_grace_days: int = Field(default=7, ge=0, le=90)
    # The automatic renewal is charged this long before the period ends.
    auto_renew_lead_hours: int = Field(default=72, ge=0, le=24 * 30)
    # Retries of a declined automatic renewal, days after the first decline.
    dunning_retry_days: list[int] = Field(default=[1, 3, 5])
    pre_debit_notice_hours: int = Field(default=24, ge=1, le=24 * 7)
    # Cancellation: a full refund within this many days of the period's start when no visit was
    # used; pro rata by time less the visits used at their per-visit value otherwise.
    refund_full_within_days: int = Field(default=7, ge=0, le=365)
    cancellation_quote_ttl_seconds: int = Field(default=900, ge=60, le=86_400)
    # DEVELOPMENT ONLY (`make chaos`): how long a subscription "day" lasts, in seconds, so a run
    # of minutes sees reminders, renewals, dunning and expiry. Every length of the lifecycle
    # (a plan's validity, reminders, grace, the renewal lead, dunning) is counted in these days;
    # it is carried in each workflow's Policy, so a running workflow keeps the length it started
    # with. Anything but 86400 is refused unless ENVIRONMENT=development.
    subscription_day_seconds: int = Field(default=86_400, ge=1, le=86_400)
    # Workflows the worker keeps in memory between their tasks (its memory follows this, not the
    # number of workflows alive).
    worker_max_cached_workflows: int = Field(default=500, ge=0, le=100_000)
    # On a stop (SIGTERM, SIGINT) the worker polls for no new tasks and lets the activities already
    # running finish for up to this long; those still running then are cancelled (and retried by
    # another worker). Keep it below the time the process manager waits before it kills (compose:
    # the worker's stop_grace_period).
    worker_graceful_shutdown_seconds: float = Field(default=10.0, ge=0, le=3600)
    # How the worker's sandbox imports workflow code. "shared": each module once, for every run
    # (a third less worker CPU per workflow woken, and less memory per cached one). "strict": afresh
    # for every run, through the sandbox's guards, so a non-deterministic call through a module a
    # workflow imported (datetime.now, random) fails the run instead of passing. The tests and the
    # replay test run strict; both modes run the same workflow code.
    worker_sandbox: Literal["shared", "strict"] = "shared"
    # host:port where the worker serves Prometheus metrics at /metrics (core/worker_metrics.py);
    # empty: none. Production compose: 0.0.0.0:9464.
    worker_metrics_address: str = Field(default="", pattern=r"^(\S+:\d{1,5})?$")

    # --- service requests (ServiceRequestWorkflow) -----------------------------------------------
    # Not assigned this long after it was asked for: escalated (admins told, request flagged).
    request_escalate_after_hours: int = Field(default=4, ge=1, le=24 * 14)
    # Not completed by the end of its window plus this: overdue.
    request_overdue_margin_hours: int = Field(default=2, ge=0, le=24 * 14)
    # How long after completion the customer may rate the visit.
    request_rating_days: int = Field(default=14, ge=1, le=90)
    # The window asked for: from this soon, at most this far ahead, this long.
    request_min_notice_minutes: int = Field(default=60, ge=0, le=24 * 60 * 7)
    request_max_days_ahead: int = Field(default=60, ge=1, le=365)
    request_window_min_minutes: int = Field(default=60, ge=15, le=24 * 60)
    request_window_max_hours: int = Field(default=12, ge=1, le=72)
    # The windows the app offers for a visit, wall-clock times in DEFAULT_TIME_ZONE (at most
    # MAX_REQUEST_SLOTS: a day's windows are listed whole).
    request_slots: str = Field(
        default="09:00-12:00,12:00-15:00,15:00-18:00",
        pattern=rf"^\d\d:\d\d-\d\d:\d\d(,\d\d:\d\d-\d\d:\d\d){{0,{MAX_REQUEST_SLOTS - 1}}}$",
    )
    # A visit can be started at most this long before its window (an admin may start it earlier,
    # with a reason, which is audited).
    job_start_early_minutes: int = Field(default=120, ge=0, le=60 * 24 * 60)
    # Photos of a request: each at most this large, at most this many.
    photo_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    photos_per_request: int = Field(default=5, ge=0, le=50)
    # Live status streams (server-sent events) one user may hold open at once, in each API process:
    # each holds a connection to this process and wakes on every change of its request.
    max_streams_per_user: int = Field(default=5, ge=1, le=100)
    # --- dashboard and reports (domain.reports) -------------------------------------------------
    # The currency the dashboard's and reports' headline amounts are in (others are listed apart).
    reports_currency: str = Field(default="INR", pattern="^[A-Z]{3}$")
    # Live dashboard streams one user may hold open at once, in each API process.
    max_dashboard_streams_per_user: int = Field(default=3, ge=1, le=100)
    # Where photos are kept: a folder (the embedded default), or an S3-compatible bucket.
    uploads_dir: str = ".data/uploads"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None  # e.g. MinIO, R2; unset: AWS
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None

    # --- support (the app's one-tap call, callbacks, the call log) -------------------------------
    # The support line in E.164 (the app dials it) and when it answers, in SUPPORT_TIMEZONE.
    support_phone: str = SUPPORT_PHONE_PLACEHOLDER
    # Kept as written (empty: the default), so it passes on as text; `support_week` is the week.
    support_hours: str = DEFAULT_SUPPORT_HOURS
    support_timezone: str = "Asia/Kolkata"
    # Callbacks a customer may have waiting (open or taken) at once ...
    support_max_open_callbacks: int = Field(default=3, ge=1, le=50)
    # ... and how many they may ask for in a window (each asked for counts, cancelled or not).
    support_callbacks_per_account: int = Field(default=5, ge=1, le=1000)
    support_callback_window_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)

    # --- notifications (domain.notifications; providers.notifications) ---------------------------
    # Each channel has its own provider; `outbox` (the embedded default) records the message and
    # logs it, so the whole system runs with no provider account. Real ones switch on by env alone.
    email_provider: Literal["outbox", "sendgrid"] = "outbox"
    push_provider: Literal["outbox", "fcm"] = "outbox"
    sendgrid_api_key: SecretStr | None = None
    # Where the SendGrid client posts (`/v3/mail/send`); tests point it at a local server.
    sendgrid_api_host: str = "https://api.sendgrid.com"
    email_from: str = "HomePlans <no-reply@homeplans.example>"
    # FCM sends with the service account of FIREBASE_CREDENTIALS_FILE, to FIREBASE_PROJECT_ID.
    # Where firebase-admin posts its messages; unset: Google's. Tests point it at a local server.
    fcm_api_url: str | None = None
    # A delivery that keeps failing for a passing reason (a provider's 429 or 5xx) is tried this
    # many times, with the activity's backoff between, then recorded as failed.
    notify_max_attempts: int = Field(default=8, ge=1, le=50)
    # The time zone of users who have not chosen one: quiet hours are kept in it.
    default_time_zone: str = "Asia/Kolkata"
    # Quiet hours for push of users who have not set theirs (local times, HH:MM); empty: none.
    default_quiet_hours: str = "22:00-07:00"
    # Each unsubscribe link is good for this long (and once).
    unsubscribe_link_ttl_days: int = Field(default=90, ge=1, le=3650)

    # --- campaigns (CampaignWorkflow; a change applies to campaigns started after it) ----------
    # People per batch (one activity writes and hands over a batch) and the most sent a second:
    # a batch starts no sooner than batch/rate seconds after the one before. The outbox takes
    # thousands a second; lower the rate to what a real provider's account allows.
    campaign_batch_size: int = Field(default=1000, ge=1, le=5000)
    campaign_rate_per_second: float = Field(default=2000.0, gt=0, le=100_000)
    # A campaign's workflow continues as new after this many batches, so its history stays short
    # however large the audience.
    campaign_batches_per_run: int = Field(default=50, ge=1, le=1000)
    # Campaigns one admin may start in an hour.
    campaign_starts_per_hour: int = Field(default=5, ge=1, le=1000)

    # --- identity -------------------------------------------------------------------------------
    firebase_project_id: str | None = None
    # Path of a service-account JSON; verification of ID tokens needs only the project id.
    firebase_credentials_file: str | None = None
    # The customer app's Firebase web config (public values from the Firebase console), for
    # Google sign-in and web push in the app; unset, the app offers neither.
    firebase_web_api_key: str | None = None
    firebase_web_app_id: str | None = None
    firebase_web_messaging_sender_id: str | None = None
    # The web push certificate's public key (Firebase console, Cloud Messaging, Web Push).
    fcm_vapid_public_key: str | None = None

    # --- first start ----------------------------------------------------------------------------
    admin_email: str | None = None
    admin_password: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _public_base_url_from_the_port(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("public_base_url"):
            host = str(data.get("api_host") or "127.0.0.1")
            # A wildcard bind is reached through the loopback address.
            host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)  # noqa: S104
            if ":" in host and not host.startswith("["):
                host = f"[{host}]"
            data = {**data, "public_base_url": f"http://{host}:{data.get('api_port') or 8000}"}
        return data

    @field_validator("support_phone")
    @classmethod
    def _support_phone_is_e164(cls, value: str) -> str:
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError("SUPPORT_PHONE must be in international format, e.g. +91...") from exc
        if not phonenumbers.is_valid_number(number):
            raise ValueError(f"SUPPORT_PHONE {value!r} is not a valid phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    @field_validator("support_hours")
    @classmethod
    def _support_hours_parse(cls, value: str) -> str:
        value = value.strip() or DEFAULT_SUPPORT_HOURS  # compose passes an unset value as empty
        parse_support_hours(value)
        return value

    @property
    def support_week(self) -> Week:
        """The week of SUPPORT_HOURS: every day, its (opens, closes) HH:MM pairs in order."""
        return parse_support_hours(self.support_hours)

    @field_validator("support_timezone")
    @classmethod
    def _support_timezone_is_known(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"SUPPORT_TIMEZONE {value!r} is not an IANA time zone") from exc
        return value

    @model_validator(mode="after")
    def _schedules_make_sense(self) -> Settings:
        if any(not 0 < days <= 365 for days in self.subscription_reminder_days):
            raise ValueError("SUBSCRIPTION_REMINDER_DAYS must be days between 1 and 365")
        retries = self.dunning_retry_days
        if any(not 0 < days <= 60 for days in retries) or retries != sorted(set(retries)):
            raise ValueError("DUNNING_RETRY_DAYS must be increasing days between 1 and 60")
        return self

    @model_validator(mode="after")
    def _short_days_only_in_development(self) -> Settings:
        if self.subscription_day_seconds != 86_400 and self.environment != "development":
            raise ValueError(
                "SUBSCRIPTION_DAY_SECONDS is a development setting (make chaos); "
                "it is refused unless ENVIRONMENT=development"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        for name in ("jwt_secret", "otp_secret"):
            value: SecretStr = getattr(self, name)
            secret = value.get_secret_value()
            if secret == DEV_PLACEHOLDER or len(secret) < 32:
                raise ValueError(
                    f"{name.upper()} must be set to a random value of at least 32 characters "
                    "in production"
                )
        if self.jwt_secret.get_secret_value() == self.otp_secret.get_secret_value():
            raise ValueError("JWT_SECRET and OTP_SECRET must differ")
        if self.payments_provider == "sandbox":
            raise ValueError(
                "PAYMENTS_PROVIDER=sandbox takes no real money; choose stripe or "
                "razorpay in production"
            )
        if self.support_phone == SUPPORT_PHONE_PLACEHOLDER:
            raise ValueError(
                "SUPPORT_PHONE is a fictional development number; set the real support line "
                "(E.164, e.g. +918012345678) in production"
            )
        return self

    @model_validator(mode="after")
    def _provider_keys_present(self) -> Settings:
        needed = {
            "stripe": ("stripe_secret_key", "stripe_webhook_secret"),
            "razorpay": ("razorpay_key_id", "razorpay_key_secret", "razorpay_webhook_secret"),
        }.get(self.payments_provider, ())
        missing = [name.upper() for name in needed if not getattr(self, name)]
        if missing:
            raise ValueError(
                f"PAYMENTS_PROVIDER={self.payments_provider} needs " + ", ".join(missing)
            )
        if self.email_provider == "sendgrid" and self.sendgrid_api_key is None:
            raise ValueError("EMAIL_PROVIDER=sendgrid needs SENDGRID_API_KEY")
        if self.push_provider == "fcm" and not (
            self.firebase_project_id and self.firebase_credentials_file
        ):
            raise ValueError(
                "PUSH_PROVIDER=fcm needs FIREBASE_PROJECT_ID and FIREBASE_CREDENTIALS_FILE"
            )
        return self

    @model_validator(mode="after")
    def _time_zone_and_quiet_hours_parse(self) -> Settings:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.default_time_zone)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(
                f"DEFAULT_TIME_ZONE {self.default_time_zone!r} is not a time zone"
            ) from e
        if self.default_quiet_hours and not re.fullmatch(
            r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", self.default_quiet_hours
        ):
            raise ValueError("DEFAULT_QUIET_HOURS must be HH:MM-HH:MM (or empty for none)")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
