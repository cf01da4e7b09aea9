"""The authenticated actor of a request: a user, or an API client of an organization.

An API client's principal has no roles: `user_id` holds the client's id (the
audit actor), `kind` is "client" and `scopes` what its token was granted. Every
route refuses it unless the route's action belongs to one of those scopes
(identity/clients/scopes.py), so it is denied by default.
"""

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

USER = "user"
CLIENT = "client"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    organization_id: uuid.UUID
    roles: frozenset[Role]
    session_id: uuid.UUID | None = None
    auth_method: str = "password"
    kind: str = USER
    scopes: frozenset[str] = frozenset()
    # The user must choose their own password before doing anything else (first sign-in).
    password_change_due: bool = False

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def is_platform_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_client(self) -> bool:
        return self.kind == CLIENT

    def holds(self, scope: str) -> bool:
        """An API client granted `scope` (a user holds no scopes)."""
        return self.is_client and scope in self.scopes

    @property
    def account_id(self) -> uuid.UUID | None:
        """The acting user's id, for columns that reference users; None for an API client."""
        return None if self.is_client else self.user_id

    @property
    def audit_roles(self) -> str:
        """The audit event's actor roles: a client shows as `client:<scope>` (actor kind)."""
        if self.is_client:
            return ",".join(f"{CLIENT}:{scope}" for scope in sorted(self.scopes)) or CLIENT
        return ",".join(sorted(self.roles))
