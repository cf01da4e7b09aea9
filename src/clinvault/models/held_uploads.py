"""Files of a partly refused credential upload, held so that they need not be sent again.

The bytes are an encrypted object like any stored document (its own data key,
wrapped by the key provider, an `encrypted_objects` row); the held row says
whose it is (organization and user) and until when. Only that user reads it
back, and only before `expires_at`; expired rows are purged with their objects.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from clinvault.crypto.fields import EncryptedString
from clinvault.models.base import Base, CreatedMixin, IdMixin


class HeldUpload(IdMixin, CreatedMixin, Base):
    __tablename__ = "held_uploads"
    __table_args__ = (Index("ix_held_uploads_owner", "organization_id", "user_id"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    object_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("encrypted_objects.id", ondelete="RESTRICT"), unique=True
    )
    filename: Mapped[str] = mapped_column(EncryptedString("held_uploads.filename"))
    size: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(index=True)
