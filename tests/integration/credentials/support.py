"""Builders for credential tests: practitioners with profiles, five documents, uploads."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from tests.factories import signed_in, unique_npi
from tests.unit.filecheck.corpus import valid_docx, valid_pdf

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.credentials import CredentialDocument, CredentialSubmission
from clinvault.models.identity import Organization, User
from clinvault.models.objects import EncryptedObject

VALID_NPI = "1234567893"
UNIQUE_NPI = "unique"
VALID_DEA = "AB1234563"
WRONG_DEA = "AB1234564"

FileSpec = tuple[str, bytes, str]


def metadata(category: str, **overrides: Any) -> dict[str, Any]:
    today = date.today()
    entry: dict[str, Any] = {
        "category": category,
        "issuing_authority": "State Medical Board",
        "issued_on": (today - timedelta(days=400)).isoformat(),
        "expires_on": (today + timedelta(days=700)).isoformat(),
        "document_number": "MD-448812",
    }
    if category == "dea_registration":
        entry["document_number"] = VALID_DEA
    if category == "curriculum_vitae":  # a CV has neither an expiry nor a number
        entry.pop("expires_on")
        entry.pop("document_number")
    entry.update(overrides)
    return {key: value for key, value in entry.items() if value is not None}


def pdf_file(name: str = "document.pdf", marker: int = 0) -> FileSpec:
    return (name, valid_pdf(pad_to=2000 + marker), "application/pdf")


FIVE_CATEGORIES = (
    "medical_license",
    "board_certification",
    "dea_registration",
    "curriculum_vitae",
    "malpractice_insurance",
)


def five_documents() -> tuple[list[FileSpec], list[dict[str, Any]]]:
    files = [pdf_file(f"{category}.pdf", i) for i, category in enumerate(FIVE_CATEGORIES)]
    files[3] = ("cv.docx", valid_docx(), "application/octet-stream")
    return files, [metadata(category) for category in FIVE_CATEGORIES]


def form(files: list[FileSpec], entries: Any) -> dict[str, Any]:
    return {
        "data": {"metadata": entries if isinstance(entries, str) else json.dumps(entries)},
        "files": [("files", spec) for spec in files],
    }


async def practitioner(
    client: httpx.AsyncClient,
    container: Container,
    org: Organization,
    *,
    roles: list[Role] | None = None,
    npi: str | None = UNIQUE_NPI,
) -> tuple[User, dict[str, str]]:
    """A signed-in practitioner; with a profile of its own fresh NPI unless `npi` is given."""
    user, headers = await signed_in(client, container, org, roles=roles or [Role.DOCTOR])
    if npi == UNIQUE_NPI:
        npi = unique_npi()
    if npi is not None:
        response = await client.put(
            "/api/credentials/profile",
            json={"npi": npi, "specialty": "orthopedics"},
            headers=headers,
        )
        assert response.status_code == 200, response.text
    return user, headers


async def submit(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    files: list[FileSpec] | None = None,
    entries: Any = None,
) -> httpx.Response:
    if files is None:
        files, entries = five_documents()
    return await client.post(
        "/api/credentials/submissions", headers=headers, **form(files, entries)
    )


async def submitted(
    client: httpx.AsyncClient, headers: dict[str, str], **kwargs: Any
) -> dict[str, Any]:
    response = await submit(client, headers, **kwargs)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def count_rows(container: Container) -> dict[str, int]:
    async with container.db.sessions() as session:
        counts = {}
        for model in (CredentialSubmission, CredentialDocument, EncryptedObject):
            counts[model.__tablename__] = int(
                await session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            )
    return counts


def stored_files(container: Container, org: Organization) -> list[Path]:
    root = container.settings.local_path(container.settings.storage_url)
    folder = root / "orgs" / str(org.id) / "credentials"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
