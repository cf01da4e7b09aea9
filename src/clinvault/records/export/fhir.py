"""The patient's chart as a FHIR R4 Bundle (type `collection`): JSON the patient can keep.

Resources: the Patient; an AllergyIntolerance for recorded allergies; an
Observation for the blood type; a DocumentReference per medical record (the
text as a base64 plain-text attachment, superseded versions marked so); an
Appointment per appointment; a Practitioner (name only) per practitioner named.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

from clinvault.records.appointments.schemas import AppointmentRead
from clinvault.records.export.schemas import ChartExport
from clinvault.records.medical.schemas import RecordRead
from clinvault.records.patients.schemas import PatientRead

MRN_SYSTEM = "urn:clinvault:mrn"
GENDERS = {"male": "male", "female": "female", "other": "other"}
APPOINTMENT_STATUS = {
    "requested": "proposed",
    "declined": "cancelled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def patient_resource(patient: PatientRead) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": [{"system": MRN_SYSTEM, "value": patient.mrn}],
        "name": [{"family": patient.last_name, "given": [patient.first_name]}],
        "gender": GENDERS.get(patient.gender.lower(), "unknown"),
    }
    if patient.date_of_birth is not None:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    telecom = [{"system": "phone", "value": patient.phone}] if patient.phone else []
    telecom += [{"system": "email", "value": patient.email}] if patient.email else []
    if telecom:
        resource["telecom"] = telecom
    if patient.address:
        resource["address"] = [{"text": patient.address}]
    if patient.emergency_contact:
        resource["contact"] = [{"name": {"text": patient.emergency_contact}}]
    return resource


def _reference(patient: PatientRead) -> dict[str, str]:
    return {"reference": f"urn:uuid:{patient.id}"}


def _clinical_facts(patient: PatientRead) -> list[dict[str, Any]]:
    facts: list[dict[str, Any]] = []
    if patient.allergies:
        facts.append(
            {
                "resourceType": "AllergyIntolerance",
                "id": str(uuid.uuid5(patient.id, "allergies")),
                "patient": _reference(patient),
                "code": {"text": patient.allergies},
            }
        )
    if patient.blood_type:
        facts.append(
            {
                "resourceType": "Observation",
                "id": str(uuid.uuid5(patient.id, "blood-type")),
                "status": "final",
                "code": {
                    "coding": [
                        {"system": "http://loinc.org", "code": "882-1", "display": "ABO+Rh group"}
                    ],
                    "text": "Blood type",
                },
                "subject": _reference(patient),
                "valueString": patient.blood_type,
            }
        )
    return facts


def record_resource(record: RecordRead, patient: PatientRead) -> dict[str, Any]:
    content = base64.b64encode(record.content.encode("utf-8")).decode("ascii")
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(record.id),
        "status": "superseded" if record.superseded_by else "current",
        "type": {"text": record.record_type.replace("_", " ")},
        "subject": _reference(patient),
        "date": record.recorded_at.isoformat(),
        "description": record.title,
        "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": content}}],
    }
    if record.author_id is not None:
        resource["author"] = [{"reference": f"urn:uuid:{record.author_id}"}]
    if record.supersedes is not None:
        resource["relatesTo"] = [
            {"code": "replaces", "target": {"reference": f"urn:uuid:{record.supersedes}"}}
        ]
    return resource


def appointment_resource(
    appointment: AppointmentRead, chart: ChartExport, now: datetime
) -> dict[str, Any]:
    status = APPOINTMENT_STATUS.get(appointment.status, "booked")
    if status == "booked" and appointment.ends_at <= now:
        status = "fulfilled"
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appointment.id),
        "status": status,
        "start": appointment.starts_at.isoformat(),
        "end": appointment.ends_at.isoformat(),
        "participant": [
            {"actor": _reference(chart.patient), "status": "accepted"},
            {
                "actor": {
                    "reference": f"urn:uuid:{appointment.practitioner_id}",
                    "display": chart.practitioner_name(appointment.practitioner_id),
                },
                "status": "accepted",
            },
        ],
    }
    if appointment.reason:
        resource["description"] = appointment.reason
    if appointment.requested_until is not None:
        resource["requestedPeriod"] = [
            {
                "start": appointment.starts_at.isoformat(),
                "end": appointment.requested_until.isoformat(),
            }
        ]
    return resource


def bundle(chart: ChartExport, now: datetime) -> dict[str, Any]:
    resources: list[dict[str, Any]] = [patient_resource(chart.patient)]
    resources += _clinical_facts(chart.patient)
    resources += [record_resource(record, chart.patient) for record in chart.records]
    resources += [appointment_resource(item, chart, now) for item in chart.appointments]
    named = {item.practitioner_id for item in chart.appointments}
    named |= {record.author_id for record in chart.records if record.author_id is not None}
    for practitioner_id in sorted(named, key=str):
        resources.append(
            {
                "resourceType": "Practitioner",
                "id": str(practitioner_id),
                "name": [{"text": chart.practitioner_name(practitioner_id)}],
            }
        )
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": [_entry(resource) for resource in resources],
    }
    if not chart.complete:
        result["meta"] = {"tag": [{"code": "truncated", "display": "Chart cut at the limit"}]}
    return result
