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

    async def check(self) -> None: ...


class MailDeliveryFailed(Exception):
    pass
