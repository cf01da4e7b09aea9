"""The five built-in credential categories and how an organization's own ones join them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clinvault.config import CredentialPolicy
from clinvault.models.credentials import CredentialCategory

DEA_REGISTRATION = "dea_registration"
CURRICULUM_VITAE = "curriculum_vitae"

BUILT_IN_LABELS: dict[str, str] = {
    "medical_license": "Medical license",
    "board_certification": "Board certification",
    DEA_REGISTRATION: "DEA registration",
    CURRICULUM_VITAE: "Curriculum vitae",
    "malpractice_insurance": "Malpractice insurance",
}


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label: str
    requires_expiry: bool
    allowed_kinds: tuple[str, ...]
    built_in: bool


def built_in_categories(policy: CredentialPolicy) -> list[Category]:
    return [
        Category(
            code=code,
            label=label,
            requires_expiry=code != CURRICULUM_VITAE,
            allowed_kinds=tuple(policy.kinds_by_category.get(code, policy.default_kinds)),
            built_in=True,
        )
        for code, label in BUILT_IN_LABELS.items()
    ]


def all_categories(
    policy: CredentialPolicy, custom: Iterable[CredentialCategory]
) -> dict[str, Category]:
    found = {category.code: category for category in built_in_categories(policy)}
    for row in custom:
        found.setdefault(
            row.code,
            Category(
                code=row.code,
                label=row.label,
                requires_expiry=row.requires_expiry,
                allowed_kinds=tuple(row.allowed_kinds or policy.default_kinds),
                built_in=False,
            ),
        )
    return found


def label_of(code: str) -> str:
    return BUILT_IN_LABELS.get(code, code.replace("_", " ").capitalize())
