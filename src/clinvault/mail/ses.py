"""Mail through Amazon SES, API v2 (`SendEmail` with raw content), beside the SMTP adapter.

The message is built exactly as for SMTP (`build_message`: the Message-ID comes
from the delivery's idempotency key), so the outbox above this port gives the
same at-most-once-per-delivery behaviour whichever backend sends. boto3 is
blocking: each call runs in a worker thread. Failures become MailDeliveryFailed,
retryable for throttling and transport trouble, not for a refused sender or
message; messages never carry the body or a recipient address.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from botocore.exceptions import BotoCoreError, ClientError

from clinvault.mail.message import build_message, envelope_address
from clinvault.mail.ports import MailDeliveryFailed, OutgoingMail

log = structlog.get_logger(__name__)

_RETRYABLE = frozenset(
    {
        "TooManyRequestsException",
        "LimitExceededException",
        "Throttling",
        "ThrottlingException",
        "ServiceUnavailable",
        "InternalFailure",
        "SendingPausedException",
    }
)
_FIXES = {
    "MessageRejected": "SES refused the message; verify the sender address or domain "
    "(CLINVAULT_MAIL_FROM) in SES, and leave the sandbox to mail unverified recipients",
    "MailFromDomainNotVerifiedException": "the MAIL FROM domain is not verified in SES",
    "AccountSuspendedException": "the SES account is suspended for sending",
    "SendingPausedException": "sending is paused for this SES account or configuration set",
    "NotFoundException": "the configuration set in CLINVAULT_SES_CONFIGURATION_SET does not exist",
    "AccessDeniedException": "this service's role lacks ses:SendEmail (or ses:SendRawEmail)",
}


class SesMailer:
    def __init__(
        self, client: Any, *, sender: str, region: str, configuration_set: str | None = None
    ) -> None:
        self._client = client
        self._sender = sender
        self._envelope_sender = envelope_address(sender)
        self._region = region
        self._configuration_set = configuration_set

    def __repr__(self) -> str:
        return f"SesMailer(region={self._region!r}, configuration_set={self._configuration_set!r})"

    async def send(self, mail: OutgoingMail) -> None:
        message = build_message(mail, sender=self._sender)
        request: dict[str, Any] = {
            "FromEmailAddress": self._envelope_sender,
            "Destination": {"ToAddresses": [envelope_address(to) for to in mail.to]},
            "Content": {"Raw": {"Data": message.as_bytes()}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = await asyncio.to_thread(lambda: self._client.send_email(**request))
        except (ClientError, BotoCoreError) as exc:
            failure = self._failure(exc, "sending")
            log.warning(
                "mail.ses.failed",
                message_id=str(message["Message-ID"]),
                retryable=failure.retryable,
            )
            raise failure from None
        log.info(
            "mail.ses.delivered",
            message_id=str(message["Message-ID"]),
            ses_message_id=response.get("MessageId"),
            recipients=len(mail.to),
        )

    async def check(self) -> None:
        """The sender identity (address or its domain) and the configuration set exist."""
        await asyncio.to_thread(self._check)

    def _check(self) -> None:
        domain = self._envelope_sender.rpartition("@")[2]
        try:
            if self._configuration_set:
                self._client.get_configuration_set(ConfigurationSetName=self._configuration_set)
            for identity in (self._envelope_sender, domain):
                try:
                    self._client.get_email_identity(EmailIdentity=identity)
                    return
                except ClientError as exc:
                    if _code(exc) != "NotFoundException":
                        raise
        except (ClientError, BotoCoreError) as exc:
            raise self._failure(exc, "checking") from None
        raise MailDeliveryFailed(
            f"SES in {self._region}: neither the sender address nor its domain {domain} is a "
            "verified identity; verify one in SES or change CLINVAULT_MAIL_FROM",
            retryable=False,
        )

    def _failure(self, exc: ClientError | BotoCoreError, doing: str) -> MailDeliveryFailed:
        where = f"SES in {self._region}"
        if isinstance(exc, BotoCoreError):
            return MailDeliveryFailed(
                f"{where}: unreachable while {doing} ({type(exc).__name__}); check the network "
                "and the region in CLINVAULT_MAIL_URL"
            )
        code = _code(exc)
        fix = _FIXES.get(code, "try again later")
        return MailDeliveryFailed(f"{where}: {code}: {fix}", retryable=code in _RETRYABLE)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) or "UnknownError"
