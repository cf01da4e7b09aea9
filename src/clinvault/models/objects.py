"""Metadata of every encrypted object: where it is and its wrapped data key."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clinvault.models.base import Base, CreatedMixin, IdMixin


class EncryptedObject(IdMixin, CreatedMixin, Base):
    __tablename__ = "encrypted_objects"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_version: Mapped[int] = mapped_column(Integer)
    plaintext_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(127))
