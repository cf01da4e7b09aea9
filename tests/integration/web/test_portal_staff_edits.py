"""Staff changing what they see in the portal: duplicates, demographics, account links,
record amendments, rescheduling and cancelling with a reason, follow-ups."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from portal_helpers import form_token, post_form, sign_in
from sqlalchemy import func, select
from tests.factories import create_org, create_user, mail_text, signed_in, wait_for_mail

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization, User
from clinvault.models.notifications import Notification
from clinvault.models.records import Appointment, MedicalRecord, Patient
from clinvault.records.appointments.schemas import AppointmentCreate
from clinvault.records.appointments.service import book_appointment


@asynccontextmanager
async def staff(
    app: FastAPI, org: Organization, container: Container, role: Role, user: User | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A signed-in portal client for `user`, or for a new member of `org` holding `role`."""
    if user is None:
        user = await create_user(container, org, roles=[role], display_name=f"{role.value} user")
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        assert (await sign_in(http, user.email)).status_code == 303
        yield http


def patient_fields(**overrides: str) -> dict[str, str]:
    fields = {
        "first_name": "Amara",
        "last_name": "Nwosu",
        "date_of_birth": "1975-06-30",
        "gender": "female",
        "mrn": "",
        "phone": "+15550100123",
        "email": "",
        "address": "",
        "blood_type": "",
        "allergies": "",
        "emergency_contact": "",
        "ssn": "",
    }
    fields.update(overrides)
    return fields


async def register(clerk: httpx.AsyncClient, **overrides: str) -> str:
    created = await post_form(clerk, "/patients/new", "/patients/new", patient_fields(**overrides))
    assert created.status_code == 303, created.text
    return created.headers["location"].split("?")[0]


async def rows(container: Container, model: type, **where: object) -> list:  # type: ignore[type-arg]
    async with container.db.sessions() as session:
        query = select(model).filter_by(**where)
        return list((await session.scalars(query)).all())


async def count(container: Container, model: type) -> int:  # type: ignore[type-arg]
    async with container.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def book(
    container: Container, org: Organization, patient_id: str, practitioner: User, hours: int
) -> str:
    starts = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)
    data = AppointmentCreate(
        patient_id=uuid.UUID(patient_id),
        practitioner_id=practitioner.id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=30),
        reason="Check-up",
    )
    async with container.db.unit_of_work() as session:
        appointment = await book_appointment(
            session, organization_id=org.id, data=data, booked_by=None, max_minutes=240
        )
        return str(appointment.id)


