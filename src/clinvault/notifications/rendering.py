"""Render notification emails from the templates in templates/mail/.

Emails never contain PHI. They leave the system unencrypted and land in inboxes
outside our control, so a template may name the product, an organization, the
person who acted and a link, but never a patient, a record, a diagnosis, a
prescription or any other health information: the link leads to a signed-in page
that shows the details. Keep it that way when adding templates or variables.

Each message is a pair of templates, `<name>.txt.j2` and `<name>.html.j2`. The
text template defines the subject in `{% block subject %}`; the HTML template gets
it as `subject`. Variables are strict: a missing one raises jinja2.UndefinedError
instead of sending an email with a hole in it. HTML is autoescaped, text is not.

Templates and their variables:

    invitation        organization_name, inviter_name, roles (list of str),
                      accept_url, expires_at (aware datetime)
    mfa_enabled       occurred_at (aware datetime), account_url
    password_changed  occurred_at (aware datetime), account_url
    password_reset    reset_url, expires_at (aware datetime), minutes (int)
    registration_attempt  occurred_at (aware datetime), account_url
    sign_in_alert     organization_name, headline, summary (counts, never who),
                      occurred_at (aware datetime), audit_url
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from clinvault.mail.ports import OutgoingMail

TEMPLATE_DIR = Path(__file__).parent / "templates"

_NAME = re.compile(r"[a-z][a-z0-9_]*")


class RenderedMail(NamedTuple):
    subject: str
    text: str
    html: str


class MailRenderer:
    def __init__(self, template_dir: Path = TEMPLATE_DIR) -> None:
        self._env = Environment(
            loader=FileSystemLoader(template_dir),
            autoescape=select_autoescape(
                enabled_extensions=("html.j2",), default_for_string=False, default=False
            ),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self._env.filters["datetime_utc"] = format_datetime_utc
        self._env.filters["link"] = checked_link

    def render(self, template: str, /, **context: object) -> RenderedMail:
        """Render `mail/<template>.txt.j2` and `.html.j2`; return (subject, text, html)."""
        if not _NAME.fullmatch(template):
            raise ValueError(f"invalid mail template name {template!r}")
        if "subject" in context:
            raise ValueError("'subject' is defined by the template, not passed in")

        text_template = self._env.get_template(f"mail/{template}.txt.j2")
        subject_block = text_template.blocks.get("subject")
        if subject_block is None:
            raise ValueError(f"mail/{template}.txt.j2 must define {{% block subject %}}")
        raw_subject = "".join(subject_block(text_template.new_context(dict(context))))
        # One line: a subject with a line break could otherwise smuggle in headers.
        subject = " ".join(raw_subject.split())
        if not subject:
            raise ValueError(f"mail/{template}.txt.j2 renders an empty subject")

        text = _tidy_text(text_template.render(context))
        html = self._env.get_template(f"mail/{template}.html.j2").render(context, subject=subject)
        return RenderedMail(subject, text, html)

    def compose(
        self,
        template: str,
        /,
        *,
        to: Sequence[str],
        idempotency_key: str,
        **context: object,
    ) -> OutgoingMail:
        """Render a template into a message ready for Mailer.send."""
        if isinstance(to, str):
            raise TypeError("to must be a sequence of addresses, not one string")
        subject, text, html = self.render(template, **context)
        return OutgoingMail(
            to=tuple(to), subject=subject, text=text, html=html, idempotency_key=idempotency_key
        )


def format_datetime_utc(value: datetime) -> str:
    """`3 March 2025 at 14:05 UTC`; refuses naive datetimes, whose zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("mail templates need timezone-aware datetimes")
    utc = value.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y} at {utc:%H:%M} UTC"


def checked_link(url: str) -> str:
    """Pass http(s) URLs through; refuse anything a mail client could execute or misroute."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError("mail links must be absolute http(s) URLs")
    if any(ch.isspace() for ch in url):
        raise ValueError("mail links must not contain whitespace")
    return url


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.strip("\n").splitlines()]
    return "\n".join(lines) + "\n"
