"""Prescriptions: the pharmacy directory, the prescription loop, verification links."""

from __future__ import annotations

from clinvault.errors.base import (
    Conflict,
    Gone,
    NotFound,
    PermissionDenied,
    RequestInvalid,
)


class PrescriptionNotFound(NotFound):
    code = "prescription_not_found"
    title = "Prescription not found"


class PharmacyQueueNotFound(NotFound):
    code = "pharmacy_queue_not_found"
    title = "No pharmacy work queue here"


class PharmacyInvalid(RequestInvalid):
    code = "pharmacy_invalid"
    title = "The pharmacy is not valid"


class PharmacySearchInvalid(RequestInvalid):
    code = "pharmacy_search_invalid"
    title = "The pharmacy search is not valid"


class PrescriberInvalid(RequestInvalid):
    code = "prescriber_invalid"
    title = "The prescriber is not valid"


class PrescriptionQuantityInvalid(RequestInvalid):
    code = "prescription_quantity_invalid"
    title = "The quantity is not valid"


class PrescriptionRuleViolated(RequestInvalid):
    code = "prescription_rule_violated"
    title = "The prescription breaks a prescribing rule"


class PrescriptionStateConflict(Conflict):
    code = "prescription_state_conflict"
    title = "Not possible in the prescription's current state"


class PrescriptionVersionConflict(Conflict):
    code = "prescription_version_conflict"
    title = "The prescription changed meanwhile"


class PrescriptionTooEarly(Conflict):
    code = "prescription_too_early"
    title = "The prescription may not be filled yet"


class PrescriptionNotYourDraft(PermissionDenied):
    code = "prescription_not_your_draft"
    title = "Only the named prescriber signs this prescription"


class DeaRegistrationRequired(PermissionDenied):
    code = "dea_registration_required"
    title = "A verified, unexpired DEA registration is required"


class SecondFactorRequired(PermissionDenied):
    code = "second_factor_required"
    title = "A fresh second factor is required"


class SecondFactorInvalid(PermissionDenied):
    code = "second_factor_invalid"
    title = "The second-factor code is not valid"


class VerificationTokenInvalid(RequestInvalid):
    code = "verification_token_invalid"
    title = "The verification link is not genuine"


class VerificationTokenExpired(Gone):
    code = "verification_token_expired"
    title = "The verification link has expired"


class VerificationTokenSuperseded(Gone):
    code = "verification_token_superseded"
    title = "The verification link was replaced"


class PrescriptionDocumentNotFound(NotFound):
    code = "prescription_document_not_found"
    title = "The prescription has no scanned document"


class PrescriptionDocumentRejected(RequestInvalid):
    code = "prescription_document_rejected"
    title = "The scanned document was rejected"


class PrescriptionDocumentExists(Conflict):
    code = "prescription_document_exists"
    title = "The prescription already has a scanned document"
