"""The authenticated actor of a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ORG_ADMIN = "org_admin"
    DOCTOR = "doctor"
    NURSE = "nurse"
    CLERK = "clerk"
    CREDENTIALING_REVIEWER = "credentialing_reviewer"
    PHARMACIST = "pharmacist"
    PATIENT = "patient"


ORGANIZATION_ROLES: frozenset[Role] = frozenset(Role) - {Role.ADMIN}


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    roles: frozenset[Role]
    session_id: uuid.UUID | None = None
    auth_method: str = "password"

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_platform_admin(self) -> bool:
        return Role.ADMIN in self.roles
