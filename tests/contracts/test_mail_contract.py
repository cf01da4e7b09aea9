"""One behaviour for every Mailer: the folder, SMTP (aiosmtpd) and SES (moto's SES v2 API).

Each adapter is read back from its peer: .eml files, what the SMTP server
received, and what moto's SES backend recorded as sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from tests.contracts.conftest import REGION, MotoServer, free_port

from clinvault.mail.factory import open_mailer
from clinvault.mail.message import message_id
from clinvault.mail.ports import MailDeliveryFailed, Mailer, OutgoingMail
from clinvault.mail.ses import SesMailer

pytestmark = pytest.mark.timeout(60)

SENDER_ADDRESS = "no-reply@clinvault.test"
SENDER = f"clinvault <{SENDER_ADDRESS}>"
RECIPIENT = "ada.patient@example.org"
MOTO_ACCOUNT = "123456789012"


@dataclass
class Adapter:
    mailer: Mailer
    # Every message the peer accepted so far, as parsed RFC 5322 messages.
    delivered: Callable[[], list[EmailMessage]]


def _parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _folder(tmp_path: Path) -> Adapter:
    folder = tmp_path / "mail"
    mailer = open_mailer(f"file://{folder}", sender=SENDER)
    return Adapter(mailer, lambda: [_parse(p.read_bytes()) for p in sorted(folder.glob("*.eml"))])


class _Collecting:
    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope.original_content or b"")
        return "250 2.0.0 accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, _Collecting]]:
    handler = _Collecting()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), ready_timeout=10)
    controller.start()
    yield controller, handler
    controller.stop()


def _smtp(request: pytest.FixtureRequest) -> Adapter:
    controller, handler = request.getfixturevalue("smtp_server")
    # Plaintext is allowed only to a relay on this host; TLS modes are in tests/integration/mail.
    mailer = open_mailer(
        f"smtp://127.0.0.1:{controller.port}?starttls=false", sender=SENDER, timeout=10
    )
    return Adapter(mailer, lambda: [_parse(raw) for raw in handler.received])


def _ses_sent(server: MotoServer, since: int) -> list[EmailMessage]:
    from moto.ses.models import ses_backends

    sent = ses_backends[MOTO_ACCOUNT][REGION].sent_messages[since:]
    return [_parse(m.raw_data.encode()) for m in sent if hasattr(m, "raw_data")]


def _ses(request: pytest.FixtureRequest) -> Adapter:
    from moto.ses.models import ses_backends

    server: MotoServer = request.getfixturevalue("moto_server")
    server.client("sesv2").create_email_identity(EmailIdentity=SENDER_ADDRESS)
    since = len(ses_backends[MOTO_ACCOUNT][REGION].sent_messages)
    mailer = open_mailer(f"ses://{REGION}", sender=SENDER, ses_endpoint_url=server.endpoint)
    return Adapter(mailer, lambda: _ses_sent(server, since))


@pytest.fixture(params=["folder", "smtp", "ses"])
def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> Adapter:
    if request.param == "smtp":
        return _smtp(request)
    if request.param == "ses":
        return _ses(request)
    return _folder(tmp_path)


def _mail(key: str, **extra: object) -> OutgoingMail:
    return OutgoingMail(
        to=(RECIPIENT,),
        subject="Your submission was received",
        text="Reference ABCD-1234. Estimated review: 3 days.",
        idempotency_key=key,
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.asyncio
async def test_a_message_arrives_whole_with_its_stable_message_id(adapter: Adapter) -> None:
    key = f"delivery-{uuid.uuid4()}"

    await adapter.mailer.send(_mail(key, html="<p>Reference <b>ABCD-1234</b></p>"))

    [message] = adapter.delivered()
    assert message["Message-ID"] == message_id(key)
    assert message["Subject"] == "Your submission was received"
    assert message["To"] == RECIPIENT
    assert SENDER_ADDRESS in message["From"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert "ABCD-1234" in text.get_content()
    assert html is not None
    assert "<b>ABCD-1234</b>" in html.get_content()


@pytest.mark.asyncio
async def test_every_attempt_of_one_delivery_carries_the_same_message_id(
    adapter: Adapter,
) -> None:
    key = f"delivery-{uuid.uuid4()}"

    await adapter.mailer.send(_mail(key))
    await adapter.mailer.send(_mail(key))
    await adapter.mailer.send(_mail(f"delivery-{uuid.uuid4()}"))

    ids = [m["Message-ID"] for m in adapter.delivered()]
    # The folder drops the repeat itself; SMTP and SES rely on the outbox's delivery id.
    assert set(ids) == {message_id(key), ids[-1]}
    assert ids[-1] != message_id(key)


@pytest.mark.asyncio
async def test_check_passes(adapter: Adapter) -> None:
    await adapter.mailer.check()


# --- SES faults: a refused sender, a missing configuration set, a stopped endpoint ---


@pytest.mark.asyncio
async def test_ses_refusing_an_unverified_sender_is_final_and_says_what_to_verify(
    moto_server: MotoServer,
) -> None:
    mailer = open_mailer(
        f"ses://{REGION}",
        sender="clinvault <unverified@clinvault-nowhere.test>",
        ses_endpoint_url=moto_server.endpoint,
    )

    with pytest.raises(MailDeliveryFailed) as sent:
        await mailer.send(_mail("d1"))
    with pytest.raises(MailDeliveryFailed, match="verified identity") as checked:
        await mailer.check()

    assert sent.value.retryable is False
    assert "verify the sender" in str(sent.value)
    assert RECIPIENT not in str(sent.value)
    assert checked.value.retryable is False


@pytest.mark.asyncio
async def test_ses_sends_through_a_configuration_set_and_checks_it_exists(
    moto_server: MotoServer,
) -> None:
    ses = moto_server.client("sesv2")
    ses.create_email_identity(EmailIdentity="clinvault.test")
    name = f"clinvault-{uuid.uuid4().hex[:8]}"
    ses.create_configuration_set(ConfigurationSetName=name)

    good = open_mailer(
        f"ses://{REGION}",
        sender=SENDER,
        ses_configuration_set=name,
        ses_endpoint_url=moto_server.endpoint,
    )
    missing = open_mailer(
        f"ses://{REGION}",
        sender=SENDER,
        ses_configuration_set="no-such-set",
        ses_endpoint_url=moto_server.endpoint,
    )

    await good.check()
    await good.send(_mail(f"d-{uuid.uuid4()}"))
    with pytest.raises(MailDeliveryFailed, match="CLINVAULT_SES_CONFIGURATION_SET"):
        await missing.check()


@pytest.mark.asyncio
async def test_a_stopped_ses_endpoint_is_a_retryable_failure() -> None:
    mailer = open_mailer(
        f"ses://{REGION}", sender=SENDER, ses_endpoint_url=f"http://127.0.0.1:{free_port()}"
    )
    assert isinstance(mailer, SesMailer)

    with pytest.raises(MailDeliveryFailed, match="unreachable") as caught:
        await mailer.send(_mail("d1"))

    assert caught.value.retryable is True
    with pytest.raises(MailDeliveryFailed, match="unreachable"):
        await mailer.check()


@pytest.mark.parametrize("url", ["ses://", "ses://eu-west-1/x", "ses://EU", "ses://eu-west-1?x=1"])
def test_bad_ses_urls_say_what_to_write(url: str) -> None:
    with pytest.raises(ValueError, match=r"ses://<region>"):
        open_mailer(url, sender=SENDER)
