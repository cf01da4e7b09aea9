"""Record attachments: checked, encrypted at rest, streamed back decrypted to who may read."""

from __future__ import annotations

import io
import uuid

import httpx
import pikepdf
from PIL import Image
from tests.factories import problem
from tests.integration.records.conftest import (
    Clinic,
    add_patient,
    add_record,
    open_clinic,
    patient_account,
)

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    document = pikepdf.new()
    document.add_blank_page()
    document.save(buffer)
    return buffer.getvalue()


async def _record(client: httpx.AsyncClient, clinic: Clinic) -> tuple[str, str]:
    patient = await add_patient(client, clinic.headers["clerk"])
    record = await add_record(client, clinic.headers["doctor"], patient["id"])
    return patient["id"], record["id"]


async def test_attach_list_and_download(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    patient_id, record_id = await _record(client, clinic)
    image, document = png_bytes(), pdf_bytes()
    uploaded = await client.post(
        f"/api/records/{record_id}/attachments",
        files={"file": ("x-ray <left>.png", image, "application/octet-stream")},
        headers=clinic.headers["nurse"],
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["content_type"] == "image/png"
    assert attachment["size"] == len(image)
    assert attachment["filename"] == "x-ray <left>.png"
    second = await client.post(
        f"/api/records/{record_id}/attachments",
        files={"file": ("report.pdf", document, "application/pdf")},
        headers=clinic.headers["doctor"],
    )
    assert second.status_code == 201, second.text

    record = (
        await client.get(f"/api/records/{record_id}", headers=clinic.headers["doctor"])
    ).json()
    assert [a["id"] for a in record["attachments"]] == [attachment["id"], second.json()["id"]]
    url = f"/api/records/{record_id}/attachments/{attachment['id']}/content"
    download = await client.get(url, headers=clinic.headers["doctor"])
    assert download.status_code == 200
    assert download.content == image
    assert download.headers["content-type"] == "image/png"
    assert "attachment" in download.headers["content-disposition"]

    objects = container.settings.local_path(container.settings.storage_url)
    stored = [
        path
        for path in objects.rglob("*")
        if path.is_file() and str(clinic.org.id) in str(path) and record_id in str(path)
    ]
    assert len(stored) == 2
    assert all(image not in path.read_bytes() for path in stored)

    _, own = await patient_account(client, container, clinic, patient_id)
    assert (await client.get(url, headers=own)).content == image
    problem(await client.get(url, headers=clinic.headers["clerk"]), 403, "permission_denied")


async def test_rejected_files_store_nothing(client: httpx.AsyncClient, clinic: Clinic) -> None:
    _, record_id = await _record(client, clinic)
    url = f"/api/records/{record_id}/attachments"
    doctor = clinic.headers["doctor"]
    for name, content in (
        ("notes.pdf", b"just text pretending to be a pdf"),
        ("empty.png", b""),
        ("script.html", b"<script>alert(1)</script>"),
        ("truncated.pdf", pdf_bytes()[:-40]),
    ):
        body = problem(
            await client.post(
                url, files={"file": (name, content, "application/pdf")}, headers=doctor
            ),
            422,
            "attachment_rejected",
        )
        assert body["errors"][0]["code"], body
    problem(await client.post(url, headers=doctor), 422, "request_invalid")
    problem(
        await client.post(
            url,
            files={"file": ("a.png", png_bytes(), "image/png")},
            headers=clinic.headers["clerk"],
        ),
        403,
        "permission_denied",
    )
    record = (await client.get(f"/api/records/{record_id}", headers=doctor)).json()
    assert record["attachments"] == []


async def test_foreign_unknown_and_superseded(
    client: httpx.AsyncClient, container: Container, clinic: Clinic
) -> None:
    _, record_id = await _record(client, clinic)
    uploaded = await client.post(
        f"/api/records/{record_id}/attachments",
        files={"file": ("a.png", png_bytes(), "image/png")},
        headers=clinic.headers["doctor"],
    )
    attachment_id = uploaded.json()["id"]
    other = await open_clinic(client, container, roles=(Role.DOCTOR,))
    url = f"/api/records/{record_id}/attachments/{attachment_id}/content"
    problem(await client.get(url, headers=other.headers["doctor"]), 404, "medical_record_not_found")
    problem(
        await client.get(
            f"/api/records/{record_id}/attachments/{uuid.uuid4()}/content",
            headers=clinic.headers["doctor"],
        ),
        404,
        "attachment_not_found",
    )
    problem(
        await client.post(
            f"/api/records/{record_id}/attachments",
            files={"file": ("a.png", png_bytes(), "image/png")},
            headers=other.headers["doctor"],
        ),
        404,
        "medical_record_not_found",
    )
    amended = await client.post(
        f"/api/records/{record_id}/amendments",
        json={"title": "v2"},
        headers=clinic.headers["doctor"],
    )
    assert amended.status_code == 201
    problem(
        await client.post(
            f"/api/records/{record_id}/attachments",
            files={"file": ("a.png", png_bytes(), "image/png")},
            headers=clinic.headers["doctor"],
        ),
        409,
        "medical_record_superseded",
    )
