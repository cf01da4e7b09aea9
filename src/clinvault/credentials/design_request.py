"""The credential-upload design's document shape, mapped onto clinvault's intake.

A document is `{"providerId", "providerEmail", "providerName", "name", "type",
"size", "category", "content", "metadata": {"documentNumber", "issueDate",
"expiryDate", "issuedBy"}}`. It becomes exactly what the multipart path
gives the intake: an `UploadedFile` (its spooled content, `name` as the client
file name, the declared `type` and `size` kept to be checked against the real
bytes) and a `DocumentMetadata` (issuedBy -> issuing_authority, issueDate ->
issued_on, expiryDate -> expires_on, documentNumber -> document_number;
category in any case). The provider fields are claims about the signed-in
user, checked by the submission service, never used to choose the provider.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from clinvault.credentials.json_upload import JsonUpload
from clinvault.credentials.schemas import DocumentMetadata
from clinvault.credentials.uploads import ParsedUpload, UploadedFile
from clinvault.errors import CredentialMetadataInvalid
from clinvault.filecheck.model import InspectedFile
from clinvault.inputs import PlausibleDate, SingleLine

Problems = list[dict[str, str]]
# Equivalent spellings of the content types the file check reports.
TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-pdf": "application/pdf",
}


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


AnyCaseCategory = Annotated[
    str,
    BeforeValidator(_lower),
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{1,63}$"),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=False)


class DesignMetadata(_Body):
    document_number: Annotated[str, SingleLine(64, min_length=0)] = Field(
        default="", alias="documentNumber"
    )
    issue_date: PlausibleDate = Field(alias="issueDate")
    expiry_date: PlausibleDate | None = Field(default=None, alias="expiryDate")
    issued_by: Annotated[str, SingleLine(200)] = Field(alias="issuedBy")


class DesignDocument(_Body):
    provider_id: Annotated[str, SingleLine(64)] | int | None = Field(
        default=None, alias="providerId"
    )
    provider_email: Annotated[str, SingleLine(254)] | None = Field(
        default=None, alias="providerEmail"
    )
    provider_name: Annotated[str, SingleLine(200)] | None = Field(
        default=None, alias="providerName"
    )
    name: Annotated[str, SingleLine(255)]
    type: Annotated[str, SingleLine(127)] | None = None
    size: Annotated[int, Field(ge=0)] | None = None
    category: AnyCaseCategory
    content: str
    metadata: DesignMetadata


@dataclass(frozen=True, slots=True)
class ProviderClaims:
    """What the documents say about their provider (checked against the signed-in user)."""

    ids: frozenset[str]
    emails: frozenset[str]


@dataclass(frozen=True, slots=True)
class DesignUpload:
    upload: ParsedUpload
    entries: list[DocumentMetadata | Problems]
    claims: ProviderClaims


def _problem(code: str, detail: str) -> dict[str, str]:
    return {"code": code, "detail": detail}


def _prefix(received: JsonUpload, index: int) -> str:
    return "" if isinstance(received.body, dict) else f"[{index}]."


def _validation_problems(prefix: str, error: ValidationError) -> Problems:
    return [
        _problem(
            "metadata_invalid",
            f"{prefix}{'.'.join(str(p) for p in item['loc']) or 'document'}: {item['msg']}",
        )
        for item in error.errors()
    ]


def to_metadata(document: DesignDocument) -> DocumentMetadata:
    data = document.metadata
    return DocumentMetadata.model_validate(
        {
            "category": document.category,
            "issuing_authority": data.issued_by,
            "issued_on": data.issue_date,
            "expires_on": data.expiry_date,
            "document_number": data.document_number,
        }
    )


def design_upload(received: JsonUpload) -> DesignUpload:
    """The documents as the intake takes them; a document without content is a 422."""
    body = received.body
    documents: list[Any] = [body] if isinstance(body, dict) else body
    if not isinstance(documents, list) or not documents:
        raise CredentialMetadataInvalid(
            "Send one document object or a non-empty JSON array of them: "
            '{"name", "type", "size", "category", "content": "<base64>", "metadata": {...}}.'
        )
    upload = ParsedUpload(received.directory)
    entries: list[DocumentMetadata | Problems] = []
    missing: list[dict[str, str]] = []
    ids: set[str] = set()
    emails: set[str] = set()
    for index, raw in enumerate(documents):
        prefix = _prefix(received, index)
        if not isinstance(raw, dict):
            missing.append({"field": f"[{index}]", "in": "body", "message": "must be an object"})
            continue
        if raw.get("providerId") is not None:
            ids.add(str(raw["providerId"]).strip().lower())
        if isinstance(raw.get("providerEmail"), str):
            emails.add(raw["providerEmail"].strip().lower())
        spooled = received.spooled(raw.get("content"))
        if spooled is None:
            missing.append(
                {
                    "field": f"{prefix}content",
                    "in": "body",
                    "message": "add the file's bytes as a base64 string",
                }
            )
            continue
        name, size, kind = raw.get("name"), raw.get("size"), raw.get("type")
        if isinstance(size, bool) or not isinstance(size, int):
            size = None
        upload.files.append(
            UploadedFile(
                index=len(upload.files),
                client_filename=name if isinstance(name, str) else "",
                spooled=spooled,
                declared_type=kind if isinstance(kind, str) else None,
                declared_size=size,
            )
        )
        try:
            entries.append(to_metadata(DesignDocument.model_validate(raw)))
        except ValidationError as error:
            entries.append(_validation_problems(prefix, error))
    if missing:
        raise CredentialMetadataInvalid(
            "Every document needs its file in 'content' as a base64 string and must be a JSON "
            "object: fix the listed documents; nothing was stored.",
            errors=missing,
        )
    return DesignUpload(upload, entries, ProviderClaims(frozenset(ids), frozenset(emails)))


def _media_type(value: str) -> str:
    base = value.split(";", 1)[0].strip().lower()
    return TYPE_ALIASES.get(base, base)


def declared_problems(item: UploadedFile, inspected: InspectedFile | None) -> Problems:
    """A declared size or type that the real bytes contradict (never trusted, only checked)."""
    problems: Problems = []
    if item.declared_size is not None and item.declared_size != item.size:
        problems.append(
            _problem(
                "size_mismatch",
                f"size: declared {item.declared_size} bytes but the decoded content is "
                f"{item.size} bytes: send the file's real size, or encode the whole file.",
            )
        )
    if (
        item.declared_type is not None
        and inspected is not None
        and _media_type(item.declared_type) != inspected.content_type
    ):
        problems.append(
            _problem(
                "type_mismatch",
                f"type: declared {item.declared_type[:80]!r} but the content is "
                f"{inspected.content_type}: send the file's real type (or the intended file).",
            )
        )
    return problems


def provider_mismatch(claims: ProviderClaims, user_id: uuid.UUID, email: str) -> str | None:
    """The field naming someone other than the signed-in user, if one does."""
    if any(claim != str(user_id) for claim in claims.ids):
        return "providerId"
    if any(claim != email.strip().lower() for claim in claims.emails):
        return "providerEmail"
    return None
