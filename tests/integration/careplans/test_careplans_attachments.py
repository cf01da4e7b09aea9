"""Documents attached to a care plan: checked by their bytes, stored encrypted under the
owner's prefix, tied to the version they were added in, read by whoever sees the plan,
removed but kept on record."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.factories import create_org, problem
from tests.integration.careplans.support import PLANS, World, build_world, create_plan, update_plan
from tests.integration.records.conftest import member
from tests.unit.filecheck.corpus import HTML_PAGE, pdf_with_zip_appended, valid_pdf, valid_png

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


@pytest.fixture
async def world(client: httpx.AsyncClient, container: Container) -> World:
    return await build_world(client, container)


def upload(name: str, data: bytes, content_type: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("file", (name, data, content_type))]


async def attach(
    client: httpx.AsyncClient, headers: dict[str, str], plan_id: str, files: Any
) -> httpx.Response:
    return await client.post(f"{PLANS}/{plan_id}/attachments", files=files, headers=headers)


def stored_objects(container: Container, plan_id: str) -> list[bytes]:
    root = container.settings.local_path(container.settings.storage_url)
    return [p.read_bytes() for p in root.rglob("*") if p.is_file() and plan_id in str(p)]


async def shared_reader(
    client: httpx.AsyncClient, container: Container, world: World, plan_id: str, level: str
) -> dict[str, str]:
    """A doctor of another provider organization holding an accepted share at `level`."""
    other = await create_org(container)
    _, partner = await member(container, other, Role.DOCTOR)
    made = await client.post(
        f"{PLANS}/{plan_id}/shares",
        json={"organization_id": str(other.id), "level": level},
        headers=world.doctor,
    )
    assert made.status_code == 201, made.text
    accepted = await client.post(f"{PLANS}/shares/{made.json()['id']}/accept", headers=partner)
    assert accepted.status_code == 200, accepted.text
    return partner


async def test_upload_list_download_and_remove_kept_on_record(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    image = valid_png()
    added = await attach(client, world.nurse, plan["id"], upload("wound.png", image, "image/png"))
    assert added.status_code == 201, added.text
    first = added.json()
    assert (first["version"], first["filename"], first["size"]) == (1, "wound.png", len(image))
    assert first["content_type"] == "image/png"
    assert first["removed_at"] is None

    changed = await update_plan(client, world.doctor, plan, plan["etag"], title="T2")
    assert changed.status_code == 200
    report = valid_pdf()
    second = await attach(
        client, world.doctor, plan["id"], upload("report.pdf", report, "application/pdf")
    )
    assert second.status_code == 201, second.text
    assert second.json()["version"] == 2

    objects = stored_objects(container, plan["id"])
    assert len(objects) == 2
    assert all(image not in blob and report not in blob for blob in objects)
    root = container.settings.local_path(container.settings.storage_url)
    keys = [
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and plan["id"] in str(p)
    ]
    prefix = f"orgs/{world.clinic.org.id}/care-plans/{plan['id']}/"
    assert len(keys) == 2
    assert all(key.startswith(prefix) for key in keys), keys

    listed = await client.get(f"{PLANS}/{plan['id']}/attachments", headers=world.doctor)
    assert [(a["filename"], a["version"]) for a in listed.json()] == [
        ("wound.png", 1),
        ("report.pdf", 2),
    ]
    url = f"{PLANS}/{plan['id']}/attachments/{first['id']}"
    download = await client.get(url, headers=world.doctor)
    assert download.status_code == 200, download.text
    assert download.content == image
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "wound.png" in download.headers["content-disposition"]

    removed = await client.delete(url, headers=world.nurse)
    assert removed.status_code == 200, removed.text
    assert removed.json()["removed_in_version"] == 2
    assert removed.json()["removed_by"] == str(world.clinic.users["nurse"].id)
    problem(await client.get(url, headers=world.doctor), 404, "care_plan_attachment_not_found")
    after = (await client.get(f"{PLANS}/{plan['id']}/attachments", headers=world.doctor)).json()
    assert [a["removed_at"] is not None for a in after] == [True, False]
    assert len(stored_objects(container, plan["id"])) == 2

    logs = await client.get(
        "/api/audit/logs",
        params={"action": "careplans.attachments.remove"},
        headers=world.clinic.headers["org_admin"],
    )
    assert logs.status_code == 200, logs.text
    assert [e["outcome"] for e in logs.json()["items"]] == ["success"]


@pytest.mark.parametrize(
    ("name", "data", "content_type", "status", "code"),
    [
        ("plan.pdf", HTML_PAGE, "application/pdf", 422, "type_mismatch"),
        ("plan.pdf", pdf_with_zip_appended(), "application/pdf", 422, None),
        ("notes.txt", b"just some text\n", "text/plain", 415, "type_not_allowed"),
        ("plan.pdf", b"", "application/pdf", 422, "empty_file"),
    ],
)
async def test_hostile_or_wrong_files_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    container: Container,
    world: World,
    name: str,
    data: bytes,
    content_type: str,
    status: int,
    code: str | None,
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    refused = await attach(client, world.doctor, plan["id"], upload(name, data, content_type))
    expected = "care_plan_attachment_type" if status == 415 else "care_plan_attachment_rejected"
    body = problem(refused, status, expected)
    assert body["errors"][0]["field"] == "file"
    if code is not None:
        assert code in [e["code"] for e in body["errors"]]
    listed = await client.get(f"{PLANS}/{plan['id']}/attachments", headers=world.doctor)
    assert listed.json() == []
    assert stored_objects(container, plan["id"]) == []


async def test_an_oversized_file_is_a_413_and_nothing_is_stored(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    limit = container.settings.records.max_attachment_bytes
    over_policy = valid_pdf(pad_to=limit + 1024)
    refused = await attach(
        client, world.doctor, plan["id"], upload("big.pdf", over_policy, "application/pdf")
    )
    body = problem(refused, 413, "care_plan_attachment_too_large")
    assert body["errors"][0]["code"] == "file_too_large"
    over_body = valid_pdf(pad_to=limit + 256 * 1024)
    refused = await attach(
        client, world.doctor, plan["id"], upload("huge.pdf", over_body, "application/pdf")
    )
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    listed = await client.get(f"{PLANS}/{plan['id']}/attachments", headers=world.doctor)
    assert listed.json() == []
    assert stored_objects(container, plan["id"]) == []


async def test_a_shared_reader_downloads_but_neither_adds_nor_removes(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    report = valid_pdf()
    added = await attach(
        client, world.doctor, plan["id"], upload("labs.pdf", report, "application/pdf")
    )
    assert added.status_code == 201, added.text
    url = f"{PLANS}/{plan['id']}/attachments/{added.json()['id']}"
    reader = await shared_reader(client, container, world, plan["id"], "view")
    listed = await client.get(f"{PLANS}/{plan['id']}/attachments", headers=reader)
    assert [a["filename"] for a in listed.json()] == ["labs.pdf"]
    download = await client.get(url, headers=reader)
    assert download.status_code == 200, download.text
    assert download.content == report
    assert download.headers["content-type"] == "application/pdf"
    pdf = upload("mine.pdf", valid_pdf(), "application/pdf")
    problem(await attach(client, reader, plan["id"], pdf), 403, "permission_denied")
    problem(await client.delete(url, headers=reader), 403, "permission_denied")

    editor = await shared_reader(client, container, world, plan["id"], "edit")
    assert (await attach(client, editor, plan["id"], pdf)).status_code == 201

    logs = await client.get(
        "/api/audit/logs",
        params={"action": "careplans.attachments.read"},
        headers=world.clinic.headers["org_admin"],
    )
    assert any("acting_organization=" in (e["detail"] or "") for e in logs.json()["items"])


async def test_another_organization_without_a_share_gets_404(
    client: httpx.AsyncClient, container: Container, world: World
) -> None:
    plan = await create_plan(client, world.doctor, world.patient_id)
    added = await attach(
        client, world.doctor, plan["id"], upload("labs.pdf", valid_pdf(), "application/pdf")
    )
    url = f"{PLANS}/{plan['id']}/attachments/{added.json()['id']}"
    stranger = world.foreign_doctor
    problem(await client.get(url, headers=stranger), 404, "care_plan_not_found")
    problem(
        await client.get(f"{PLANS}/{plan['id']}/attachments", headers=stranger),
        404,
        "care_plan_not_found",
    )
    problem(await client.delete(url, headers=stranger), 404, "care_plan_not_found")
    pdf = upload("x.pdf", valid_pdf(), "application/pdf")
    problem(await attach(client, stranger, plan["id"], pdf), 404, "care_plan_not_found")
    # Another plan's attachment id under this plan: not found either.
    other = await create_plan(client, world.doctor, world.patient_id)
    problem(
        await client.get(f"{PLANS}/{other['id']}/attachments/{added.json()['id']}",
                         headers=world.doctor),
        404,
        "care_plan_attachment_not_found",
    )  # fmt: skip
