"""All tables; importing this module registers every model on Base.metadata."""

from clinvault.models.audit import AuditEvent
from clinvault.models.base import Base
from clinvault.models.identity import Invitation, Organization, RecoveryCode, RefreshToken, User
from clinvault.models.objects import EncryptedObject

__all__ = [
    "AuditEvent",
    "Base",
    "EncryptedObject",
    "Invitation",
    "Organization",
    "RecoveryCode",
    "RefreshToken",
    "User",
]
