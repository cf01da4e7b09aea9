"""Account recovery and portal sessions: password-reset links and session activity."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clinvault.models.base import Base, CreatedMixin, IdMixin
from clinvault.timeutil import utcnow


class PasswordReset(IdMixin, CreatedMixin, Base):
    """One "forgot password" request, for a known address or not.

    Every request writes a row, so a request for an unknown address does the same
    work as one for a real account; `user_id` is NULL then and no mail is sent.
    Neither the address nor the client IP is stored: `address_key` and
    `source_key` are HMACs that only count requests. The link token is
    HMAC(token key of `token_key_version`, id + nonce), recomputed by the mail
    workflow and never stored; only its SHA-256 is (ADR 0004).
    """

    __tablename__ = "password_resets"

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    address_key: Mapped[str] = mapped_column(String(64), index=True)
    source_key: Mapped[str | None] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_nonce: Mapped[str] = mapped_column(String(64))
    token_key_version: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class PortalSession(Base):
    """The portal's view of one refresh-token family: last activity and cookie lifetime.

    A session not `remembered` ends after the configured idle time without a
    request; a remembered one ("stay signed in on this device") ends at `ends_at`.
    """

    __tablename__ = "portal_sessions"

    family_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    remembered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime] = mapped_column(default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column()
