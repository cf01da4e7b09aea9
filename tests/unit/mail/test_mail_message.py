from __future__ import annotations

import pickle
import re
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from clinvault.mail.message import build_message, delivery_id, envelope_address, message_id
from clinvault.mail.ports import MailDeliveryFailed, OutgoingMail

SENDER = "clinvault <no-reply@clinvault.test>"


def _mail(**overrides: object) -> OutgoingMail:
    values: dict[str, object] = {
        "to": ("ada@example.org",),
        "subject": "Your password was changed",
        "text": "Plain body\n",
        "html": "<p>HTML body</p>",
        "idempotency_key": "password-changed:user-1:2025-03-01",
    }
    values.update(overrides)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def _content(part: object) -> str:
    """Decoded text of a part, with the wire's CRLF line endings folded to LF."""
    assert isinstance(part, EmailMessage)
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def _reparse(message: EmailMessage) -> EmailMessage:
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_text_and_html_become_multipart_alternative() -> None:
    parsed = _reparse(build_message(_mail(), sender=SENDER))

    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert _content(parts[0]) == "Plain body\n"
    assert _content(parts[1]).strip() == "<p>HTML body</p>"


def test_text_only_is_a_single_part() -> None:
    parsed = _reparse(build_message(_mail(html=None), sender=SENDER))

    assert parsed.get_content_type() == "text/plain"
    assert _content(parsed) == "Plain body\n"


def test_headers_are_set() -> None:
    now = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    parsed = _reparse(
        build_message(
            _mail(to=("ada@example.org", "Bob <bob@example.org>")), sender=SENDER, now=now
        )
    )

    assert parsed["From"] == SENDER
    assert parsed["To"] == "ada@example.org, Bob <bob@example.org>"
    assert parsed["Subject"] == "Your password was changed"
    assert parsedate_to_datetime(str(parsed["Date"])) == now
    assert parsed["Auto-Submitted"] == "auto-generated"


def test_message_id_is_derived_from_the_idempotency_key() -> None:
    first = build_message(_mail(), sender=SENDER)
    retry = build_message(_mail(), sender=SENDER)
    other = build_message(_mail(idempotency_key="another-key"), sender=SENDER)

    assert first["Message-ID"] == retry["Message-ID"] == message_id(_mail().idempotency_key)
    assert first["Message-ID"] != other["Message-ID"]
    assert re.fullmatch(r"<[0-9a-f]{32}@clinvault>", str(first["Message-ID"]))


def test_message_id_without_key_is_unique() -> None:
    ids = {str(build_message(_mail(idempotency_key=""), sender=SENDER)["Message-ID"]) for _ in "ab"}
    assert len(ids) == 2
    assert delivery_id("") != delivery_id("")
    assert delivery_id("k") == delivery_id("k")


def test_extra_headers_are_added() -> None:
    parsed = _reparse(
        build_message(
            _mail(headers={"Reply-To": "help@clinvault.test", "X-Clinvault-Kind": "security"}),
            sender=SENDER,
        )
    )
    assert parsed["Reply-To"] == "help@clinvault.test"
    assert parsed["X-Clinvault-Kind"] == "security"


def test_caller_can_override_auto_submitted() -> None:
    message = build_message(_mail(headers={"Auto-Submitted": "auto-replied"}), sender=SENDER)
    assert message.get_all("Auto-Submitted") == ["auto-replied"]


def test_non_ascii_survives_the_wire_encoding() -> None:
    message = build_message(
        _mail(subject="Einladung für Zoë", text="Grüße aus Köln\n", html="<p>Grüße</p>"),
        sender=SENDER,
    )
    raw = message.as_bytes()
    raw.decode("ascii")  # 7bit on the wire: no 8BITMIME needed
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "Einladung für Zoë"
    assert _content(parsed.get_body(("plain",))) == "Grüße aus Köln\n"
    assert b"\r\n" in raw


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "Hello\r\nBcc: victim@example.org"},
        {"subject": "Hello\nBcc: victim@example.org"},
        {"subject": "Hello\rthere"},
        {"to": ("ada@example.org\r\nBcc: victim@example.org",)},
        {"to": ("ada@example.org\n",)},
        {"headers": {"X-Note": "a\r\nBcc: victim@example.org"}},
        {"headers": {"X-Note": "nul\x00byte"}},
        {"headers": {"X-Bad\r\nBcc": "x"}},
        {"headers": {"X Bad": "x"}},
        {"headers": {"X-Bad:": "x"}},
    ],
    ids=lambda o: next(iter(o)),
)
def test_header_injection_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"line breaks|header name|address"):
        build_message(_mail(**overrides), sender=SENDER)


def test_sender_with_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line breaks"):
        build_message(_mail(), sender="x@clinvault.test\r\nBcc: victim@example.org")


@pytest.mark.parametrize("name", ["Bcc", "cc", "From", "To", "Subject", "Message-ID", "Date"])
def test_reserved_headers_cannot_be_overridden(name: str) -> None:
    with pytest.raises(ValueError, match="set by the message builder"):
        build_message(_mail(headers={name: "x@example.org"}), sender=SENDER)


@pytest.mark.parametrize(
    "recipient", ["", "not-an-address", "ada@example.org, eve@example.org", "@example.org"]
)
def test_malformed_recipients_are_refused(recipient: str) -> None:
    with pytest.raises(ValueError, match=r"address|mailbox"):
        build_message(_mail(to=(recipient,)), sender=SENDER)


def test_a_recipient_is_required() -> None:
    with pytest.raises(ValueError, match="recipient"):
        build_message(_mail(to=()), sender=SENDER)


def test_errors_do_not_echo_addresses() -> None:
    with pytest.raises(ValueError, match="line breaks") as caught:
        build_message(_mail(to=("patient.name@example.org\n",)), sender=SENDER)
    assert "patient.name" not in str(caught.value)


def test_envelope_address_strips_the_display_name() -> None:
    assert envelope_address("clinvault <no-reply@clinvault.test>") == "no-reply@clinvault.test"


def test_delivery_failure_keeps_its_attributes_through_pickle() -> None:
    error = MailDeliveryFailed("SMTP x:25: message refused", retryable=False, smtp_code=550)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.retryable, copy.smtp_code) == (str(error), False, 550)
    assert MailDeliveryFailed().retryable is True
