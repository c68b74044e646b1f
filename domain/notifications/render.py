"""The words of a message, from its kind's template (`templates/<kind>.j2`) and its facts.

A template has blocks: `subject` and `text` always; `html` when the email should say more than its
text (otherwise the text's paragraphs are the email); `push_title` and `push_body` when the push
should be shorter than the subject and the first paragraph. Text blocks are rendered without HTML
escaping, the `html` block with it, and every email is wrapped in `_layout.html`.

Times are shown in the recipient's time zone (`tz` in the facts); undefined facts are an error, so
a template that asks for something its sender did not give fails its test, not a customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from domain import timefmt
from domain.money import format_money

PUSH_BODY_MAX = 240


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None  # only when asked for (an email goes)
    push_title: str
    push_body: str


def _tz(ctx: Context) -> ZoneInfo:
    tz = ctx.get("tz")
    return tz if isinstance(tz, ZoneInfo) else timefmt.zone("UTC")


# Every time in a message is written by `domain.timefmt`, in the recipient's zone, labelled.


@pass_context
def _when(ctx: Context, at: datetime) -> str:
    """`Tue 8 Dec, 10:00 IST`."""
    return timefmt.when(at, _tz(ctx))


@pass_context
def _clock(ctx: Context, at: datetime) -> str:
    """`10:00 IST`."""
    return timefmt.clock(at, _tz(ctx))


@pass_context
def _day(ctx: Context, at: datetime | None) -> str:
    """`Tue 8 Dec 2026`, or `soon` when there is no date."""
    return timefmt.day(at, _tz(ctx)) if at is not None else "soon"


@pass_context
def _window(ctx: Context, start: datetime, end: datetime) -> str:
    """`Tue 8 Dec, 10:00-13:00 IST` (an en dash)."""
    return timefmt.window(start, end, _tz(ctx))


def _money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency)


def _environment(*, html: bool) -> Environment:
    # Text (subjects, plain-text email, push, SMS) is not HTML: escaping would show `&amp;`.
    env = Environment(
        loader=PackageLoader("domain.notifications", "templates"),
        autoescape=html,  # noqa: S701  the HTML environment escapes; the text one must not
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, clock=_clock, day=_day, window=_window, money=_money)
    return env


TEXT = _environment(html=False)
HTML = _environment(html=True)


@cache
def _template(kind: str, *, html: bool) -> Template:
    return (HTML if html else TEXT).get_template(f"{kind}.j2")


def _block(template: Template, name: str, facts: Mapping[str, Any]) -> str | None:
    block = template.blocks.get(name)
    if block is None:
        return None
    return "".join(block(template.new_context(dict(facts)))).strip()


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def render(kind: str, facts: Mapping[str, Any], *, email: bool = False) -> Rendered:
    """The message of `kind` with these facts; its HTML only when `email`."""
    template = _template(kind, html=False)
    subject = " ".join((_block(template, "subject", facts) or "").split())
    text = "\n\n".join(_paragraphs(_block(template, "text", facts) or ""))
    if not subject or not text:
        raise ValueError(f"template {kind} has no subject or text")
    first = _paragraphs(text)[0]
    push_body = _block(template, "push_body", facts) or first
    if len(push_body) > PUSH_BODY_MAX:
        push_body = push_body[: PUSH_BODY_MAX - 1].rstrip() + "…"
    html = None
    if email:
        html_template = _template(kind, html=True)
        inner = _block(html_template, "html", facts)
        content = (
            # Rendered by the escaping environment: its values are escaped already.
            Markup(inner)  # noqa: S704
            if inner is not None
            else Markup("\n").join(Markup("<p>{}</p>").format(p) for p in _paragraphs(text))
        )
        html = HTML.get_template("_layout.html").render(
            subject=subject,
            content=content,
            unsubscribe_url=facts.get("unsubscribe_url"),
            reason=facts.get("reason"),
        )
    return Rendered(
        subject=subject,
        text=text,
        html=html,
        push_title=_block(template, "push_title", facts) or subject,
        push_body=push_body,
    )


def plain(value: str) -> Markup:
    """Admin-written words placed in an HTML block as text (escaped, paragraphs kept)."""
    return Markup("\n").join(Markup("<p>{}</p>").format(escape(p)) for p in _paragraphs(value))
