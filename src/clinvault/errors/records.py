"""Records platform: patients, medical records, appointments."""

from __future__ import annotations

from typing import Any

from clinvault.errors.base import Conflict, NotFound, PermissionDenied, RequestInvalid


class PatientNotFound(NotFound):
    code = "patient_not_found"
    title = "Patient not found"


class PatientFieldsForbidden(PermissionDenied):
    code = "patient_fields_forbidden"
    title = "Some fields cannot be changed with your role"


class PatientMrnTaken(Conflict):
    code = "patient_mrn_taken"
    title = "The medical record number is taken"


class PatientUserInvalid(RequestInvalid):
    code = "patient_user_invalid"
    title = "The user cannot be linked to a patient"


class PatientUserAlreadyLinked(Conflict):
    code = "patient_user_already_linked"
    title = "The user is already linked to another patient"


class SearchQueryInvalid(RequestInvalid):
    code = "search_query_invalid"
    title = "The search query is not valid"


class SearchFilterInvalid(RequestInvalid):
    code = "search_filter_invalid"
    title = "A search filter is not valid"


class MedicalRecordNotFound(NotFound):
    code = "medical_record_not_found"
    title = "Medical record not found"


class MedicalRecordSuperseded(Conflict):
    code = "medical_record_superseded"
    title = "The record version was already amended"


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"
    title = "Attachment not found"


class AttachmentRejected(RequestInvalid):
    code = "attachment_rejected"
    title = "The file was rejected"


class AppointmentNotFound(NotFound):
    code = "appointment_not_found"
    title = "Appointment not found"


class AppointmentTimesInvalid(RequestInvalid):
    code = "appointment_times_invalid"
    title = "The appointment times are not valid"


class PractitionerInvalid(RequestInvalid):
    code = "practitioner_invalid"
    title = "The practitioner cannot take appointments"


class AppointmentCancelled(Conflict):
    code = "appointment_cancelled"
    title = "The appointment is cancelled"


class AppointmentClash(Conflict):
    """The practitioner is busy; the body names the clashing slot (`clash`)."""

    code = "appointment_clash"
    title = "The practitioner is already booked"

    def __init__(self, detail: str, *, clash: dict[str, str], **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.clash = clash

    def problem(self, instance: str, request_id: str) -> dict[str, Any]:
        body = super().problem(instance, request_id)
        body["clash"] = self.clash
        return body


class AppointmentNotRequested(Conflict):
    """Only a patient's request can be confirmed or declined."""

    code = "appointment_not_requested"
    title = "The appointment is not a pending request"


class AppointmentCancelTooLate(Conflict):
    """A patient cancels online only up to the cut-off before the start."""

    code = "appointment_cancel_too_late"
    title = "Too late to cancel online"
