"""All tables; importing this module registers every model on Base.metadata."""

from clinvault.models.accounts import PasswordReset, PortalSession
from clinvault.models.audit import AuditEvent
from clinvault.models.base import Base
from clinvault.models.careplans import (
    CarePlan,
    CarePlanAttachment,
    CarePlanComment,
    CarePlanDigestEntry,
    CarePlanMailPreference,
    CarePlanShare,
    CarePlanVersion,
    CarePlanWatch,
)
from clinvault.models.credentials import (
    CredentialCategory,
    CredentialDocument,
    CredentialReminder,
    CredentialSubmission,
    PractitionerProfile,
)
from clinvault.models.held_uploads import HeldUpload
from clinvault.models.identity import Invitation, Organization, RecoveryCode, RefreshToken, User
from clinvault.models.ingest import IngestJob, IngestRowError, IngestSettings, IngestUpload
from clinvault.models.notifications import Notification
from clinvault.models.objects import EncryptedObject
from clinvault.models.prescriptions import (
    PharmacyProfile,
    Prescription,
    PrescriptionDispense,
    PrescriptionEvent,
    PrescriptionFill,
    PrescriptionGrant,
    PrescriptionPolicy,
)
from clinvault.models.records import (
    Appointment,
    MedicalRecord,
    Patient,
    PatientSearchToken,
    RecordAttachment,
)

__all__ = [
    "Appointment",
    "AuditEvent",
    "Base",
    "CarePlan",
    "CarePlanAttachment",
    "CarePlanComment",
    "CarePlanDigestEntry",
    "CarePlanMailPreference",
    "CarePlanShare",
    "CarePlanVersion",
    "CarePlanWatch",
    "CredentialCategory",
    "CredentialDocument",
    "CredentialReminder",
    "CredentialSubmission",
    "EncryptedObject",
    "HeldUpload",
    "IngestJob",
    "IngestRowError",
    "IngestSettings",
    "IngestUpload",
    "Invitation",
    "MedicalRecord",
    "Notification",
    "Organization",
    "PasswordReset",
    "Patient",
    "PatientSearchToken",
    "PharmacyProfile",
    "PortalSession",
    "PractitionerProfile",
    "Prescription",
    "PrescriptionDispense",
    "PrescriptionEvent",
    "PrescriptionFill",
    "PrescriptionGrant",
    "PrescriptionPolicy",
    "RecordAttachment",
    "RecoveryCode",
    "RefreshToken",
    "User",
]
