"""Demo care plans shared between the two demo provider organizations.

Demo Health's doctor writes three plans for demo patients and shares them with
Demo Partner Clinic, whose doctor accepts each share: one at `edit` (the
partner doctor writes a version of it), one at `comment`, and one with the
partner doctor alone at `view`. The partner doctor writes a plan for a patient
of the partner clinic and shares it back with Demo Health at `comment`, which
Demo Health's doctor accepts. Each plan has several versions and comment
threads (replies, a goal and an activity anchor, a mention, a resolved thread).

Everything goes through the care plan services, as the API would: contents are
encrypted, versions numbered, shares and acceptances recorded, watchers
notified, and each access by the other organization audited in the owner's
log. It is one transaction, so a run creates all of it or nothing; the partner
clinic's demo patient (PC000001) is created in that transaction, so when it
exists the plans do too, and a second run adds nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.careplans.comments import CommentService
from clinvault.careplans.schemas import (
    CarePlanContent,
    CarePlanCreate,
    CarePlanRead,
    CommentCreate,
    ShareCreate,
    ShareLevel,
)
from clinvault.careplans.service import CarePlanService
from clinvault.careplans.shares import ShareService
from clinvault.cli.common import audited
from clinvault.cli.lookups import organization_by_slug, user_by_email
from clinvault.identity.principal import Principal, Role
from clinvault.models.credentials import PractitionerProfile
from clinvault.models.identity import User
from clinvault.models.records import Patient
from clinvault.records.patients.schemas import PatientCreate
from clinvault.records.patients.search import mrn_digest
from clinvault.records.patients.writer import create_patient
from clinvault.timeutil import utcnow

PARTNER_PATIENT_MRN = "PC000001"
PARTNER_NPI = "1234567810"
OWN_PATIENT_MRNS = ("DH000001", "DH000002", "DH000003")


@dataclass
class DemoCarePlansResult:
    created: int = 0
    skipped_reason: str = ""
    lines: list[str] = field(default_factory=list)


def _content(data: CarePlanRead | CarePlanContent, **changes: Any) -> CarePlanContent:
    """The plan's content with `changes` applied: the body of an update."""
    values = data.model_dump(
        include=set(CarePlanContent.model_fields), exclude={"body_html"}, mode="json"
    )
    values.update(changes)
    return CarePlanContent.model_validate(values)


def _activity(what: str, who: str, when: str, status: str = "not_started") -> dict[str, str]:
    return {"what": what, "who": who, "when": when, "status": status}


def _plans(today: date) -> list[dict[str, Any]]:
    """Three plans of Demo Health, then the partner clinic's: their first versions."""
    period = {"period_start": today.isoformat(), "period_end": (today + timedelta(180)).isoformat()}
    return [
        {
            "title": "Type 2 diabetes: first six months",
            "status": "draft",
            **period,
            "goals": ["HbA1c below 7% by the six-month review", "Walk 30 minutes five days a week"],
            "activities": [
                _activity("Metformin 500 mg twice daily", "Dr. Dana Doctor", "from today"),
                _activity("HbA1c blood test", "Practice nurse", "every 3 months"),
                _activity("Dietitian referral", "Demo Partner Clinic", "within 4 weeks"),
            ],
            "body": "## Plan\n\nStart metformin and review tolerance in two weeks.\n",
            "shared_with_patient": True,
        },
        {
            "title": "Knee rehabilitation after arthroscopy",
            "status": "active",
            **period,
            "goals": ["Full extension by week 4", "Return to cycling by week 10"],
            "activities": [
                _activity("Physiotherapy sessions", "Demo Partner Clinic", "twice a week"),
                _activity("Home exercise programme", "Patient", "daily"),
            ],
            "body": "Weight bearing as tolerated. Ice after exercise.\n",
        },
        {
            "title": "Blood pressure follow-up",
            "status": "active",
            "goals": ["Clinic blood pressure below 140/90"],
            "activities": [_activity("Home blood pressure diary", "Patient", "two weeks")],
            "body": "Recheck after the diary; consider a second agent if still raised.\n",
        },
        {
            "title": "Asthma action plan",
            "status": "active",
            "goals": ["No night-time symptoms", "No reliever use more than twice a week"],
            "activities": [
                _activity("Inhaler technique review", "Dr. Parker Partner", "next visit"),
                _activity("Peak flow diary", "Patient", "daily for 4 weeks"),
            ],
            "body": "Green, amber and red zones agreed with the patient.\n",
        },
    ]


