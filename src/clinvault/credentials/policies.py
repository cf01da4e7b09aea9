"""Who may do what with credentials. Deny by default.

A document is visible to its practitioner and to the organization's
credentialing reviewers; to anyone else it does not exist (404). Another
tenant's document never reaches these functions: the scoped query answered 404.
"""

from __future__ import annotations

import uuid

from clinvault.identity.principal import Principal, Role

PRACTITIONER_ROLES = (Role.DOCTOR, Role.NURSE)


def is_reviewer(principal: Principal) -> bool:
    return principal.has(Role.CREDENTIALING_REVIEWER)


def can_keep_profile(principal: Principal) -> bool:
    return bool(principal.roles) and not principal.has(Role.PATIENT, Role.ADMIN)


def can_submit(principal: Principal, has_profile: bool) -> bool:
    if principal.has(Role.PATIENT) or principal.is_platform_admin:
        return False
    return principal.has(*PRACTITIONER_ROLES) or has_profile


def can_see_document(principal: Principal, practitioner_id: uuid.UUID) -> bool:
    return principal.user_id == practitioner_id or is_reviewer(principal)


def can_replace(principal: Principal, practitioner_id: uuid.UUID) -> bool:
    return principal.user_id == practitioner_id


def can_review_queue(principal: Principal) -> bool:
    return is_reviewer(principal)


def can_decide(principal: Principal, practitioner_id: uuid.UUID) -> bool:
    return is_reviewer(principal) and principal.user_id != practitioner_id


def opens_for_review(principal: Principal, practitioner_id: uuid.UUID) -> bool:
    """Whether reading the document starts its review (a reviewer, not its owner)."""
    return can_decide(principal, practitioner_id)


def sees_organization_expiries(principal: Principal) -> bool:
    return principal.has(Role.CREDENTIALING_REVIEWER, Role.ORG_ADMIN)


def can_add_category(principal: Principal) -> bool:
    return principal.has(Role.ORG_ADMIN)


def sees_licence_flags(principal: Principal) -> bool:
    """Staff of a provider organization who book practitioners or read their records."""
    return principal.has(
        Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE, Role.CLERK, Role.CREDENTIALING_REVIEWER
    )
