"""All SQL of the identity feature.

Queries take the tenant explicitly. `tenant=None` is passed only for a
platform administrator; the lookups that are global by nature (an email at
sign-in, a token digest, a slug at self-registration, an id inside a
workflow) say so in their names.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    cast,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.models.identity import Invitation, Organization, RecoveryCode, RefreshToken, User


def _scoped(query: Select[User, str], tenant: uuid.UUID | None) -> Select[User, str]:
    return query if tenant is None else query.where(User.organization_id == tenant)


def _user_with_org() -> Select[User, str]:
    return select(User, Organization.name).join(
        Organization, Organization.id == User.organization_id
    )


def _has_role(role: str) -> ColumnElement[bool]:
    """Roles are a JSON list of fixed names; its quoted form matches one name exactly."""
    return cast(User.roles, String).contains(f'"{role}"', autoescape=True)


def _session_grants_query(*, with_session: bool) -> Select[list[str], str, bool]:
    query = (
        select(User.roles, Organization.kind, User.must_change_password)
        .join(Organization, Organization.id == User.organization_id)
        .where(
            User.id == bindparam("user_id"),
            User.organization_id == bindparam("organization_id"),
            User.is_active.is_(True),
            Organization.is_active.is_(True),
        )
    )
    if not with_session:
        return query
    return query.where(
        exists().where(
            RefreshToken.family_id == bindparam("session_id"),
            RefreshToken.user_id == bindparam("user_id"),
        ),
        ~exists().where(
            RefreshToken.family_id == bindparam("session_id"),
            RefreshToken.revoked_at.is_not(None),
        ),
    )


# Built once: constructing the statement and its cache key on every authenticated
# request cost more CPU than running it.
_SESSION_GRANTS = _session_grants_query(with_session=True)
_USER_GRANTS = _session_grants_query(with_session=False)


def _rowcount(result: object) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: Organization | User | RefreshToken | Invitation) -> None:
        self.session.add(row)
        await self.session.flush()

    async def organization(
        self, organization_id: uuid.UUID, *, tenant: uuid.UUID | None
    ) -> Organization | None:
        query = select(Organization).where(Organization.id == organization_id)
        if tenant is not None:
            query = query.where(Organization.id == tenant)
        result: Organization | None = await self.session.scalar(query)
        return result

    async def organizations(
        self, *, tenant: uuid.UUID | None, limit: int, offset: int
    ) -> Sequence[Organization]:
        query = select(Organization).order_by(Organization.name, Organization.id)
        if tenant is not None:
            query = query.where(Organization.id == tenant)
        return (await self.session.scalars(query.limit(limit).offset(offset))).all()

    async def organization_by_slug_global(self, slug: str) -> Organization | None:
        result: Organization | None = await self.session.scalar(
            select(Organization).where(Organization.slug == slug)
        )
        return result

    async def user_by_email_global(self, email: str) -> tuple[User, Organization] | None:
        row = (
            await self.session.execute(
                select(User, Organization)
                .join(Organization, Organization.id == User.organization_id)
                .where(User.email == email)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def email_taken_global(self, email: str) -> bool:
        return bool(await self.session.scalar(select(exists().where(User.email == email))))

    async def email_in_tenant(self, email: str, *, tenant: uuid.UUID) -> bool:
        return bool(
            await self.session.scalar(
                select(exists().where(User.email == email, User.organization_id == tenant))
            )
        )

    async def user_by_id_global(self, user_id: uuid.UUID) -> tuple[User, Organization] | None:
        """For a refresh token or sign-in challenge, which already names its user."""
        row = (
            await self.session.execute(
                select(User, Organization)
                .join(Organization, Organization.id == User.organization_id)
                .where(User.id == user_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def active_session_grants(
        self, user_id: uuid.UUID, organization_id: uuid.UUID, session_id: uuid.UUID | None
    ) -> tuple[list[str], str, bool] | None:
        """The stored roles, the tenant's kind and whether a password change is due, of an
        access token's user, if the account,
        its tenant and its session are live: one query on primary keys and the family index,
        run on every authenticated request, so it loads two columns rather than entities."""
        params = {"user_id": user_id, "organization_id": organization_id}
        if session_id is None:
            result = await self.session.execute(_USER_GRANTS, params)
        else:
            result = await self.session.execute(
                _SESSION_GRANTS, {**params, "session_id": session_id}
            )
        row = result.first()
        return None if row is None else (list(row[0]), str(row[1]), bool(row[2]))

    async def active_user_by_email_global(self, email: str) -> tuple[User, Organization] | None:
        """For a verified external identity token."""
        row = (
            await self.session.execute(
                select(User, Organization)
                .join(Organization, Organization.id == User.organization_id)
                .where(
                    User.email == email,
                    User.is_active.is_(True),
                    Organization.is_active.is_(True),
                )
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def user(
        self, user_id: uuid.UUID, *, tenant: uuid.UUID | None
    ) -> tuple[User, str] | None:
        row = (
            await self.session.execute(_scoped(_user_with_org(), tenant).where(User.id == user_id))
        ).first()
        return None if row is None else (row[0], row[1])

    async def users(
        self,
        *,
        tenant: uuid.UUID | None,
        limit: int,
        offset: int,
        role: str | None = None,
        is_active: bool | None = None,
        email_contains: str | None = None,
    ) -> tuple[list[tuple[User, str]], int]:
        conditions: list[ColumnElement[bool]] = []
        if tenant is not None:
            conditions.append(User.organization_id == tenant)
        if role is not None:
            conditions.append(_has_role(role))
        if is_active is not None:
            conditions.append(User.is_active.is_(is_active))
        if email_contains:
            conditions.append(User.email.contains(email_contains, autoescape=True))
        count_query = select(func.count()).select_from(User).where(*conditions)
        total = int(await self.session.scalar(count_query) or 0)
        query = _user_with_org().where(*conditions).order_by(User.email, User.id)
        rows = (await self.session.execute(query.limit(limit).offset(offset))).all()
        return [(row[0], row[1]) for row in rows], total

    async def count_active_with_role(
        self, role: str, *, tenant: uuid.UUID, excluding: uuid.UUID | None = None
    ) -> int:
        query = (
            select(func.count())
            .select_from(User)
            .where(User.organization_id == tenant, User.is_active.is_(True), _has_role(role))
        )
        if excluding is not None:
            query = query.where(User.id != excluding)
        return int(await self.session.scalar(query) or 0)

    async def record_login_success(self, user: User, *, now: datetime) -> None:
        user.last_login_at = now
        await self.session.flush()

    async def claim_totp_step(self, user_id: uuid.UUID, step: int) -> bool:
        """Record `step` as used; False when it (or a later one) was used already."""
        result = await self.session.execute(
            update(User)
            .where(
                User.id == user_id,
                (User.mfa_last_step.is_(None)) | (User.mfa_last_step < step),
            )
            .values(mfa_last_step=step)
            .execution_options(synchronize_session="fetch")
        )
        return _rowcount(result) == 1

    async def set_password_hash_global(self, user_id: uuid.UUID, password_hash: str) -> None:
        await self.session.execute(
            update(User).where(User.id == user_id).values(password_hash=password_hash)
        )

    async def refresh_token_by_hash_global(self, token_hash: str) -> RefreshToken | None:
        result: RefreshToken | None = await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )
        return result

    async def mark_refresh_token_used(self, token_id: uuid.UUID, *, now: datetime) -> bool:
        """Claim the token for one rotation; False when another request got there first."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.id == token_id,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
            )
            .values(used_at=now)
        )
        return _rowcount(result) == 1

    async def revoke_family(
        self, family_id: uuid.UUID, *, user_id: uuid.UUID, now: datetime
    ) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.family_id == family_id,
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )

    async def revoke_user_sessions(self, user_id: uuid.UUID, *, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def replace_recovery_codes(self, user_id: uuid.UUID, hashes: Sequence[str]) -> None:
        await self.delete_recovery_codes(user_id)
        self.session.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in hashes)
        await self.session.flush()

    async def delete_recovery_codes(self, user_id: uuid.UUID) -> None:
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))

    async def recovery_code_available(self, user_id: uuid.UUID, code_hash: str) -> bool:
        return bool(
            await self.session.scalar(
                select(
                    exists().where(
                        RecoveryCode.user_id == user_id,
                        RecoveryCode.code_hash == code_hash,
                        RecoveryCode.used_at.is_(None),
                    )
                )
            )
        )

    async def use_recovery_code(self, user_id: uuid.UUID, code_hash: str, *, now: datetime) -> bool:
        target = (
            select(RecoveryCode.id)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == code_hash,
                RecoveryCode.used_at.is_(None),
            )
            .limit(1)
            .scalar_subquery()
        )
        result = await self.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.id == target, RecoveryCode.used_at.is_(None))
            .values(used_at=now)
        )
        return _rowcount(result) == 1

    async def invitation(self, invitation_id: uuid.UUID, *, tenant: uuid.UUID) -> Invitation | None:
        result: Invitation | None = await self.session.scalar(
            select(Invitation).where(
                Invitation.id == invitation_id, Invitation.organization_id == tenant
            )
        )
        return result

    async def invitation_by_token_hash_global(
        self, token_hash: str
    ) -> tuple[Invitation, Organization] | None:
        row = (
            await self.session.execute(
                select(Invitation, Organization)
                .join(Organization, Organization.id == Invitation.organization_id)
                .where(Invitation.token_hash == token_hash)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def invitation_for_mail_global(
        self, invitation_id: uuid.UUID
    ) -> tuple[Invitation, str, str | None] | None:
        """The invitation, its organization's name and the inviter's name, for its email."""
        row = (
            await self.session.execute(
                select(Invitation, Organization.name, User.display_name)
                .join(Organization, Organization.id == Invitation.organization_id)
                .outerjoin(User, User.id == Invitation.invited_by)
                .where(Invitation.id == invitation_id)
            )
        ).first()
        return None if row is None else (row[0], row[1], row[2])

    async def mark_invitation_accepted(self, invitation_id: uuid.UUID, *, now: datetime) -> bool:
        result = await self.session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .values(accepted_at=now)
        )
        return _rowcount(result) == 1