async def _patient(
    session: AsyncSession, container: Container, org: uuid.UUID, mrn: str
) -> Patient | None:
    return await session.scalar(
        select(Patient).where(
            Patient.organization_id == org,
            Patient.mrn_index == mrn_digest(container.blind_index, mrn),
        )
    )


def _staff(user: User | None, org: uuid.UUID) -> Principal | None:
    if user is None or not user.is_demo or user.organization_id != org:
        return None
    return Principal(user.id, org, frozenset(Role(role) for role in user.roles))


async def seed_care_plans(
    container: Container, provider_slug: str, partner_slug: str, domain: str
) -> DemoCarePlansResult:
    result = DemoCarePlansResult()
    async with audited(container, "demo", "demo.careplans") as (session, ctx):
        provider = await organization_by_slug(session, provider_slug)
        partner = await organization_by_slug(session, partner_slug)
        if provider is None or partner is None:
            result.skipped_reason = "demo organizations missing"
            return result
        ctx.organization_hint = provider.id
        ctx.resource_type = "care_plan"
        doctor = _staff(await user_by_email(session, f"doctor@{domain}"), provider.id)
        nurse = _staff(await user_by_email(session, f"nurse@{domain}"), provider.id)
        colleague = _staff(await user_by_email(session, f"partner.doctor@{domain}"), partner.id)
        if doctor is None or nurse is None or colleague is None:
            result.skipped_reason = "demo accounts missing"
            return result
        await _practitioner(session, partner.id, colleague.user_id)
        if await _patient(session, container, partner.id, PARTNER_PATIENT_MRN) is not None:
            result.skipped_reason = "already there"
            return result
        patients = [await _patient(session, container, provider.id, m) for m in OWN_PATIENT_MRNS]
        if any(patient is None for patient in patients):
            result.skipped_reason = "demo patients missing"
            return result
        own = [patient.id for patient in patients if patient is not None]
        theirs = await create_patient(
            session,
            container.blind_index,
            organization_id=partner.id,
            data=PatientCreate(
                mrn=PARTNER_PATIENT_MRN,
                first_name="Robin",
                last_name="Okafor",
                date_of_birth=date(1988, 4, 12),
                gender="female",
            ),
            default_country_code=container.settings.records.default_phone_country_code,
        )
        story = _Story(container, session, doctor, nurse, colleague, partner.id, provider.id)
        await story.play(own, theirs.id, result)
    return result


