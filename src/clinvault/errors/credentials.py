"""Credential intake and review, uploads, notifications."""

from __future__ import annotations

from clinvault.errors.base import (
    BodyMalformed,
    BodyTooLarge,
    Conflict,
    NotFound,
    PermissionDenied,
    RequestInvalid,
)


class UploadTooLarge(BodyTooLarge):
    code = "upload_too_large"
    title = "The upload is too large"


class UploadTooManyParts(BodyTooLarge):
    code = "upload_too_many_parts"
    title = "The upload has too many parts"


class UploadMalformed(BodyMalformed):
    code = "upload_malformed"
    title = "The upload could not be read"


class PractitionerProfileRequired(RequestInvalid):
    code = "practitioner_profile_required"
    title = "A practitioner profile with a valid NPI is required"


class NpiInvalid(RequestInvalid):
    code = "npi_invalid"
    title = "The NPI is not valid"


class NpiTaken(Conflict):
    code = "npi_taken"
    title = "The NPI is already registered"


class CredentialMetadataInvalid(RequestInvalid):
    code = "credential_metadata_invalid"
    title = "The document metadata is not valid"


class CredentialFilesRejected(RequestInvalid):
    code = "credential_files_rejected"
    title = "One or more documents were rejected"


class CredentialContentInvalid(RequestInvalid):
    code = "credential_content_invalid"
    title = "A document's content is not valid base64"


class CredentialProviderMismatch(PermissionDenied):
    code = "credential_provider_mismatch"
    title = "The request names another provider"


class DecisionInvalid(RequestInvalid):
    code = "decision_invalid"
    title = "The decision is not complete"


class CredentialSubmissionNotFound(NotFound):
    code = "credential_submission_not_found"
    title = "Submission not found"


class CredentialDocumentNotFound(NotFound):
    code = "credential_document_not_found"
    title = "Document not found"


class CredentialAlreadyDecided(Conflict):
    code = "credential_already_decided"
    title = "The document was already decided"


class CredentialNotReplaceable(Conflict):
    code = "credential_not_replaceable"
    title = "The document cannot be replaced"


class CredentialCategoryTaken(Conflict):
    code = "credential_category_taken"
    title = "The category exists already"


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    title = "Notification not found"


class ReviewAssigneeInvalid(RequestInvalid):
    code = "review_assignee_invalid"
    title = "The reviewer to assign is not valid"
