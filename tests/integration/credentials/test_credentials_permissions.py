"""Who sees what: the owner and the organization's reviewers; anyone else gets 404."""

from __future__ import annotations

import httpx
from tests.factories import create_org, problem, signed_in
from tests.integration.credentials.support import metadata, pdf_file, practitioner, submitted

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role


async def test_documents_are_visible_to_owner_and_reviewers_only(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    other_org = await create_org(container)
    _, owner = await practitioner(client, container, org)
    _, reviewer = await signed_in(client, container, org, roles=[Role.CREDENTIALING_REVIEWER])
    _, colleague = await practitioner(client, container, org)
    _, patient = await signed_in(client, container, org, roles=[Role.PATIENT])
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    _, foreign_reviewer = await signed_in(
        client, container, other_org, roles=[Role.CREDENTIALING_REVIEWER]
    )
    created = await submitted(
        client, owner, files=[pdf_file()], entries=[metadata("medical_license")]
    )
    document = f"/api/credentials/documents/{created['documents'][0]['id']}"
    submission = f"/api/credentials/submissions/{created['reference']}"

    for headers in (owner, reviewer):
        assert (await client.get(document, headers=headers)).status_code == 200
        assert (await client.get(submission, headers=headers)).status_code == 200
        assert (await client.get(f"{document}/content", headers=headers)).status_code == 200
    for headers in (colleague, patient, admin, foreign_reviewer):
        problem(await client.get(document, headers=headers), 404, "credential_document_not_found")
        problem(
            await client.get(f"{document}/content", headers=headers),
            404,
            "credential_document_not_found",
        )
        problem(
            await client.get(submission, headers=headers), 404, "credential_submission_not_found"
        )
    problem(
        await client.post(f"{document}/decision", json={"decision": "verified"}, headers=colleague),
        404,
        "credential_document_not_found",
    )
    for headers in (owner, patient, admin):
        problem(
            await client.get("/api/credentials/review-queue", headers=headers),
            403,
            "permission_denied",
        )
    foreign_queue = await client.get("/api/credentials/review-queue", headers=foreign_reviewer)
    assert foreign_queue.json()["items"] == []
    assert (await client.get("/api/credentials/mine", headers=colleague)).json() == []


async def test_organizations_add_categories(
    client: httpx.AsyncClient, container: Container
) -> None:
    org = await create_org(container)
    _, admin = await signed_in(client, container, org, roles=[Role.ORG_ADMIN])
    _, owner = await practitioner(client, container, org)
    body = {"code": "acls_certificate", "label": "ACLS certificate", "allowed_kinds": ["pdf"]}
    problem(
        await client.post("/api/credentials/categories", json=body, headers=owner),
        403,
        "permission_denied",
    )
    created = await client.post("/api/credentials/categories", json=body, headers=admin)
    assert created.status_code == 201, created.text
    problem(
        await client.post("/api/credentials/categories", json=body, headers=admin),
        409,
        "credential_category_taken",
    )
    problem(
        await client.post(
            "/api/credentials/categories", json={**body, "code": "dea_registration"}, headers=admin
        ),
        409,
        "credential_category_taken",
    )
    listed = await client.get("/api/credentials/categories", headers=owner)
    codes = [c["code"] for c in listed.json()]
    assert codes[:5] == [
        "medical_license",
        "board_certification",
        "dea_registration",
        "curriculum_vitae",
        "malpractice_insurance",
    ]
    assert "acls_certificate" in codes
    result = await submitted(
        client, owner, files=[pdf_file()], entries=[metadata("acls_certificate")]
    )
    assert result["documents"][0]["category"] == "acls_certificate"
