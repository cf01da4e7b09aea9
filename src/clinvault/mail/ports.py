"""The mail port: one message in, delivered or raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    # Stable across retries: adapters use it to deliver a message at most once
    # where the backend allows it, and as the Message-ID.
    idempotency_key: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...

    async def check(self) -> None:
        """Raise MailDeliveryFailed when the backend cannot accept mail (readiness)."""
        ...


class MailDeliveryFailed(Exception):
    """The message was not delivered.

    `retryable` tells a workflow whether trying again later can help (a busy or
    unreachable server) or not (a refused recipient, a rejected certificate,
    wrong credentials). `smtp_code` is the server's reply code when there was one.
    The message never contains the mail's body.
    """

    def __init__(
        self,
        message: str = "mail delivery failed",
        *,
        retryable: bool = True,
        smtp_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.smtp_code = smtp_code

    def __reduce__(self) -> tuple[object, ...]:
        # Workflow engines pickle step errors; keep the keyword attributes.
        return (_rebuild_delivery_failed, (str(self), self.retryable, self.smtp_code))


def _rebuild_delivery_failed(
    message: str, retryable: bool, smtp_code: int | None
) -> MailDeliveryFailed:
    return MailDeliveryFailed(message, retryable=retryable, smtp_code=smtp_code)
