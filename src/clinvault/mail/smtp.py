"""SMTP delivery over TLS: implicit TLS (smtps, port 465) or mandatory STARTTLS (port 587).

smtplib is blocking, so every exchange runs in a worker thread with a fresh
connection. Failures become MailDeliveryFailed with `retryable` set from the
reply class (4xx and connection trouble: try again; 5xx, certificate and
configuration problems: do not). Error messages carry the server's reply with
mail addresses redacted, and never the message body.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from email.message import EmailMessage

import structlog

from clinvault.mail.message import build_message, envelope_address
from clinvault.mail.ports import MailDeliveryFailed, OutgoingMail

_ADDRESS = re.compile(r"[^\s<>@\"']+@[^\s<>\"']+")
_MAX_REPLY_CHARS = 200
_OK = 250

log = structlog.get_logger(__name__)


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def default_tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        implicit_tls: bool = False,
        starttls: bool | None = None,
        username: str | None = None,
        password: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        if starttls is None:
            starttls = not implicit_tls
        if implicit_tls and starttls:
            raise ValueError("choose implicit TLS or STARTTLS, not both")
        if not implicit_tls and not starttls and not is_loopback_host(host):
            raise ValueError(
                f"refusing plaintext SMTP to {host}: STARTTLS may only be disabled for a "
                "relay on localhost"
            )
        if (username is None) != (password is None):
            raise ValueError("SMTP username and password must be set together")
        if timeout <= 0:
            raise ValueError("SMTP timeout must be positive")
        self._envelope_sender = envelope_address(sender)
        self._sender = sender
        self._host = host
        self._port = port
        self._implicit_tls = implicit_tls
        self._starttls = starttls
        self._username = username
        self._password = password
        self._ssl_context = ssl_context or default_tls_context()
        self._timeout = timeout
        self._local_hostname = local_hostname

    def __repr__(self) -> str:
        tls = "implicit" if self._implicit_tls else "starttls" if self._starttls else "none"
        return (
            f"SmtpMailer(host={self._host!r}, port={self._port}, tls={tls}, "
            f"auth={self._username is not None})"
        )

    async def send(self, mail: OutgoingMail) -> None:
        message = build_message(mail, sender=self._sender)
        recipients = [envelope_address(to) for to in mail.to]
        try:
            await asyncio.to_thread(self._send, message, recipients)
        except MailDeliveryFailed as exc:
            log.warning(
                "mail.smtp.failed",
                message_id=str(message["Message-ID"]),
                retryable=exc.retryable,
                smtp_code=exc.smtp_code,
            )
            raise
        log.info(
            "mail.smtp.delivered", message_id=str(message["Message-ID"]), recipients=len(recipients)
        )

    async def check(self) -> None:
        """Connect, secure and authenticate as a delivery would, then NOOP."""
        await asyncio.to_thread(self._check)

    def _send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        client = self._open()
        try:
            refused = client.send_message(
                message, from_addr=self._envelope_sender, to_addrs=list(recipients)
            )
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(client)
            raise _delivery_failure(exc, self._where) from _cause(exc)
        _close_quietly(client)
        if refused:
            # Some recipients already have the message: a retry would duplicate it.
            raise MailDeliveryFailed(
                f"{self._where}: {len(refused)} of {len(recipients)} recipients refused "
                f"({_summarize_refusals(refused)}); the others were delivered",
                retryable=False,
                smtp_code=min(code for code, _ in refused.values()),
            )

    def _check(self) -> None:
        client = self._open()
        try:
            code, reply = client.noop()
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(client)
            raise _delivery_failure(exc, self._where) from _cause(exc)
        _close_quietly(client)
        if code != _OK:
            raise MailDeliveryFailed(
                f"{self._where}: NOOP answered {code} {_redact(reply.decode('utf-8', 'replace'))}",
                retryable=_transient(code),
                smtp_code=code,
            )

    @property
    def _where(self) -> str:
        return f"SMTP {self._host}:{self._port}"

    def _open(self) -> smtplib.SMTP:
        """Connect, secure and authenticate; raise MailDeliveryFailed on any failure."""
        client: smtplib.SMTP | None = None
        try:
            if self._implicit_tls:
                client = smtplib.SMTP_SSL(
                    self._host,
                    self._port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                    context=self._ssl_context,
                )
            else:
                client = smtplib.SMTP(
                    self._host,
                    self._port,
                    local_hostname=self._local_hostname,
                    timeout=self._timeout,
                )
                if self._starttls:
                    # Raises SMTPNotSupportedError when the server does not offer
                    # STARTTLS: never fall back to plaintext.
                    client.starttls(context=self._ssl_context)
            if self._username is not None and self._password is not None:
                client.login(self._username, self._password)
        except (smtplib.SMTPException, OSError) as exc:
            if client is not None:
                _close_quietly(client)
            raise _delivery_failure(exc, self._where) from _cause(exc)
        return client


def _delivery_failure(exc: BaseException, where: str) -> MailDeliveryFailed:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = exc.recipients
        codes = [code for code, _ in refusals.values()]
        return MailDeliveryFailed(
            f"{where}: {'recipients' if len(refusals) > 1 else 'recipient'} refused "
            f"({_summarize_refusals(refusals)})",
            retryable=bool(codes) and all(_transient(code) for code in codes),
            smtp_code=min(codes) if codes else None,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return MailDeliveryFailed(
            f"{where}: server does not support a required extension ({exc}); "
            "check the TLS mode in CLINVAULT_MAIL_URL and whether the server takes credentials",
            retryable=False,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        reply = exc.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        stage = {
            smtplib.SMTPSenderRefused: "sender refused",
            smtplib.SMTPDataError: "message refused",
            smtplib.SMTPAuthenticationError: "authentication failed",
            smtplib.SMTPHeloError: "greeting refused",
            smtplib.SMTPConnectError: "connection refused",
        }.get(type(exc), "command refused")
        return MailDeliveryFailed(
            f"{where}: {stage}: {code} {_redact(text)}",
            retryable=_transient(code) or code < 0,
            smtp_code=code if code > 0 else None,
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailDeliveryFailed(
            f"{where}: TLS certificate not trusted ({exc.verify_message}); "
            "set CLINVAULT_SMTP_CA_FILE for a private CA",
            retryable=False,
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return MailDeliveryFailed(f"{where}: connection closed by the server")
    if isinstance(exc, TimeoutError):
        return MailDeliveryFailed(f"{where}: timed out")
    if isinstance(exc, OSError):
        return MailDeliveryFailed(f"{where}: {exc.strerror or type(exc).__name__}")
    return MailDeliveryFailed(f"{where}: {type(exc).__name__}")


def _transient(code: int) -> bool:
    """4xx replies mean "try again later"; 5xx mean "this will not work"."""
    return 400 <= code < 500


def _cause(exc: BaseException) -> BaseException | None:
    # Server replies and refusal maps can echo recipient addresses: do not chain them.
    return None if isinstance(exc, smtplib.SMTPException) else exc


def _summarize_refusals(refusals: Mapping[str, tuple[int, bytes]]) -> str:
    replies = sorted(
        {f"{code} {_redact(reply.decode('utf-8', 'replace'))}" for code, reply in refusals.values()}
    )
    return "; ".join(replies)


def _redact(reply: str) -> str:
    text = _ADDRESS.sub("[address]", " ".join(reply.split()))
    if len(text) > _MAX_REPLY_CHARS:
        text = text[: _MAX_REPLY_CHARS - 3] + "..."
    return text


def _close_quietly(client: smtplib.SMTP) -> None:
    # Delivery succeeded or already failed: a failing QUIT must not change the outcome.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()
