"""Care plan use cases; the API calls these (the portal will too).

- `create(principal, data)`: a plan and its version 1.
- `search(principal, patient_id=, status=, limit=, offset=)`: the organization's
  plans, or a patient's own shared ones.
- `get(principal, id)`: the current version.
- `update(principal, id, data, if_match)`: a new version based on the one named
  by the ETag; a stale one is `CarePlanChanged` (412) naming who changed the plan
  and when, a missing one `CarePlanVersionRequired` (428).
- `versions`, `version`, `diff`, `restore` (a new version copying an old one).

Services never commit.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container
from clinvault.careplans import access, content, policies, watchers
from clinvault.careplans.access import Access
from clinvault.careplans.etags import etag, parse_if_match
from clinvault.careplans.repository import CarePlanRepository
from clinvault.careplans.schemas import (
    CarePlanContent,
    CarePlanCreate,
    CarePlanList,
    CarePlanRead,
    CarePlanSummary,
    DiffRead,
    VersionRead,
    VersionSummary,
)
from clinvault.careplans.states import PlanStatus
from clinvault.errors import PatientNotFound, PermissionDenied
from clinvault.errors.careplans import (
    CarePlanChanged,
    CarePlanVersionNotFound,
    CarePlanVersionRequired,
)
from clinvault.identity.principal import Principal
from clinvault.models.careplans import CarePlan, CarePlanVersion, CarePlanWatch
from clinvault.timeutil import utcnow


class CarePlanService:
    def __init__(self, session: AsyncSession, container: Container | None = None) -> None:
        self.session = session
        self.container = container
        self.repository = CarePlanRepository(session)

    async def _kind(self, principal: Principal) -> str:
        return await access.organization_kind(self.repository, principal)

    async def _writer(self, principal: Principal) -> None:
        if not policies.can_write(principal, await self._kind(principal)):
            raise PermissionDenied("Only doctors, nurses and administrators write care plans.")

    async def find(self, principal: Principal, plan_id: uuid.UUID, what: str) -> Access:
        """The plan as `principal` may see it; another organization's access is audited in
        the owner's log, naming the acting organization."""
        found = await access.find(self.repository, principal, plan_id)
        if found.foreign:
            acting = principal.organization_id
            context.note_detail(f"{what};acting_organization={acting}")
            ctx = context.current()
            if ctx is not None and self.container is not None:
                await self.container.audit.record_for_tenant(
                    self.session,
                    ctx,
                    organization_id=found.plan.organization_id,
                    detail=f"{what};acting_organization={acting}",
                    action=f"careplans.{what}",
                )
        return found

    async def _history_reader(
        self, principal: Principal, plan_id: uuid.UUID, what: str
    ) -> CarePlan:
        found = await self.find(principal, plan_id, what)
        if found.patient:
            raise PermissionDenied("The version history is for the plan's clinicians.")
        return found.plan

    async def _version_row(
        self, plan: CarePlan, principal: Principal, data: CarePlanContent, number: int
    ) -> CarePlanVersion:
        user = await self.repository.user_global(principal.user_id)
        return CarePlanVersion(
            organization_id=plan.organization_id,
            plan_id=plan.id,
            number=number,
            author_id=principal.user_id,
            author_name="" if user is None else (user.display_name or user.email),
            acting_organization_id=principal.organization_id,
            status=data.status.value,
            title=data.title,
            content=content.dump(data),
            shared_with_patient=data.shared_with_patient,
        )

    # creating and reading

    async def create(self, principal: Principal, data: CarePlanCreate) -> CarePlanRead:
        context.describe_resource("care_plan")
        await self._writer(principal)
        tenant = principal.organization_id
        patient = await self.repository.patient(data.patient_id, tenant=tenant)
        if patient is None:
            raise PatientNotFound(
                "No patient with this id in your organization: check patient_id.",
                errors=[{"field": "patient_id", "in": "body", "message": "not a patient of yours"}],
            )
        now = utcnow()
        plan = CarePlan(
            organization_id=tenant,
            patient_id=patient.id,
            author_id=principal.user_id,
            status=data.status.value,
            title=data.title,
            content=content.dump(data),
            shared_with_patient=data.shared_with_patient,
            version=1,
            updated_by=principal.user_id,
            updated_at=now,
        )
        await self.repository.add(plan)
        await self.repository.add(await self._version_row(plan, principal, data, 1))
        await self.repository.add(
            CarePlanWatch(
                organization_id=tenant, plan_id=plan.id, user_id=principal.user_id, watching=True
            )
        )
        context.describe_resource("care_plan", plan.id)
        return self._read(plan)

    async def search(
        self,
        principal: Principal,
        *,
        patient_id: uuid.UUID | None = None,
        status: PlanStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> CarePlanList:
        context.describe_resource("care_plan")
        tenant = principal.organization_id
        kind = await self._kind(principal)
        if not policies.can_list(principal, kind):
            raise PermissionDenied("Only clinicians and patients list care plans.")
        shared_to = principal.user_id if policies.is_clinician(principal, kind) else None
        patient_only = policies.acts_as_patient(principal)
        if patient_only:
            own = await self.repository.patient_of_user(principal.user_id, tenant=tenant)
            if own is None or (patient_id is not None and patient_id != own.id):
                raise PatientNotFound("Patients list their own plans only: leave out patient_id.")
            patient_id = own.id
        elif (
            patient_id is not None
            and await self.repository.patient(patient_id, tenant=tenant) is None
        ):
            raise PatientNotFound("No patient with this id in your organization: check it.")
        rows, total = await self.repository.search(
            tenant=tenant,
            shared_to=None if patient_id is not None else shared_to,
            patient_id=patient_id,
            status=None if status is None else status.value,
            patient_only=patient_only,
            limit=limit,
            offset=offset,
        )
        items = [
            CarePlanSummary(
                id=row.id,
                patient_id=row.patient_id,
                title=row.title,
                status=PlanStatus(row.status),
                version=row.version,
                updated_at=row.updated_at,
            )
            for row in rows
        ]
        return CarePlanList(items=items, total=total, limit=limit, offset=offset)

    async def get(self, principal: Principal, plan_id: uuid.UUID) -> CarePlanRead:
        return self._read((await self.find(principal, plan_id, "read")).plan)

    # changing

    async def update(
        self,
        principal: Principal,
        plan_id: uuid.UUID,
        data: CarePlanContent,
        if_match: str | None,
        *,
        restored_from: int | None = None,
        what: str = "update",
    ) -> CarePlanRead:
        found = await self.find(principal, plan_id, what)
        if found.level != "edit":
            raise PermissionDenied(f"Your share lets you {found.level} this plan, not edit it.")
        return await self._apply(found.plan, principal, data, if_match, restored_from)

    async def _apply(
        self,
        plan: CarePlan,
        principal: Principal,
        data: CarePlanContent,
        if_match: str | None,
        restored_from: int | None,
    ) -> CarePlanRead:
        if if_match is None:
            raise CarePlanVersionRequired(
                "Send If-Match with the ETag of the version your change is based on "
                f"(the current one is {etag(plan.id, plan.version)}).",
                headers={"ETag": etag(plan.id, plan.version)},
            )
        based_on = parse_if_match(if_match, plan.id)
        if based_on != plan.version:
            raise await self._changed(plan)
        previous_status = plan.status
        row = await self._version_row(plan, principal, data, plan.version + 1)
        row.restored_from = restored_from
        if not await self.repository.advance(
            plan, based_on=based_on, version=row, user_id=principal.user_id
        ):
            fresh = await self.repository.get(plan.id, tenant=plan.organization_id)
            raise await self._changed(fresh or plan)
        kind = "care_plan.status" if previous_status != plan.status else "care_plan.version"
        await watchers.announce(
            self.repository,
            plan,
            kind,
            actor_id=principal.user_id,
            event=f"v{plan.version}",
            container=self.container,
        )
        return self._read(plan)

    async def _changed(self, plan: CarePlan) -> CarePlanChanged:
        await self.session.refresh(plan)
        latest = await self.repository.version(plan.id, plan.version)
        who = "someone" if latest is None else (latest.author_name or "someone")
        when = plan.updated_at.isoformat(timespec="seconds")
        return CarePlanChanged(
            f"{who} changed this plan at {when} (now version {plan.version}); nothing was "
            f"saved. Fetch /api/care-plans/{plan.id}/diff?from=<your version>&to={plan.version}, "
            "merge, and send again with the new ETag.",
            headers={"ETag": etag(plan.id, plan.version)},
        )

    async def restore(
        self, principal: Principal, plan_id: uuid.UUID, number: int, if_match: str | None
    ) -> CarePlanRead:
        found = await self.find(principal, plan_id, "versions.restore")
        if found.level != "edit":
            raise PermissionDenied(f"Your share lets you {found.level} this plan, not edit it.")
        plan = found.plan
        old = await self._version(plan, number)
        stored = content.load(old.title, old.status, old.content, old.shared_with_patient)
        data = CarePlanContent.model_validate(
            stored.model_dump(exclude={"body_html"}), strict=False
        )
        return await self._apply(plan, principal, data, if_match, number)

    # history

    async def versions(self, principal: Principal, plan_id: uuid.UUID) -> list[VersionSummary]:
        plan = await self._history_reader(principal, plan_id, "versions.list")
        return [_summary(row) for row in await self.repository.versions(plan.id)]

    async def version(self, principal: Principal, plan_id: uuid.UUID, number: int) -> VersionRead:
        plan = await self._history_reader(principal, plan_id, "versions.read")
        row = await self._version(plan, number)
        return VersionRead(
            **_summary(row).model_dump(),
            plan_id=plan.id,
            content=content.load(row.title, row.status, row.content, row.shared_with_patient),
        )

    async def diff(
        self, principal: Principal, plan_id: uuid.UUID, from_number: int, to_number: int
    ) -> DiffRead:
        plan = await self._history_reader(principal, plan_id, "diff")
        old = await self._version(plan, from_number)
        new = await self._version(plan, to_number)
        before = content.load(old.title, old.status, old.content, old.shared_with_patient)
        after = content.load(new.title, new.status, new.content, new.shared_with_patient)
        return DiffRead(
            plan_id=plan.id,
            from_version=from_number,
            to_version=to_number,
            changes=content.field_changes(before, after),
            body_diff=content.body_diff(
                before.body, after.body, f"version {from_number}", f"version {to_number}"
            ),
        )

    async def _version(self, plan: CarePlan, number: int) -> CarePlanVersion:
        row = await self.repository.version(plan.id, number)
        if row is None:
            raise CarePlanVersionNotFound(
                f"This plan has versions 1 to {plan.version}: pick one of them."
            )
        return row

    async def set_watching(
        self, principal: Principal, plan_id: uuid.UUID, watching: bool
    ) -> CarePlanRead:
        """Watch or stop watching a plan (clinicians who can see it)."""
        found = await self.find(principal, plan_id, "watch" if watching else "unwatch")
        if found.patient:
            raise PermissionDenied("Clinicians watch plans; patients read theirs.")
        row = await self.repository.watch(found.plan.id, principal.user_id)
        if row is None:
            await self.repository.add(
                CarePlanWatch(
                    organization_id=found.plan.organization_id,
                    plan_id=found.plan.id,
                    user_id=principal.user_id,
                    watching=watching,
                )
            )
        else:
            row.watching = watching
            await self.session.flush()
        return self._read(found.plan)

    async def watching(self, principal: Principal, plan_id: uuid.UUID) -> bool:
        """Whether the principal is told of the plan's changes: as chosen, else as its
        author, a share's user or a commenter (the rule of `watchers.announce`)."""
        found = await self.find(principal, plan_id, "watching")
        if found.patient:
            return False
        chosen = (await self.repository.watches(found.plan.id)).get(principal.user_id)
        if chosen is not None:
            return chosen
        return principal.user_id in await self.repository.implicit_watchers(found.plan, utcnow())

    def _read(self, plan: CarePlan) -> CarePlanRead:
        shown = content.load(plan.title, plan.status, plan.content, plan.shared_with_patient)
        return CarePlanRead(
            **shown.model_dump(),
            id=plan.id,
            organization_id=plan.organization_id,
            patient_id=plan.patient_id,
            version=plan.version,
            etag=etag(plan.id, plan.version),
            author_id=plan.author_id,
            created_at=plan.created_at,
            updated_at=plan.updated_at,
        )


def _summary(row: CarePlanVersion) -> VersionSummary:
    return VersionSummary(
        number=row.number,
        author_id=row.author_id,
        author_name=row.author_name,
        created_at=row.created_at,
        status=PlanStatus(row.status),
        restored_from=row.restored_from,
    )
