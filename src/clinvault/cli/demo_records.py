"""Demo patients with records and appointments, so the demo staff find a busy clinic.

Generated from fixed lists with a seeded random source: no real people. Each
demo patient has a fixed medical record number (DH000001, ...), so a second
run finds the ones that exist and adds nothing for them. Everything is written
in one transaction with one audit event. patient@healthcare.com is linked to
the first demo patient, who always has a few records and an upcoming visit.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.cli.common import audited
from clinvault.cli.lookups import organization_by_slug, user_by_email
from clinvault.models.identity import User
from clinvault.models.records import Appointment, Patient
from clinvault.records.appointments.schemas import SCHEDULED, AppointmentCreate
from clinvault.records.appointments.service import book_appointment
from clinvault.records.medical.schemas import RecordCreate
from clinvault.records.medical.service import record_entry
from clinvault.records.patients.schemas import PatientCreate
from clinvault.records.patients.search import mrn_digest
from clinvault.records.patients.writer import create_patient
from clinvault.timeutil import utcnow

PATIENT_COUNT = 300
SEED = 4242
MRN_PREFIX = "DH"
SLOT = timedelta(minutes=30)
OPENING_HOUR = 8
SLOTS_PER_DAY = 18  # 08:00 to 17:00
PAST_DAYS = 120
FUTURE_DAYS = 30

FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Imani", "Jonas",
    "Kavya", "Liam", "Mei", "Nadia", "Oscar", "Priya", "Quinn", "Rosa", "Samir", "Tova",
    "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zara", "Aiden", "Beatriz", "Caleb", "Daria",
    "Emeka", "Fiona", "Gabriel", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Noor",
    "Olga", "Pablo", "Rania", "Sven", "Thandiwe", "Ugo", "Valentina", "Wiktor", "Yara", "Zeno",
)  # fmt: skip
LAST_NAMES = (
    "Abara", "Bergstrom", "Castellano", "Dubois", "Eriksen", "Fontaine", "Guerrero", "Halvorsen",
    "Ibarra", "Jankowski", "Kowalczyk", "Lindqvist", "Moreau", "Nakamura", "Okonkwo", "Petrov",
    "Quintero", "Rasmussen", "Sandoval", "Takahashi", "Uddin", "Varga", "Whitfield", "Xu",
    "Yilmaz", "Zielinski", "Achterberg", "Brennan", "Cardoso", "Delacroix", "Esposito",
    "Fairweather", "Gallagher", "Haddad", "Iversen", "Jovanovic", "Kaur", "Larsen", "Mbeki",
    "Novak", "Oyelaran", "Pereira", "Rahman", "Szabo", "Tanaka", "Underwood", "Vasquez",
)  # fmt: skip
STREETS = (
    "Maple Avenue", "Harbour Road", "Mill Lane", "Orchard Street", "Station Road",
    "Willow Close", "Church Street", "Riverside Drive", "Elm Grove", "Park Terrace",
)  # fmt: skip
ALLERGIES = (None, None, None, "penicillin", "peanuts", "latex", "shellfish", "sulfa drugs")
BLOOD_TYPES = ("O+", "O+", "A+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-")
GENDERS = ("female", "male", "female", "male", "other", "unknown")
RECORDS = (
    ("consultation", "Annual check-up", "Routine review. No acute complaints.", "normal"),
    ("vital_signs", "Vital signs", "BP 124/78, HR 68, SpO2 98%, temp 36.8 C.", "low"),
    ("lab_result", "Full blood count", "Haemoglobin and white cells within range.", "normal"),
    ("lab_result", "HbA1c", "HbA1c 6.9%: repeat in three months.", "high"),
    ("imaging", "Chest X-ray", "No consolidation or effusion seen.", "normal"),
    ("prescription", "Amoxicillin course", "500 mg three times daily for 7 days.", "normal"),
    ("note", "Telephone follow-up", "Symptoms improving; advised rest and fluids.", "low"),
    ("procedure", "Wound dressing", "Dressing changed; wound healing well.", "normal"),
    (
        "consultation",
        "Chest pain review",
        "Atypical chest pain; ECG normal. Safety-netted.",
        "urgent",
    ),
    (
        "discharge_summary",
        "Discharge summary",
        "Discharged home after an uneventful stay.",
        "normal",
    ),
)
REASONS = ("Follow-up", "Annual review", "Blood test", "Vaccination", "Medication review")


@dataclass
class DemoRecordsResult:
    patients_created: int = 0
    patients_existing: int = 0
    records: int = 0
    appointments: int = 0
    linked_patient: str | None = None


@dataclass
class Diary:
    """Busy intervals per practitioner, so generated slots never overlap."""

    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def free(self, practitioner: uuid.UUID, start: datetime, end: datetime) -> bool:
        return all(end <= s or start >= e for s, e in self.busy.get(practitioner, []))

    def take(self, practitioner: uuid.UUID, start: datetime, end: datetime) -> None:
        self.busy.setdefault(practitioner, []).append((start, end))


def demo_mrn(index: int) -> str:
    return f"{MRN_PREFIX}{index + 1:06d}"


def fake_patient(rng: random.Random, index: int) -> PatientCreate:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    if index == 0:
        first, last = "Pat", "Patterson"
    contact_phone = f"+1555{rng.randrange(2_000_000, 9_999_999)}"
    born = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 85 * 365))
    return PatientCreate(
        mrn=demo_mrn(index),
        first_name=first,
        last_name=last,
        date_of_birth=born,
        gender=rng.choice(GENDERS),
        phone=f"+1555{rng.randrange(2_000_000, 9_999_999)}",
        email=f"{first.lower()}.{last.lower()}{index + 1}@example.com",
        address=f"{rng.randrange(1, 240)} {rng.choice(STREETS)}, Springfield",
        blood_type=rng.choice(BLOOD_TYPES),
        allergies=rng.choice(ALLERGIES),
        emergency_contact=f"{rng.choice(FIRST_NAMES)} {last}, {contact_phone}",
    )


def slot_start(day: date, slot: int) -> datetime:
    return datetime.combine(day, time(OPENING_HOUR), tzinfo=UTC) + slot * SLOT


def weekday(rng: random.Random, today: date, low: int, high: int) -> date:
    while True:
        day = today + timedelta(days=rng.randrange(low, high))
        if day.weekday() < 5:
            return day


async def _existing_mrns(session: AsyncSession, organization_id: uuid.UUID) -> set[str]:
    rows = await session.scalars(
        select(Patient.mrn_index).where(Patient.organization_id == organization_id)
    )
    return set(rows)


async def _diary(session: AsyncSession, practitioners: list[User]) -> Diary:
    diary = Diary()
    rows = await session.execute(
        select(Appointment.practitioner_id, Appointment.starts_at, Appointment.ends_at).where(
            Appointment.practitioner_id.in_([p.id for p in practitioners]),
            Appointment.status == SCHEDULED,
        )
    )
    for practitioner_id, starts_at, ends_at in rows:
        diary.take(practitioner_id, starts_at, ends_at)
    return diary


async def _book(
    session: AsyncSession,
    container: Container,
    diary: Diary,
    rng: random.Random,
    *,
    patient: Patient,
    practitioner: User,
    future: bool,
    today: date,
) -> bool:
    """Book one 30-minute visit in a free slot; False when none was found."""
    for _attempt in range(50):
        day = weekday(rng, today, 1, FUTURE_DAYS) if future else weekday(rng, today, -PAST_DAYS, 0)
        start = slot_start(day, rng.randrange(SLOTS_PER_DAY))
        if diary.free(practitioner.id, start, start + SLOT):
            break
    else:
        return False
    await book_appointment(
        session,
        organization_id=patient.organization_id,
        data=AppointmentCreate(
            patient_id=patient.id,
            practitioner_id=practitioner.id,
            starts_at=start,
            ends_at=start + SLOT,
            reason=rng.choice(REASONS),
        ),
        booked_by=None,
        max_minutes=container.settings.records.max_appointment_minutes,
        allow_past=not future,
    )
    diary.take(practitioner.id, start, start + SLOT)
    return True


async def _add_records(
    session: AsyncSession, rng: random.Random, patient: Patient, authors: list[User], count: int
) -> int:
    now = utcnow()
    for _ in range(count):
        record_type, title, content, priority = rng.choice(RECORDS)
        await record_entry(
            session,
            organization_id=patient.organization_id,
            patient_id=patient.id,
            data=RecordCreate.model_validate(
                {
                    "patient_id": patient.id,
                    "record_type": record_type,
                    "title": title,
                    "content": content,
                    "priority": priority,
                    "recorded_at": now
                    - timedelta(days=rng.randrange(1, 900), minutes=rng.randrange(600)),
                }
            ),
            author_id=rng.choice(authors).id if authors else None,
        )
    return count


async def _link_demo_patient(
    session: AsyncSession,
    container: Container,
    diary: Diary,
    rng: random.Random,
    *,
    organization_id: uuid.UUID,
    practitioners: list[User],
    result: DemoRecordsResult,
    today: date,
) -> None:
    """Link patient@ to the first demo patient; make sure records and a coming visit exist."""
    account = await user_by_email(session, "patient@healthcare.com")
    digest = mrn_digest(container.blind_index, demo_mrn(0))
    patient = await session.scalar(
        select(Patient).where(
            Patient.organization_id == organization_id, Patient.mrn_index == digest
        )
    )
    if patient is None or account is None or not account.is_demo:
        return
    if account.organization_id != organization_id:
        return
    if patient.user_id is None:
        holder = await session.scalar(select(Patient).where(Patient.user_id == account.id))
        if holder is not None:
            return
        patient.user_id = account.id
        await session.flush()
    elif patient.user_id != account.id:
        return
    result.linked_patient = patient.mrn
    if not practitioners:
        return
    upcoming = await session.scalar(
        select(Appointment.id).where(
            Appointment.patient_id == patient.id,
            Appointment.status == SCHEDULED,
            Appointment.starts_at > utcnow(),
        )
    )
    if upcoming is None and await _book(
        session, container, diary, rng, patient=patient, practitioner=practitioners[0],
        future=True, today=today,
    ):  # fmt: skip
        result.appointments += 1


async def seed_records(container: Container, organization_slug: str) -> DemoRecordsResult:
    """Create the demo patients of `organization_slug` that do not exist yet, with their chart."""
    result = DemoRecordsResult()
    # Fake data has to be the same on every run, not unpredictable.
    rng = random.Random(SEED)  # noqa: S311
    today = utcnow().date()
    async with audited(container, "demo", "demo.records") as (session, ctx):
        organization = await organization_by_slug(session, organization_slug)
        if organization is None:
            return result
        staff = [
            await user_by_email(session, f"{name}@healthcare.com") for name in ("doctor", "nurse")
        ]
        practitioners = [
            user
            for user in staff
            if user is not None and user.is_demo and user.organization_id == organization.id
        ]
        existing = await _existing_mrns(session, organization.id)
        diary = await _diary(session, practitioners)
        for index in range(PATIENT_COUNT):
            data = fake_patient(rng, index)
            visits = rng.randrange(0, 3)
            notes = 3 + rng.randrange(3) if index == 0 else rng.randrange(1, 5)
            assert data.mrn is not None
            if mrn_digest(container.blind_index, data.mrn) in existing:
                result.patients_existing += 1
                continue
            patient = await create_patient(
                session,
                container.blind_index,
                organization_id=organization.id,
                data=data,
                default_country_code=container.settings.records.default_phone_country_code,
            )
            result.patients_created += 1
            result.records += await _add_records(session, rng, patient, practitioners, notes)
            for visit in range(visits if practitioners else 0):
                booked = await _book(
                    session, container, diary, rng, patient=patient,
                    practitioner=rng.choice(practitioners), future=visit == 1, today=today,
                )  # fmt: skip
                result.appointments += int(booked)
        await _link_demo_patient(
            session, container, diary, rng, organization_id=organization.id,
            practitioners=practitioners, result=result, today=today,
        )  # fmt: skip
        ctx.resource_type = "patient"
        ctx.organization_hint = organization.id
    return result
