"""The audit log: one row per request, each MACed, then chained in order."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clinvault.models.base import Base

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT.
BigSerial = BigInteger().with_variant(Integer(), "sqlite")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_time", "organization_id", "occurred_at"),
        Index("ix_audit_events_chain_seq", "chain_seq", unique=True),
    )

    seq: Mapped[int] = mapped_column(BigSerial, primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True)
    occurred_at: Mapped[datetime] = mapped_column()
    request_id: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    actor_roles: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[uuid.UUID | None] = mapped_column()
    action: Mapped[str] = mapped_column(String(100))
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # success | denied | failure | error
    status_code: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    key_version: Mapped[int] = mapped_column(Integer)
    mac: Mapped[str] = mapped_column(String(64))
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class AuditSignalAlert(Base):
    """When the organization's administrators were last alerted about one kind of signal.

    One row per (kind, organization, subject), keyed as `kind:organization:subject`
    (the subject is an account id for a lockout, `org` for a failed-sign-in burst).
    A new alert goes out only when no qualifying failure was seen for a whole
    window, so one burst gives one alert however long it lasts. Ids only.
    """

    __tablename__ = "audit_signal_alerts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    last_seen_at: Mapped[datetime] = mapped_column()
    alerted_at: Mapped[datetime] = mapped_column()
    alerts: Mapped[int] = mapped_column(Integer)
