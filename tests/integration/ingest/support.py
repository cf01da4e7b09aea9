"""Helpers of the ingest tests: an organization with an importer, and a file through the API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from tests.factories import signed_in

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization

HEADER = "medical_record_number,first_name,last_name,date_time,doctors_notes\n"
FINISHED = {"completed", "completed_with_errors", "failed", "cancelled"}


@dataclass
class Importer:
    org: Organization
    headers: dict[str, str]


async def importer(
    client: httpx.AsyncClient, container: Container, org: Organization, role: Role = Role.CLERK
) -> Importer:
    _, headers = await signed_in(client, container, org, roles=[role])
    return Importer(org, headers)


def relative(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def ticket(
    client: httpx.AsyncClient, who: Importer, filename: str = "visits.csv", **options: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/ingest/uploads", json={"filename": filename, **options}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_job(
    client: httpx.AsyncClient, who: Importer, job_id: str, timeout: float = 60.0
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(f"/api/ingest/jobs/{job_id}", headers=who.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["state"] in FINISHED:
            return body
        assert asyncio.get_running_loop().time() < deadline, f"job still {body['state']}"
        await asyncio.sleep(0.05)


async def ingest(
    client: httpx.AsyncClient, who: Importer, content: bytes | str, **options: Any
) -> dict[str, Any]:
    """Upload through a signed URL and wait for the job to finish; the final job."""
    data = content.encode() if isinstance(content, str) else content
    granted = await ticket(client, who, **options)
    response = await client.put(relative(granted["url"]), content=data)
    assert response.status_code == 202, response.text
    return await wait_job(client, who, response.json()["id"])


def visits(*rows: tuple[str, str, str, str, str]) -> str:
    lines = [HEADER]
    for row in rows:
        lines.append(",".join(_quote(cell) for cell in row) + "\n")
    return "".join(lines)


def _quote(cell: str) -> str:
    if any(ch in cell for ch in ',"\n\r'):
        return '"' + cell.replace('"', '""') + '"'
    return cell
