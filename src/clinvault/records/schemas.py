"""Shared request-body base and bounded text types of the records platform."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict

from clinvault.inputs import MultiLine, SingleLine


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


ShortText = Annotated[str, SingleLine(100)]
MediumText = Annotated[str, SingleLine(500)]
AddressText = Annotated[str, MultiLine(500)]
LongText = Annotated[str, MultiLine(4000)]
ClinicalText = Annotated[str, MultiLine(100_000)]