async def test_registration_shows_every_problem_in_words_and_warns_of_duplicates(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    async with staff(app, org, container, Role.CLERK) as clerk:
        form = await clerk.get("/patients/new")
        assert '<span class="required-mark">(required)</span>' in form.text
        chart = await register(clerk, mrn="NW-1")

        refused = await post_form(
            clerk,
            "/patients/new",
            "/patients/new",
            patient_fields(first_name="", phone="+1 555", ssn="12-345", mrn="NW-1"),
        )
        assert refused.status_code == 400
        page = refused.text
        for field in ("first_name", "phone", "ssn", "mrn"):
            assert f'id="{field}-error"' in page, field
        assert "Enter the first name." in page
        assert "as 9 digits, with or without dashes" in page
        assert "Another patient has this medical record number" in page
        assert "[0-9]" not in page
        assert "date_of_birth must" not in page
        assert 'value="Nwosu"' in page
        assert 'value="+1 555"' in page
        assert 'aria-describedby="ssn-hint ssn-error"' in page

        same_person = await post_form(
            clerk, "/patients/new", "/patients/new", patient_fields(phone="+15550100999")
        )
        assert same_person.status_code == 409
        assert 'id="duplicates"' in same_person.text
        assert f'href="{chart}"' in same_person.text
        assert "same name and date of birth" in same_person.text
        assert 'name="register_anyway"' in same_person.text
        assert 'value="+15550100999"' in same_person.text
        same_phone = await post_form(
            clerk,
            "/patients/new",
            "/patients/new",
            patient_fields(first_name="Chidi", date_of_birth="2001-01-01", phone="(555) 010-0123"),
        )
        assert same_phone.status_code == 409
        assert "same phone number" in same_phone.text
        assert await count(container, Patient) == 1

        other = await register(clerk, first_name="Amaka", phone="+15550100777")
        assert other != chart
        anyway = await register(clerk, phone="+15550100999", register_anyway="yes")
        assert anyway not in (chart, other)
        assert await count(container, Patient) == 3

        _, headers = await signed_in(clerk, container, org, roles=[Role.NURSE])
        query = {"first_name": " AMARA ", "last_name": "nwosu", "date_of_birth": "1975-06-30"}
        found = await clerk.post("/api/patients/duplicates", json=query, headers=headers)
        assert found.status_code == 200, found.text
        items = found.json()["items"]
        assert [item["reasons"] for item in items] == [["same name and date of birth"]] * 2
        by_phone = {**query, "first_name": "Other", "phone": "+1 (555) 010-0777"}
        found = await clerk.post("/api/patients/duplicates", json=by_phone, headers=headers)
        assert [item["patient"]["first_name"] for item in found.json()["items"]] == ["Amaka"]


async def test_demographics_are_edited_as_the_role_allows_and_accounts_linked(
    app: FastAPI, container: Container
) -> None:
    org, foreign = await create_org(container), await create_org(container)
    patient_user = await create_user(container, org, roles=[Role.PATIENT])
    async with staff(app, org, container, Role.CLERK) as clerk:
        chart = await register(clerk, ssn="123-45-6789", mrn="AN-7")
        edit = f"{chart}/edit"
        page = await clerk.get(edit)
        assert 'value="Amara"' in page.text
        assert "123-45-6789" not in page.text
        fields = patient_fields(first_name="", email="not-an-email", allergies="pollen", mrn="AN-7")
        refused = await post_form(clerk, edit, edit, fields)
        assert refused.status_code == 400
        assert "Enter the first name." in refused.text
        assert "Enter a valid email address" in refused.text
        assert "pollen" in refused.text  # what was typed is kept
        saved = await post_form(clerk, edit, edit, patient_fields(last_name="Obi", mrn="AN-7"))
        assert saved.status_code == 303
        assert saved.headers["location"].endswith("?notice=updated")
        (patient,) = await rows(container, Patient)
        assert patient.last_name == "Obi"
        assert patient.ssn == "123456789"

        account = f"{chart}/account"
        unknown = await post_form(clerk, account, account, {"email": "nobody@example.org"})
        assert unknown.status_code == 400
        assert "No patient account has this email" in unknown.text
        assert 'value="nobody@example.org"' in unknown.text
        linked = await post_form(clerk, account, account, {"email": patient_user.email.upper()})
        assert linked.status_code == 303
        assert (await rows(container, Patient))[0].user_id == patient_user.id
        assert "Patient account: linked" in (await clerk.get(chart)).text

    async with staff(app, org, container, Role.NURSE) as nurse:
        page = await nurse.get(edit)
        assert page.status_code == 200
        assert 'name="first_name"' not in page.text
        assert 'name="allergies"' in page.text
        fields = patient_fields(first_name="Mallory", allergies="penicillin", blood_type="O-")
        assert (await post_form(nurse, edit, edit, fields)).status_code == 303
        (patient,) = await rows(container, Patient)
        assert patient.first_name == "Amara"
        assert patient.allergies == "penicillin"
        assert patient.blood_type == "O-"
        assert (await nurse.get(account)).status_code == 403
    async with staff(app, org, container, Role.PHARMACIST) as pharmacist:
        assert (await pharmacist.get(edit)).status_code == 403
    async with staff(app, foreign, container, Role.CLERK) as outsider:
        assert (await outsider.get(edit)).status_code == 404
        assert (await outsider.get(account)).status_code == 404


async def test_an_amendment_keeps_the_original_and_shows_the_change(
    app: FastAPI, container: Container
) -> None:
    org, foreign = await create_org(container), await create_org(container)
    async with staff(app, org, container, Role.CLERK) as clerk:
        chart = await register(clerk)
        new_record = f"{chart}/records/new"
    async with staff(app, org, container, Role.DOCTOR) as doctor:
        added = await post_form(
            doctor,
            new_record,
            new_record,
            {
                "record_type": "note",
                "priority": "normal",
                "title": "Knee pain",
                "content": "Pain on stairs.\nNo swelling.",
                "recorded_at": "2024-05-01T09:30",
            },
        )
        assert added.status_code == 303
        (original,) = await rows(container, MedicalRecord)
        timeline = await doctor.get(chart)
        assert f'href="/records/{original.id}"' in timeline.text
        amend = f"/records/{original.id}/amend"
        form = await doctor.get(amend)
        assert "Pain on stairs." in form.text
        assert 'value="Knee pain"' in form.text
        token = form_token(form.text, amend)
        same = {
            "record_type": "note",
            "priority": "normal",
            "title": "Knee pain",
            "content": "Pain on stairs.\nNo swelling.",
            "recorded_at": "2024-05-01T09:30",
        }
        unchanged = await doctor.post(amend, data={**same, "csrf_token": token})
        assert unchanged.status_code == 400
        assert "Nothing was changed" in unchanged.text
        empty = await doctor.post(amend, data={**same, "title": "", "csrf_token": token})
        assert empty.status_code == 400
        assert "Enter a title." in empty.text
        changed = {**same, "title": "Left knee pain", "content": "Pain on stairs.\nMild swelling."}
        amended = await doctor.post(amend, data={**changed, "csrf_token": token})
        assert amended.status_code == 303, amended.text
        location = amended.headers["location"]
        page = (await doctor.get(location)).text
        assert "Version 2 (current)" in page
        assert "Version 1 (original)" in page
        assert "<del>Knee pain</del>" in page
        assert "<ins>Left knee pain</ins>" in page
        assert re.search(r'diff-line--removed">.*No swelling\.</del>', page)
        assert re.search(r'diff-line--added">.*Mild swelling\.</ins>', page)
        assert "Amendment saved" in page
        assert (await doctor.get(f"/records/{original.id}")).text.count("Version 1") == 1
        assert (await doctor.get(amend)).headers["location"] == location.split("?")[0] + "/amend"
        assert await count(container, MedicalRecord) == 2
    patient_user = await create_user(container, org, roles=[Role.PATIENT])
    async with staff(app, org, container, Role.CLERK) as clerk:
        account = f"{chart}/account"
        linked = await post_form(clerk, account, account, {"email": patient_user.email})
        assert linked.status_code == 303
    async with staff(app, org, container, Role.PATIENT, user=patient_user) as patient:
        own = await patient.get(location.split("?")[0])
        assert own.status_code == 200
        assert 'href="/my-chart"' in own.text
        assert "Amend this record" not in own.text
        assert (await patient.get(amend)).status_code == 403
    async with staff(app, org, container, Role.CLERK) as clerk:
        assert (await clerk.get(amend)).status_code == 403
        assert (await clerk.get(f"/records/{original.id}")).status_code == 403
    async with staff(app, foreign, container, Role.DOCTOR) as outsider:
        assert (await outsider.get(f"/records/{original.id}")).status_code == 404
        assert (await outsider.get(amend)).status_code == 404


async def test_rescheduling_and_cancelling_need_a_confirmation_and_a_reason(
    app: FastAPI, container: Container
) -> None:
    org, foreign = await create_org(container), await create_org(container)
    doctor = await create_user(container, org, roles=[Role.DOCTOR], display_name="Dr Ada Eze")
    nurse = await create_user(container, org, roles=[Role.NURSE], display_name="Nurse Bo Lin")
    patient_user = await create_user(container, org, roles=[Role.PATIENT])
    async with staff(app, org, container, Role.CLERK) as clerk:
        chart = await register(clerk)
        patient_id = chart.rsplit("/", 1)[1]
        account = f"{chart}/account"
        assert (
            await post_form(clerk, account, account, {"email": patient_user.email})
        ).status_code == 303
        moved_id = await book(container, org, patient_id, doctor, hours=48)
        await book(container, org, patient_id, nurse, hours=72)  # the slot that clashes
        listing = await clerk.get(chart)
        assert f'href="/appointments/{moved_id}/reschedule"' in listing.text
        form_path = f"/appointments/{moved_id}/reschedule"
        form = await clerk.get(form_path)
        assert form.status_code == 200
        assert "Dr Ada Eze" in form.text
        token = form_token(form.text, form_path)
        day = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
        move = {
            "practitioner_id": str(doctor.id),
            "day": day,
            "start": "10:15",
            "minutes": "45",
            "timezone": "UTC",
            "why": "",
        }
        no_reason = await clerk.post(
            form_path, data={**move, "start": "25:99", "csrf_token": token}
        )
        assert no_reason.status_code == 400
        assert 'id="why-error"' in no_reason.text
        assert 'id="start-error"' in no_reason.text
        assert f'value="{day}"' in no_reason.text
        review = await clerk.post(
            form_path, data={**move, "why": "Doctor away", "csrf_token": token}
        )
        assert review.status_code == 200
        assert "Confirm the new time" in review.text
        (before,) = await rows(container, Appointment, id=uuid.UUID(moved_id))
        assert before.change_reason is None  # nothing changed before the confirmation
        confirm = f"{form_path}/confirm"
        confirm_token = form_token(review.text, confirm)
        done = await clerk.post(
            confirm, data={**move, "why": "Doctor away", "csrf_token": confirm_token}
        )
        assert done.status_code == 303
        assert done.headers["location"].endswith("notice=rescheduled")
        (after,) = await rows(container, Appointment, id=uuid.UUID(moved_id))
        assert after.change_reason == "Doctor away"
        assert after.starts_at.strftime("%H:%M") == "10:15"
        notices = await rows(container, Notification, kind="appointment.rescheduled")
        assert {row.user_id for row in notices} == {doctor.id, patient_user.id}
        assert all("Doctor away" not in row.body and "Amara" not in row.body for row in notices)

        clash_at = (datetime.now(UTC) + timedelta(hours=72)).replace(minute=0)
        clash = {
            **move,
            "practitioner_id": str(nurse.id),
            "day": clash_at.date().isoformat(),
            "start": clash_at.strftime("%H:%M"),
            "why": "Swap",
        }
        clashed = await clerk.post(confirm, data={**clash, "csrf_token": confirm_token})
        assert clashed.status_code == 409
        assert "already booked" in clashed.text
        assert 'value="Swap"' in clashed.text

        cancel_path = f"/appointments/{moved_id}/cancel"
        page = await clerk.get(cancel_path)
        assert "Cancel this appointment?" in page.text
        cancel_token = form_token(page.text, cancel_path)
        refused = await clerk.post(cancel_path, data={"why": "", "csrf_token": cancel_token})
        assert refused.status_code == 400
        assert 'id="why-error"' in refused.text
        assert (await rows(container, Appointment, id=uuid.UUID(moved_id)))[0].status == "scheduled"
        cancelled = await clerk.post(
            cancel_path, data={"why": "Patient unwell", "back": chart, "csrf_token": cancel_token}
        )
        assert cancelled.status_code == 303
        assert cancelled.headers["location"] == f"{chart}?notice=cancelled"
        (gone,) = await rows(container, Appointment, id=uuid.UUID(moved_id))
        assert gone.status == "cancelled"
        assert gone.cancel_reason == "Patient unwell"
        again = await clerk.get(cancel_path)
        assert "already cancelled" in again.text
        assert "Reason given: Patient unwell" in again.text
        for person in (doctor, patient_user):
            for headline in ("rescheduled", "cancelled"):
                mail = await wait_for_mail(
                    container, person.email, f"An appointment was {headline}"
                )
                text = mail_text(mail)
                assert "Sign in to see the details" in text
                for secret in ("Doctor away", "Patient unwell", "Amara", "Nwosu", "Dr Ada"):
                    assert secret not in text
                    assert secret not in str(mail["Subject"])
        notices = await rows(container, Notification, kind="appointment.cancelled")
        assert {row.user_id for row in notices} == {doctor.id, patient_user.id}

        follow = await clerk.get(f"{chart}/follow-up?practitioner={doctor.id}")
        assert follow.status_code == 200
        assert f'<option value="{doctor.id}" selected>' in follow.text
        assert 'value="Follow-up"' in follow.text
        latest = await clerk.get(f"{chart}/follow-up")
        assert f'<option value="{nurse.id}" selected>' in latest.text

    async with staff(app, org, container, Role.DOCTOR, user=doctor) as clinician:
        assert (await clinician.get(form_path)).status_code == 403
        assert (await clinician.get(cancel_path)).status_code == 403
        assert (await clinician.get(f"{chart}/follow-up")).status_code == 403
    async with staff(app, foreign, container, Role.CLERK) as outsider:
        assert (await outsider.get(form_path)).status_code == 404
        assert (await outsider.get(cancel_path)).status_code == 404
        assert (await outsider.get(f"{chart}/follow-up")).status_code == 404
