"""Request and response bodies of password reset."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict

from clinvault.identity.accounts.tokens import RESET_TOKEN_MAX
from clinvault.inputs import SingleLine


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, SingleLine(320)]


class PasswordResetConfirm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, SingleLine(RESET_TOKEN_MAX, strip=False)]
    new_password: Annotated[str, SingleLine(1024, min_length=0, strip=False)]


class PasswordResetAccepted(BaseModel):
    detail: str


RESET_ACCEPTED = (
    "If an active account uses this address, a link to choose a new password is on its way. "
    "It works once and expires soon; check your spam folder if nothing arrives."
)
