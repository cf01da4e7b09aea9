"""SmtpMailer against a real SMTP server (aiosmtpd) on 127.0.0.1, over real TLS."""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from clinvault.mail.factory import open_mailer
from clinvault.mail.message import message_id
from clinvault.mail.ports import MailDeliveryFailed, OutgoingMail
from clinvault.mail.smtp import SmtpMailer

pytestmark = pytest.mark.timeout(60)

SENDER = "clinvault <no-reply@clinvault.test>"
RECIPIENT = "ada.patient@example.org"
BODY_MARKER = "confidential-body-marker-7f3a"
USERNAME = "smtp-user"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    authenticated: bool


class CollectingHandler:
    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                content=content,
                authenticated=bool(session.authenticated),
            )
        )
        return "250 2.0.0 Message accepted"


class RefusingRecipientsHandler(CollectingHandler):
    """Refuses recipients whose address starts with `refused`, like an unknown mailbox."""

    def __init__(self, reply: str = "550 5.1.1 <{address}>: Recipient address rejected") -> None:
        super().__init__()
        self.reply = reply

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.startswith("refused") or address == RECIPIENT:
            return self.reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"


class RefusingDataHandler(CollectingHandler):
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "550 5.7.1 Message content rejected by policy"


def _authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    expected = LoginPassword(USERNAME.encode(), PASSWORD.encode())
    return AuthResult(success=auth_data == expected, handled=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


StartServer = Callable[..., Controller]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Start aiosmtpd controllers on free ports; stop every one after the test."""
    started: list[Controller] = []

    def start(handler: CollectingHandler, **kwargs: Any) -> Controller:
        for attempt in range(5):
            controller = Controller(
                handler,
                hostname="127.0.0.1",
                port=_free_port(),
                server_hostname="mx.clinvault.test",
                ready_timeout=10.0,
                **kwargs,
            )
            try:
                controller.start()
            except OSError as exc:  # the port was taken between probe and bind
                controller.loop.close()
                if exc.errno != errno.EADDRINUSE or attempt == 4:
                    raise
                continue
            started.append(controller)
            return controller
        raise AssertionError("unreachable")

    yield start
    for controller in started:
        controller.stop()


StartTlsMailer = Callable[..., SmtpMailer]


@pytest.fixture
def starttls_mailer(
    start_server: StartServer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> StartTlsMailer:
    """Start a server that requires STARTTLS (and AUTH, if asked); return a mailer for it."""

    def start(
        handler: CollectingHandler, *, auth: bool = False, **mailer_kwargs: Any
    ) -> SmtpMailer:
        server_kwargs: dict[str, Any] = {"tls_context": server_tls, "require_starttls": True}
        if auth:
            server_kwargs.update(
                authenticator=_authenticator, auth_required=True, auth_require_tls=True
            )
        server = start_server(handler, **server_kwargs)
        return _starttls_mailer(server.port, client_tls, **mailer_kwargs)

    return start


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="module")
def client_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _mail(key: str = "invitation:1", to: tuple[str, ...] = (RECIPIENT,)) -> OutgoingMail:
    return OutgoingMail(
        to=to,
        subject="Einladung: join Northside Clinic",
        text=f"Grüße! Accept here: https://clinvault.test/i/abc\n{BODY_MARKER}\n",
        html=f"<p>Grüße! <a href='https://clinvault.test/i/abc'>Accept</a> {BODY_MARKER}</p>",
        idempotency_key=key,
    )


def _starttls_mailer(port: int, context: ssl.SSLContext, **kwargs: Any) -> SmtpMailer:
    return SmtpMailer(
        "127.0.0.1",
        port,
        sender=SENDER,
        ssl_context=context,
        timeout=10,
        local_hostname="app.clinvault.test",
        **kwargs,
    )


def _assert_intact(received: Received) -> None:
    assert received.mail_from == "no-reply@clinvault.test"
    assert received.rcpt_tos == (RECIPIENT,)
    message = message_from_bytes(received.content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == "Einladung: join Northside Clinic"
    assert message["Message-ID"] == message_id("invitation:1")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    assert text.get_content().replace("\r\n", "\n") == (
        f"Grüße! Accept here: https://clinvault.test/i/abc\n{BODY_MARKER}\n"
    )
    assert "<a href='https://clinvault.test/i/abc'>Accept</a>" in html.get_content()


@pytest.mark.parametrize("auth", [False, True], ids=["anonymous", "auth"])
async def test_starttls_delivery_with_a_private_ca(
    starttls_mailer: StartTlsMailer, auth: bool
) -> None:
    handler = CollectingHandler()
    credentials = {"username": USERNAME, "password": PASSWORD} if auth else {}
    mailer = starttls_mailer(handler, auth=auth, **credentials)

    await mailer.check()
    await mailer.send(_mail())

    [received] = handler.received
    _assert_intact(received)
    assert received.authenticated is auth


async def test_starttls_through_the_factory_with_a_ca_file(
    start_server: StartServer, server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    handler = CollectingHandler()
    server = start_server(handler, tls_context=server_tls, require_starttls=True)
    mailer = open_mailer(f"smtp://127.0.0.1:{server.port}", sender=SENDER, ca_file=ca_file)

    await mailer.send(_mail())

    [received] = handler.received
    _assert_intact(received)


async def test_implicit_tls_through_smtps(
    start_server: StartServer, server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    handler = CollectingHandler()
    server = start_server(
        handler, ssl_context=server_tls, authenticator=_authenticator, auth_require_tls=False
    )
    mailer = open_mailer(
        f"smtps://127.0.0.1:{server.port}",
        sender=SENDER,
        username=USERNAME,
        password=PASSWORD,
        ca_file=ca_file,
    )

    await mailer.check()
    await mailer.send(_mail())

    [received] = handler.received
    _assert_intact(received)
    assert received.authenticated


async def test_wrong_password_is_a_permanent_failure(
    starttls_mailer: StartTlsMailer,
) -> None:
    handler = CollectingHandler()
    mailer = starttls_mailer(handler, auth=True, username=USERNAME, password="wrong")

    with pytest.raises(MailDeliveryFailed, match="authentication failed") as caught:
        await mailer.send(_mail())

    assert caught.value.retryable is False
    assert caught.value.smtp_code == 535
    assert "wrong" not in str(caught.value)
    assert handler.received == []
    with pytest.raises(MailDeliveryFailed, match="authentication failed"):
        await mailer.check()


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
async def test_untrusted_certificate_is_refused(
    start_server: StartServer, server_tls: ssl.SSLContext, scheme: str
) -> None:
    handler = CollectingHandler()
    tls: dict[str, Any] = (
        {"ssl_context": server_tls}
        if scheme == "smtps"
        else {"tls_context": server_tls, "require_starttls": True}
    )
    server = start_server(handler, **tls)
    mailer = open_mailer(f"{scheme}://127.0.0.1:{server.port}", sender=SENDER)

    with pytest.raises(MailDeliveryFailed, match="certificate not trusted") as caught:
        await mailer.send(_mail())

    assert caught.value.retryable is False
    assert handler.received == []


async def test_server_without_starttls_is_not_used_in_plaintext(
    start_server: StartServer, client_tls: ssl.SSLContext
) -> None:
    handler = CollectingHandler()
    server = start_server(handler)
    mailer = _starttls_mailer(server.port, client_tls, username=USERNAME, password=PASSWORD)

    with pytest.raises(MailDeliveryFailed, match="does not support") as caught:
        await mailer.send(_mail())

    assert caught.value.retryable is False
    assert handler.received == []


async def test_plaintext_relay_on_localhost_when_explicitly_allowed(
    start_server: StartServer,
) -> None:
    handler = CollectingHandler()
    server = start_server(handler)
    mailer = open_mailer(f"smtp://127.0.0.1:{server.port}?starttls=false", sender=SENDER)

    await mailer.send(_mail())

    [received] = handler.received
    _assert_intact(received)


@pytest.mark.parametrize(
    ("make_handler", "code", "expected"),
    [
        (RefusingRecipientsHandler, 550, "recipient refused (550 5.1.1 <[address]>"),
        (RefusingDataHandler, 550, "message refused: 550 5.7.1"),
        (
            lambda: RefusingRecipientsHandler("451 4.3.0 <{address}>: try again later"),
            451,
            "recipient refused (451 4.3.0 <[address]>",
        ),
    ],
    ids=["recipient-550", "data-550", "recipient-451"],
)
async def test_refusal_is_reported_without_body_or_address(
    starttls_mailer: StartTlsMailer,
    make_handler: Callable[[], CollectingHandler],
    code: int,
    expected: str,
) -> None:
    handler = make_handler()
    mailer = starttls_mailer(handler)

    with pytest.raises(MailDeliveryFailed) as caught:
        await mailer.send(_mail())

    error = caught.value
    assert expected in str(error)
    assert error.smtp_code == code
    assert error.retryable is (code < 500)
    assert BODY_MARKER not in str(error)
    assert RECIPIENT not in str(error)
    assert error.__cause__ is None
    assert handler.received == []


async def test_partial_refusal_reports_without_inviting_a_duplicate_retry(
    starttls_mailer: StartTlsMailer,
) -> None:
    handler = RefusingRecipientsHandler()
    mailer = starttls_mailer(handler)

    with pytest.raises(MailDeliveryFailed, match="1 of 2 recipients refused") as caught:
        await mailer.send(_mail(to=("refused@example.org", "bob@example.org")))

    assert caught.value.retryable is False
    assert "refused@example.org" not in str(caught.value)
    [received] = handler.received
    assert received.rcpt_tos == ("bob@example.org",)


async def test_unreachable_server_is_retryable() -> None:
    mailer = _starttls_mailer(_free_port(), ssl.create_default_context())

    with pytest.raises(MailDeliveryFailed) as caught:
        await mailer.send(_mail())
    assert caught.value.retryable is True

    with pytest.raises(MailDeliveryFailed):
        await mailer.check()
