"""Request and response bodies of the identity API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from clinvault.identity.principal import Role
from clinvault.inputs import SingleLine

Password = Annotated[str, SingleLine(1024, strip=False)]
NewPassword = Annotated[str, SingleLine(1024, min_length=0, strip=False)]
"""Checked for strength by the service, which explains what is missing."""
DisplayName = Annotated[str, SingleLine(200)]
Code = Annotated[str, SingleLine(32, min_length=6, strip=False)]
Token = Annotated[str, SingleLine(4096, strip=False)]
Slug = Annotated[
    str,
    StringConstraints(
        min_length=2, max_length=63, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
    ),
]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(RequestBody):
    username: Annotated[str, SingleLine(320)]
    password: Password
    totp_code: Code | None = None


class MfaLoginRequest(RequestBody):
    mfa_token: Token
    code: Code


class RefreshRequest(RequestBody):
    refresh_token: Annotated[str, SingleLine(256, strip=False)]


class LogoutRequest(RequestBody):
    refresh_token: Annotated[str, SingleLine(256, strip=False)] | None = None


class UserRead(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    phone: str | None = None
    time_zone: str | None = None
    organization_id: uuid.UUID
    organization_name: str | None = None
    roles: list[str]
    mfa_enabled: bool
    is_active: bool
    created_at: datetime


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserRead


class MfaEnrollment(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code: an SVG data: URI.")


class MfaVerifyRequest(RequestBody):
    code: Code


class MfaDisableRequest(RequestBody):
    password: Password
    code: Code


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(description="One-time codes, shown only this once.")


class RegisterRequest(RequestBody):
    """clinvault's body, or the records-platform design's (username, first_name, last_name);
    either way the organization is named, as registration is per organization."""

    organization: Slug | None = None
    email: EmailStr
    password: NewPassword
    display_name: DisplayName | None = None
    username: Annotated[str, SingleLine(150)] | None = None
    first_name: Annotated[str, SingleLine(100)] | None = None
    last_name: Annotated[str, SingleLine(100)] | None = None
    role: Annotated[str, SingleLine(64)] | None = None

    @model_validator(mode="after")
    def _organization_and_name(self) -> RegisterRequest:
        if self.organization is None:
            raise ValueError(
                'organization is required: add "organization": "<slug>" with the slug your '
                "clinic gave you (accounts belong to one organization)"
            )
        if self.display_name is None:
            name = " ".join(p for p in (self.first_name, self.last_name) if p) or self.username
            if not name:
                raise ValueError("give display_name, or first_name and last_name")
            self.display_name = name
        return self


class OrganizationCreate(RequestBody):
    name: DisplayName
    slug: Slug
    kind: Literal["provider", "pharmacy"]
    allow_patient_registration: bool = False


class OrganizationRead(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    kind: str
    allow_patient_registration: bool
    is_active: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    limit: int
    offset: int


class UserUpdate(RequestBody):
    display_name: DisplayName | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))] | None = None
    is_active: bool | None = None


class UserChange(RequestBody):
    """PUT /api/users/{id}: activation has its own routes (/deactivate, /activate)."""

    display_name: DisplayName | None = None
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))] | None = None


class UserCreate(RequestBody):
    """A member created directly by an organization administrator, in their organization."""

    email: EmailStr
    password: NewPassword
    display_name: DisplayName
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))]


class RoleRead(BaseModel):
    name: str
    description: str


class InvitationCreate(RequestBody):
    email: EmailStr
    roles: Annotated[list[Role], Field(min_length=1, max_length=len(Role))]


class InvitationRead(BaseModel):
    id: uuid.UUID
    email: str
    roles: list[str]
    expires_at: datetime


class InvitationPreview(BaseModel):
    organization_name: str
    email: str
    roles: list[str]
    expires_at: datetime


class InvitationAccept(RequestBody):
    token: Annotated[str, SingleLine(128, strip=False)]
    password: NewPassword
    display_name: DisplayName


class ProfileUpdate(RequestBody):
    """PUT /api/auth/profile: one's own name, phone and time zone (email and roles are
    changed by an administrator)."""

    first_name: Annotated[str, SingleLine(100)] | None = None
    last_name: Annotated[str, SingleLine(100)] | None = None
    display_name: DisplayName | None = None
    phone: Annotated[str, SingleLine(32)] | None = Field(
        default=None, description="E.164 (+15550100199) or national format; null clears it"
    )
    time_zone: Annotated[str, SingleLine(64)] | None = Field(
        default=None, description="An IANA time zone such as Europe/Paris; null clears it"
    )

    @model_validator(mode="before")
    @classmethod
    def _admin_only(cls, data: object) -> object:
        if isinstance(data, dict):
            held = sorted(name for name in ("email", "role", "roles") if name in data)
            if held:
                raise ValueError(
                    f"{', '.join(held)} can be changed only by an organization administrator "
                    "(PUT /api/users/{id}); leave them out of your profile update"
                )
        return data


class PasswordChange(RequestBody):
    current_password: Password = Field(
        validation_alias=AliasChoices("current_password", "old_password")
    )
    new_password: NewPassword
