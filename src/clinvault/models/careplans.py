"""Care plans (FHIR CarePlan) and their immutable numbered versions.

The plan row holds the current version's content, for lists and reads; every
change writes a new `CarePlanVersion` and never rewrites an old one. Title and
content (period, goals, activities, the Markdown body, as JSON) are PHI:
`EncryptedString`. The status stays clear, so that lists filter on it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinvault.crypto.fields import EncryptedString
from clinvault.models.base import Base, CreatedMixin, IdMixin
from clinvault.timeutil import utcnow


class CarePlan(IdMixin, CreatedMixin, Base):
    __tablename__ = "care_plans"
    __table_args__ = (Index("ix_care_plans_patient", "organization_id", "patient_id", "status"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(EncryptedString("care_plans.title"))
    content: Mapped[str] = mapped_column(EncryptedString("care_plans.content"))
    shared_with_patient: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    """The current version's number: every change checks the one it was based on."""
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CarePlanVersion(IdMixin, CreatedMixin, Base):
    """One immutable version: what the plan said, who wrote it, when."""

    __tablename__ = "care_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    acting_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(EncryptedString("care_plan_versions.title"))
    content: Mapped[str] = mapped_column(EncryptedString("care_plan_versions.content"))
    shared_with_patient: Mapped[bool] = mapped_column(Boolean, default=False)
    restored_from: Mapped[int | None] = mapped_column(Integer)


class CarePlanShare(IdMixin, CreatedMixin, Base):
    """A grant: one plan shared with a user or with another provider organization.

    A share to another organization always expires and shows there only once
    one of its clinicians accepted it; a revoked share stays, naming who revoked
    it and when.
    """

    __tablename__ = "care_plan_shares"
    __table_args__ = (
        Index("ix_care_plan_shares_plan", "plan_id"),
        Index("ix_care_plan_shares_grantee_org", "grantee_organization_id"),
        Index("ix_care_plan_shares_grantee_user", "grantee_user_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    """The plan's (owning) organization."""
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"))
    grantee_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE")
    )
    grantee_organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    """The receiving organization (a user share: the user's own organization)."""
    level: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime | None] = mapped_column()
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    accepted_at: Mapped[datetime | None] = mapped_column()
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class CarePlanComment(IdMixin, CreatedMixin, Base):
    """A comment: a thread's first one (`parent_id` None) or a reply to it.

    Tied to the version it was written on and optionally to a goal or activity
    (`anchor`), whose text at the time is kept so that a later change marks the
    thread as outdated. Editable by its author for 15 minutes, then append-only.
    """

    __tablename__ = "care_plan_comments"
    __table_args__ = (Index("ix_care_plan_comments_plan", "plan_id", "created_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("care_plan_comments.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    anchor: Mapped[str | None] = mapped_column(String(20))
    """`goal:<index>` or `activity:<index>`."""
    anchor_text: Mapped[str | None] = mapped_column(EncryptedString("care_plan_comments.anchor"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    acting_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(EncryptedString("care_plan_comments.body"))
    edited_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class CarePlanWatch(IdMixin, CreatedMixin, Base):
    """A user's explicit choice to watch (or stop watching) a plan.

    Without a row, the author, the users it is shared with and the commenters
    watch it; `watching=False` is an unwatch that outlasts all of those.
    """

    __tablename__ = "care_plan_watches"
    __table_args__ = (UniqueConstraint("plan_id", "user_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    watching: Mapped[bool] = mapped_column(Boolean)


class CarePlanAttachment(IdMixin, CreatedMixin, Base):
    """A document attached to a plan in a given version; its bytes are an encrypted object.

    Removing it keeps the row (who, when, in which version) and the object: the
    plan's record stays whole.
    """

    __tablename__ = "care_plan_attachments"
    __table_args__ = (Index("ix_care_plan_attachments_plan", "plan_id", "created_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    """The plan version current when the document was added."""
    object_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("encrypted_objects.id", ondelete="RESTRICT"), unique=True
    )
    filename: Mapped[str] = mapped_column(EncryptedString("care_plan_attachments.filename"))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    added_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_by_name: Mapped[str] = mapped_column(String(200), default="")
    acting_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    removed_at: Mapped[datetime | None] = mapped_column()
    removed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    removed_in_version: Mapped[int | None] = mapped_column(Integer)


class CarePlanMailPreference(IdMixin, CreatedMixin, Base):
    """How a user receives care-plan emails: `immediate` (one per event) or `daily_digest`.

    Without a row, `immediate`. In-app notifications are immediate either way.
    """

    __tablename__ = "care_plan_mail_preferences"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    delivery: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CarePlanDigestEntry(IdMixin, CreatedMixin, Base):
    """One event waiting for (or listed in) a digest user's daily email: a headline and a
    link, never health information.

    `digest_key` names the digest that listed it (the mail workflow's id, one per user
    and day), set in the transaction that picks the day's entries; `mailed_at` when
    that email went out.
    """

    __tablename__ = "care_plan_digest_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        Index("ix_care_plan_digest_entries_digest", "digest_key", "user_id"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    """The recipient's organization."""
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("care_plans.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    headline: Mapped[str] = mapped_column(String(200))
    link: Mapped[str] = mapped_column(String(500))
    dedupe_key: Mapped[str] = mapped_column(String(200))
    digest_key: Mapped[str | None] = mapped_column(String(120))
    digested_at: Mapped[datetime | None] = mapped_column()
    mailed_at: Mapped[datetime | None] = mapped_column()
