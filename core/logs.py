"""Log lines: one JSON object a line in production, readable text in development.

`configure_logging(settings, service=...)` is the one place every process sets logging up: the API
(`api.main.app`, under uvicorn), the worker (`worker.py`) and `manage.py`. Every record is stamped,
when it is made, with the running task's `core.request_context` (request id, user id, workflow id,
run id), so a line written anywhere in the handling of a request, a workflow or an activity says
what it belongs to; Temporal's own workflow and activity loggers add the workflow's ids too.

A JSON line (LOG_FORMAT=json, production's default):

    {"time": "2026-12-06T10:31:02.114Z", "level": "INFO", "logger": "homeplans.activity",
     "message": "activity create_order completed in 12.4 ms", "service": "homeplans-worker",
     "request_id": "5f0c...", "user_id": "8d1e...", "workflow_id": "checkout:...",
     "run_id": "0193...", "activity": "create_order", "attempt": 1, "duration_ms": 12.4}

`time` is UTC (ISO 8601, milliseconds, `Z`); ids appear when known; `exception` holds the
traceback of a line logged with one; what a line adds with `extra=` is kept as its own fields. The
text format (LOG_FORMAT=text) says the same on one readable line:

    2026-12-06T10:31:02.114Z INFO homeplans.activity: activity create_order completed in 12.4 ms
    [request_id=5f0c... user_id=8d1e... workflow_id=checkout:... run_id=0193...]

The names `request_id`, `user_id`, `workflow_id` and `run_id` are the stamp's: a line cannot pass
them with `extra=` (the context carries them).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import IO, Any

from core import request_context, tracing
from core.settings import Settings, get_settings

IDS = ("request_id", "user_id", "workflow_id", "run_id")
# What a LogRecord holds of its own: not an `extra=` field of the line.
_RECORD_FIELDS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", *IDS}
)
_TEMPORAL_EXTRAS = ("temporal_activity", "temporal_workflow")


def log_format(settings: Settings | None) -> str:
    """LOG_FORMAT, or by ENVIRONMENT when it is empty: json in production, text elsewhere."""
    if settings is None:
        return "text"
    return settings.log_format or ("json" if settings.environment == "production" else "text")


def utc_time(created: float) -> str:
    """`created` (seconds since the epoch) as ISO 8601 in UTC with milliseconds and `Z`."""
    seconds = int(created)
    millis = int((created - seconds) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def _ids(record: logging.LogRecord) -> dict[str, str]:
    """The record's ids that are known; the workflow's from Temporal's own extras when the task's
    context has none (a line of `workflow.logger` or `activity.logger`)."""
    found = {name: value for name in IDS if (value := getattr(record, name, None)) is not None}
    if "workflow_id" not in found:
        for extra in _TEMPORAL_EXTRAS:
            info = getattr(record, extra, None)
            if isinstance(info, dict) and info.get("workflow_id"):
                found["workflow_id"] = str(info["workflow_id"])
                if info.get("run_id"):
                    found["run_id"] = str(info["run_id"])
                break
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module's doc)."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": utc_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.service:
            entry["service"] = self.service
        entry.update(_ids(record))
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`TIME LEVEL logger: message [ids]`, then the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{utc_time(record.created)} {record.levelname} {record.name}: {record.getMessage()}"
        ids = _ids(record)
        if ids:
            line += " [" + " ".join(f"{key}={value}" for key, value in ids.items()) + "]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def stamp_records() -> None:
    """Make every log record carry the running task's context from now on (once per process)."""
    base = logging.getLogRecordFactory()
    if getattr(base, "_stamps_context", False):
        return

    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = base(*args, **kwargs)
        context = request_context.current()
        if context is None:
            made.request_id = made.user_id = made.workflow_id = made.run_id = None
        else:
            made.request_id = context.request_id
            made.user_id = context.user_id
            made.workflow_id = context.workflow_id
            made.run_id = context.run_id
        return made

    record._stamps_context = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record)


def handler(
    fmt: str, *, service: str | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """A handler writing lines of `fmt` ("json" or "text") to `stream` (stderr)."""
    out = logging.StreamHandler(stream if stream is not None else sys.stderr)
    out.setFormatter(JsonFormatter(service) if fmt == "json" else TextFormatter())
    return out


def configure_logging(settings: Settings | None = None, *, service: str) -> None:
    """Logging for the whole process `service` (homeplans-api, homeplans-worker, ...): the root
    logger writes LOG_FORMAT lines at LOG_LEVEL to stderr. uvicorn's own lines go the same way;
    its access line is off (the API writes its own, with the request id: `api.request_ids`).
    Settings that do not load (manage.py explains why elsewhere) leave the defaults."""
    if settings is None:
        try:
            settings = get_settings()
        except ValueError:
            settings = None
    stamp_records()
    # What no line here shows, not worked out for each record (the logging manual's "Optimization"):
    # the caller's file and line (a traceback has them), the process and thread.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_homeplans", False)]:
        root.removeHandler(old)
    new = handler(log_format(settings), service=service)
    new._homeplans = True  # type: ignore[attr-defined]
    root.addHandler(new)
    root.setLevel(settings.log_level if settings is not None else logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False  # uvicorn checks for handlers: none, so it writes no access line
    tracing.name_process(service)