class _Story:
    """The demo's care plan history, written as its users would through the API."""

    def __init__(
        self,
        container: Container,
        session: AsyncSession,
        doctor: Principal,
        nurse: Principal,
        colleague: Principal,
        partner: uuid.UUID,
        provider: uuid.UUID,
    ) -> None:
        self.plans = CarePlanService(session, container)
        self.shares = ShareService(session, container)
        self.comments = CommentService(session, container)
        self.doctor, self.nurse, self.colleague = doctor, nurse, colleague
        self.partner, self.provider = partner, provider

    async def _create(
        self, author: Principal, patient: uuid.UUID, first: dict[str, Any]
    ) -> CarePlanRead:
        return await self.plans.create(
            author, CarePlanCreate.model_validate({**first, "patient_id": patient})
        )

    async def _edit(self, who: Principal, plan: CarePlanRead, **changes: Any) -> CarePlanRead:
        return await self.plans.update(who, plan.id, _content(plan, **changes), plan.etag)

    async def _say(self, who: Principal, plan: CarePlanRead, body: str, **extra: Any) -> uuid.UUID:
        read = await self.comments.comment(
            who, plan.id, CommentCreate.model_validate({"body": body, **extra})
        )
        return read.id

    async def _share(self, plan: CarePlanRead, level: ShareLevel, *, to_user: bool = False) -> None:
        """Share a Demo Health plan with the partner clinic (or its doctor); they accept."""
        grantee = (
            {"user_id": self.colleague.user_id} if to_user else {"organization_id": self.partner}
        )
        share = await self.shares.share(
            self.doctor, plan.id, ShareCreate.model_validate({**grantee, "level": level})
        )
        await self.shares.accept(self.colleague, share.id)

    async def play(
        self, own: list[uuid.UUID], theirs: uuid.UUID, result: DemoCarePlansResult
    ) -> None:
        diabetes, knee, pressure, asthma = _plans(utcnow().date())
        doctor, nurse, colleague = self.doctor, self.nurse, self.colleague

        # 1. Diabetes: shared at edit; the partner clinic writes version 3.
        plan = await self._create(doctor, own[0], diabetes)
        await self._say(doctor, plan, "Is 500 mg a good start given her eGFR?", goal_index=0)
        plan = await self._edit(doctor, plan, status="active")
        await self._share(plan, ShareLevel.EDIT)
        activities = [*plan.model_dump(mode="json")["activities"]]
        activities[2] = {**activities[2], "status": "scheduled", "when": "booked for next week"}
        plan = await self._edit(colleague, plan, activities=activities)
        thread = await self._say(
            colleague,
            plan,
            "Dietitian appointment booked with us; I updated the activity.",
            activity_index=2,
            mentions=[doctor.user_id],
        )
        await self._say(doctor, plan, "Thank you, noted.", parent_id=thread)
        await self.comments.resolve(doctor, plan.id, thread, True)
        result.lines.append(
            f"{diabetes['title']!r}: 3 versions, shared with Demo Partner Clinic at edit"
        )

        # 2. Knee rehabilitation: shared at comment; the nurse writes version 2.
        plan = await self._create(doctor, own[1], knee)
        await self._share(plan, ShareLevel.COMMENT)
        thread = await self._say(
            colleague, plan, "Physio can start on Monday; extension is 5 degrees short.",
            activity_index=0,
        )  # fmt: skip
        plan = await self._edit(nurse, plan, body=f"{knee['body']}Physiotherapy starts Monday.\n")
        await self._say(nurse, plan, "Body updated with the start date.", parent_id=thread)
        result.lines.append(f"{knee['title']!r}: 2 versions, shared at comment")

        # 3. Blood pressure: shared with the partner doctor alone, at view.
        plan = await self._create(doctor, own[2], pressure)
        plan = await self._edit(doctor, plan, goals=[*pressure["goals"], "Salt below 6 g a day"])
        await self._say(doctor, plan, "Added a diet goal after the diary review.")
        await self._share(plan, ShareLevel.VIEW, to_user=True)
        result.lines.append(f"{pressure['title']!r}: 2 versions, shared with Dr. Parker Partner")

        # 4. The partner clinic's asthma plan, shared with Demo Health at comment.
        plan = await self._create(colleague, theirs, asthma)
        plan = await self._edit(colleague, plan, body=f"{asthma['body']}Review in 6 weeks.\n")
        share = await self.shares.share(
            colleague,
            plan.id,
            ShareCreate(organization_id=self.provider, level=ShareLevel.COMMENT),
        )
        await self.shares.accept(doctor, share.id)
        await self._say(doctor, plan, "She saw us for a flare last month; see her chart.")
        result.lines.append(
            f"{asthma['title']!r} (Demo Partner Clinic): 2 versions, shared at comment"
        )
        result.created = 4


async def _practitioner(session: AsyncSession, organization: uuid.UUID, doctor: uuid.UUID) -> None:
    """The partner doctor's NPI, so that a credential upload works from the first try."""
    profile = await session.scalar(
        select(PractitionerProfile).where(
            PractitionerProfile.organization_id == organization,
            PractitionerProfile.user_id == doctor,
        )
    )
    if profile is None:
        session.add(
            PractitionerProfile(
                organization_id=organization,
                user_id=doctor,
                npi=PARTNER_NPI,
                specialty="Respiratory medicine",
            )
        )
        await session.flush()
