"""The records policies as a table: role x action, deny by default."""

from __future__ import annotations

import uuid

import pytest

from clinvault.identity.principal import Principal, Role
from clinvault.records import policies

ORG = uuid.uuid4()


def who(*roles: Role) -> Principal:
    return Principal(user_id=uuid.uuid4(), organization_id=ORG, roles=frozenset(roles))


@pytest.mark.parametrize(
    ("role", "create_patient", "write_records", "book"),
    [
        (Role.ORG_ADMIN, True, True, True),
        (Role.CLERK, True, False, True),
        (Role.DOCTOR, True, True, False),
        (Role.NURSE, True, True, False),
        (Role.PATIENT, False, False, False),
        (Role.PHARMACIST, False, False, False),
        (Role.CREDENTIALING_REVIEWER, False, False, False),
        (Role.ADMIN, False, False, False),
    ],
)
def test_role_table(role: Role, create_patient: bool, write_records: bool, book: bool) -> None:
    principal = who(role)
    assert policies.can_create_patient(principal) is create_patient
    assert policies.can_write_records(principal) is write_records
    assert policies.can_book_appointments(principal) is book


def test_nobody_without_roles_may_do_anything() -> None:
    nobody = who()
    assert not policies.can_list_patients(nobody)
    assert not policies.can_read_patient(nobody, nobody.user_id)
    assert not policies.can_list_records(nobody)
    assert not policies.can_list_appointments(nobody)
    assert not policies.can_read_record_catalogue(nobody)
    assert policies.editable_patient_fields(nobody) == frozenset()


def test_patients_see_only_their_own_chart() -> None:
    patient = who(Role.PATIENT)
    assert policies.sees_patient(patient, patient.user_id)
    assert not policies.sees_patient(patient, uuid.uuid4())
    assert not policies.sees_patient(patient, None)
    assert policies.can_read_records(patient, patient.user_id)
    assert not policies.can_read_records(patient, uuid.uuid4())
    assert policies.can_read_appointment(patient, patient.user_id)


def test_staff_with_a_patient_role_keep_staff_rights() -> None:
    nurse_patient = who(Role.NURSE, Role.PATIENT)
    assert not policies.acts_as_patient(nurse_patient)
    assert policies.sees_patient(nurse_patient, uuid.uuid4())


def test_clinicians_edit_clinical_fields_only() -> None:
    changed = {"allergies", "last_name", "ssn"}
    assert policies.forbidden_patient_fields(who(Role.NURSE), changed) == ["last_name", "ssn"]
    assert policies.forbidden_patient_fields(who(Role.DOCTOR), {"blood_type"}) == []
    assert policies.forbidden_patient_fields(who(Role.CLERK), changed) == []
    assert policies.forbidden_patient_fields(who(Role.PHARMACIST), {"allergies"}) == ["allergies"]
    assert not policies.can_link_patient_user(who(Role.DOCTOR))


def test_only_doctors_and_nurses_take_appointments() -> None:
    assert policies.can_take_appointments(["doctor"])
    assert policies.can_take_appointments(["clerk", "nurse"])
    assert not policies.can_take_appointments(["clerk", "org_admin"])
