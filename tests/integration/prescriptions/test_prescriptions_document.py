"""The optional scanned prescription: attached to a draft, stored encrypted, read by three."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.factories import problem
from tests.integration.prescriptions.support import Loop, Party, act, build_loop, draft
from tests.unit.filecheck.corpus import HTML_PAGE, pdf_with_zip_appended, valid_pdf, valid_png

from clinvault.bootstrap import Container


@pytest.fixture
async def loop(client: httpx.AsyncClient, container: Container) -> Loop:
    return await build_loop(client, container)


def scan(name: str, data: bytes, content_type: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (name, data, content_type))]


async def attach(client: httpx.AsyncClient, who: Party, rx_id: str, files: Any) -> httpx.Response:
    return await client.post(
        f"/api/prescriptions/{rx_id}/document", files=files, headers=who.headers
    )


async def test_the_scan_is_stored_encrypted_and_read_by_prescriber_patient_and_pharmacy(
    client: httpx.AsyncClient, container: Container, loop: Loop
) -> None:
    image = valid_png()
    rx = await draft(client, loop)
    assert rx["has_document"] is False
    attached = await attach(client, loop.doctor, rx["id"], scan("rx.png", image, "image/png"))
    assert attached.status_code == 201, attached.text
    assert attached.json()["has_document"] is True
    again = await attach(
        client, loop.doctor, rx["id"], scan("rx.pdf", valid_pdf(), "application/pdf")
    )
    problem(again, 409, "prescription_document_exists")

    objects = container.settings.local_path(container.settings.storage_url)
    stored = [p for p in objects.rglob("*") if p.is_file() and rx["id"] in str(p)]
    assert len(stored) == 1
    assert str(loop.clinic.id) in str(stored[0])
    assert image not in stored[0].read_bytes()

    url = f"/api/prescriptions/{rx['id']}/document"
    # Not routed yet: the pharmacy does not know the draft.
    problem(await client.get(url, headers=loop.pharmacist.headers), 404, "prescription_not_found")
    signed = await act(client, loop.doctor, rx["id"], "sign")
    assert signed.status_code == 200, signed.text
    for reader in (loop.doctor, loop.patient, loop.pharmacist):
        download = await client.get(url, headers=reader.headers)
        assert download.status_code == 200, download.text
        assert download.content == image
        assert download.headers["content-type"] == "image/png"
        assert "attachment" in download.headers["content-disposition"]
    # Clinicians who may read the prescription are not its prescriber: 403.
    for other in (loop.colleague, loop.nurse, loop.org_admin, loop.clerk):
        problem(await client.get(url, headers=other.headers), 403, "permission_denied")
    # Another pharmacy, another clinic, another patient: 404.
    for stranger in (loop.pharmacist_b, loop.other_doctor, loop.stranger_patient):
        problem(await client.get(url, headers=stranger.headers), 404, "prescription_not_found")
    # The scan of a signed prescription never changes.
    late = await attach(client, loop.doctor, rx["id"], scan("b.png", valid_png(), "image/png"))
    problem(late, 409, "prescription_state_conflict")

    # The provider's audit view shows the pharmacy's download, naming the pharmacy.
    logs = await client.get(
        "/api/audit/logs", params={"resource_id": rx["id"]}, headers=loop.org_admin.headers
    )
    reads = [e for e in logs.json()["items"] if e["action"] == "prescriptions.document.read"]
    assert any(f"acting_organization={loop.pharmacy.id}" in (e["detail"] or "") for e in reads), [
        (e["action"], e["detail"]) for e in logs.json()["items"]
    ]


async def test_a_nurse_attaches_to_her_own_draft_and_nobody_else_does(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await draft(client, loop, who=loop.nurse, prescriber_id=str(loop.doctor.user.id))
    order = valid_pdf()
    pdf = scan("order.pdf", order, "application/pdf")
    for refused in (loop.colleague, loop.org_admin, loop.patient):
        problem(await attach(client, refused, rx["id"], pdf), 403, "permission_denied")
    problem(await attach(client, loop.clerk, rx["id"], pdf), 403, "permission_denied")
    problem(await attach(client, loop.pharmacist, rx["id"], pdf), 404, "prescription_not_found")
    done = await attach(client, loop.nurse, rx["id"], pdf)
    assert done.status_code == 201, done.text
    assert (await client.get(f"/api/prescriptions/{rx['id']}/document",
                             headers=loop.doctor.headers)).content == order  # fmt: skip


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("rx.pdf", HTML_PAGE, "application/pdf"),
        ("rx.pdf", pdf_with_zip_appended(), "application/pdf"),
        ("rx.txt", b"just some text\n", "text/plain"),
        ("rx.pdf", b"", "application/pdf"),
    ],
)
async def test_files_that_are_not_a_clean_pdf_jpeg_or_png_are_refused(
    client: httpx.AsyncClient,
    container: Container,
    loop: Loop,
    name: str,
    data: bytes,
    content_type: str,
) -> None:
    rx = await draft(client, loop)
    refused = await attach(client, loop.doctor, rx["id"], scan(name, data, content_type))
    body = problem(refused, 422, "prescription_document_rejected")
    assert body["errors"][0]["field"] == "file"
    read = await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.doctor.headers)
    assert read.json()["has_document"] is False
    objects = container.settings.local_path(container.settings.storage_url)
    assert not [p for p in objects.rglob("*") if p.is_file() and rx["id"] in str(p)]


async def test_no_scan_and_no_file_part(client: httpx.AsyncClient, loop: Loop) -> None:
    rx = await draft(client, loop)
    missing = await client.get(
        f"/api/prescriptions/{rx['id']}/document", headers=loop.doctor.headers
    )
    problem(missing, 404, "prescription_document_not_found")
    no_part = await client.post(
        f"/api/prescriptions/{rx['id']}/document",
        files={"other": ("x.pdf", valid_pdf(), "application/pdf")},
        headers=loop.doctor.headers,
    )
    problem(no_part, 422, "request_invalid")
