"""All SQL of appointments; every query is tenant-scoped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.identity import User
from clinvault.models.records import Appointment
from clinvault.records.appointments.schemas import NOT_HOLDING
from clinvault.records.pagination import PageRequest


@dataclass(frozen=True, slots=True)
class AppointmentFilter:
    practitioner_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    status: str | None = None
    start: datetime | None = None
    stop: datetime | None = None


class AppointmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, appointment: Appointment) -> None:
        self.session.add(appointment)
        await self.session.flush()

    async def get(self, appointment_id: uuid.UUID, *, tenant: uuid.UUID) -> Appointment | None:
        result: Appointment | None = await self.session.scalar(
            select(Appointment).where(
                Appointment.id == appointment_id, Appointment.organization_id == tenant
            )
        )
        return result

    async def user_global(self, user_id: uuid.UUID) -> User | None:
        """An account by id, whatever its organization (a mail step knows only the id)."""
        result: User | None = await self.session.scalar(select(User).where(User.id == user_id))
        return result

    async def lock_practitioner(self, user_id: uuid.UUID, *, tenant: uuid.UUID) -> User | None:
        """The practitioner's user row, locked until commit on PostgreSQL.

        Every booking for one practitioner takes this lock before looking for
        clashes, so two bookings cannot both see a free slot. SQLite has no row
        locks; there the booking writes first (taking the database write lock)
        and looks for clashes after.
        """
        result: User | None = await self.session.scalar(
            select(User).where(User.id == user_id, User.organization_id == tenant).with_for_update()
        )
        return result

    async def first_clash(
        self,
        *,
        tenant: uuid.UUID,
        practitioner_id: uuid.UUID,
        starts_at: datetime,
        ends_at: datetime,
        other_than: uuid.UUID,
    ) -> Appointment | None:
        result: Appointment | None = await self.session.scalar(
            select(Appointment)
            .where(
                Appointment.organization_id == tenant,
                Appointment.practitioner_id == practitioner_id,
                Appointment.status.not_in(NOT_HOLDING),
                Appointment.id != other_than,
                Appointment.starts_at < ends_at,
                Appointment.ends_at > starts_at,
            )
            .order_by(Appointment.starts_at)
            .limit(1)
        )
        return result

    async def page(
        self, where: AppointmentFilter, *, tenant: uuid.UUID, request: PageRequest
    ) -> tuple[Sequence[Appointment], int]:
        query = select(Appointment).where(Appointment.organization_id == tenant)
        if where.practitioner_id is not None:
            query = query.where(Appointment.practitioner_id == where.practitioner_id)
        if where.patient_id is not None:
            query = query.where(Appointment.patient_id == where.patient_id)
        if where.status is not None:
            query = query.where(Appointment.status == where.status)
        if where.start is not None:
            query = query.where(Appointment.ends_at > where.start)
        if where.stop is not None:
            query = query.where(Appointment.starts_at < where.stop)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = (
            await self.session.scalars(
                query.order_by(Appointment.starts_at, Appointment.id)
                .limit(request.limit)
                .offset(request.offset)
            )
        ).all()
        return rows, int(total or 0)
