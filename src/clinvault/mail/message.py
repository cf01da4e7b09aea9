"""Turn an OutgoingMail into a standards-conforming MIME message.

Every value that ends up in a header is checked for line breaks first, so that
no caller-provided text (an organization name in a subject, say) can add
headers or recipients to the message.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses

from clinvault.mail.ports import OutgoingMail
from clinvault.timeutil import utcnow

MESSAGE_ID_DOMAIN = "clinvault"

# 7bit transfer encoding keeps non-ASCII bodies deliverable through relays
# that do not announce 8BITMIME; CRLF line endings are the wire format.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")

# Headers the builder owns: callers set them through OutgoingMail fields or not at all.
_RESERVED_HEADERS = frozenset(
    {
        "bcc",
        "cc",
        "content-transfer-encoding",
        "content-type",
        "date",
        "from",
        "message-id",
        "mime-version",
        "return-path",
        "sender",
        "subject",
        "to",
    }
)
_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'
_LINE_BREAKS = ("\r", "\n", "\x00")


def delivery_id(idempotency_key: str) -> str:
    """A stable 32-hex-digit id for a key; a fresh random one when the key is empty."""
    if not idempotency_key:
        return uuid.uuid4().hex
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def message_id(idempotency_key: str) -> str:
    """The Message-ID: identical for every attempt that shares an idempotency key."""
    return f"<{delivery_id(idempotency_key)}@{MESSAGE_ID_DOMAIN}>"


def envelope_address(value: str) -> str:
    """The bare address of one mailbox (`Name <a@b>` -> `a@b`), validated."""
    _refuse_line_breaks("address", value)
    pairs = getaddresses([value])
    if len(pairs) != 1:
        raise ValueError("each address field must hold exactly one mailbox")
    address = pairs[0][1]
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(c.isspace() for c in address):
        raise ValueError("not a valid mail address (expected local@domain)")
    return address


def build_message(mail: OutgoingMail, *, sender: str, now: datetime | None = None) -> EmailMessage:
    """Build the MIME message; raise ValueError on any unsafe or malformed input."""
    if not mail.to:
        raise ValueError("a message needs at least one recipient")
    envelope_address(sender)
    for recipient in mail.to:
        envelope_address(recipient)
    _refuse_line_breaks("subject", mail.subject)
    _check_extra_headers(mail.headers.items())

    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = sender
    message["To"] = ", ".join(mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now or utcnow())
    message["Message-ID"] = message_id(mail.idempotency_key)
    present = {name.lower() for name in mail.headers}
    if "auto-submitted" not in present:
        # RFC 3834: tells auto-responders not to answer system notifications.
        message["Auto-Submitted"] = "auto-generated"
    for name, value in mail.headers.items():
        message[name] = value

    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def _check_extra_headers(headers: Iterable[tuple[str, str]]) -> None:
    for name, value in headers:
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"invalid header name {name!r}")
        if name.lower() in _RESERVED_HEADERS:
            raise ValueError(f"header {name!r} is set by the message builder, not by callers")
        _refuse_line_breaks(f"header {name}", value)


def _refuse_line_breaks(what: str, value: str) -> None:
    if any(ch in value for ch in _LINE_BREAKS):
        raise ValueError(f"{what} must not contain line breaks or NUL characters")
