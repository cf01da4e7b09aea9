"""Which roles each kind of organization can hold: a table that drives every check.

A provider treats patients, a pharmacy fills prescriptions, the platform runs
the service. Every path where someone names roles for an account checks this
table: user creation and role changes (API and portal), invitations (when sent
and when accepted), self-registration and `clinvault users create`.
`admin_service.create_user` itself stays the trusted factory for fixtures and
the demo.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clinvault.errors.identity import RoleNotForOrganization
from clinvault.identity.principal import Role

ROLES_BY_ORGANIZATION_KIND: dict[str, tuple[Role, ...]] = {
    "provider": (
        Role.ORG_ADMIN,
        Role.DOCTOR,
        Role.NURSE,
        Role.CLERK,
        Role.CREDENTIALING_REVIEWER,
        Role.PATIENT,
    ),
    "pharmacy": (Role.ORG_ADMIN, Role.PHARMACIST),
    "platform": (Role.ADMIN, Role.ORG_ADMIN),
}


def roles_for_kind(kind: str) -> tuple[Role, ...]:
    return ROLES_BY_ORGANIZATION_KIND.get(kind, ())


def role_fits_organization(role: Role, kind: str) -> bool:
    return role in roles_for_kind(kind)


def require_roles_fit(roles: Iterable[Role | str], kind: str) -> None:
    """Refuse (422) any role this kind of organization cannot hold, naming the ones it can."""
    misfits = [Role(role).value for role in roles if not role_fits_organization(Role(role), kind)]
    if not misfits:
        return
    allowed = ", ".join(role.value for role in roles_for_kind(kind)) or "none"
    errors: list[dict[str, Any]] = [
        {
            "field": "roles",
            "in": "body",
            "message": f"{name!r} is not a role of a {kind} organization",
            "type": "role_not_for_organization",
        }
        for name in misfits
    ]
    raise RoleNotForOrganization(
        f"A {kind} organization's members can hold these roles: {allowed}. "
        f"Remove {', '.join(repr(name) for name in misfits)} (see GET /api/users/roles).",
        errors=errors,
    )
