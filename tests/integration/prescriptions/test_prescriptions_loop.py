"""The closed loop across two tenants: issue, see, route, claim, dispense, refill, complete."""

from __future__ import annotations

import httpx
import pytest
from tests.factories import problem
from tests.integration.prescriptions.support import Loop, act, build_loop, draft, issued

from clinvault.bootstrap import Container


@pytest.fixture
async def loop(client: httpx.AsyncClient, container: Container) -> Loop:
    return await build_loop(client, container)


async def test_the_whole_loop_with_a_partial_fill_and_a_refill(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await draft(client, loop)
    assert rx["status"] == "draft"
    assert rx["fill_status"] == "none"
    assert rx["verification_url"] is None
    assert len(rx["number"]) == 9
    # Not routed yet: the pharmacy cannot see a draft.
    unseen = await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.pharmacist.headers)
    problem(unseen, 404, "prescription_not_found")

    signed = await act(client, loop.doctor, rx["id"], "sign")
    assert signed.status_code == 200, signed.text
    body = signed.json()
    assert (body["status"], body["fill_status"]) == ("active", "ready")
    assert body["verification_url"].count("/pharmacy/verify/v1.") == 1
    assert body["total_authorised"] == 60
    assert body["remaining"] == 60

    mine = await client.get("/api/prescriptions/", headers=loop.patient.headers)
    assert [item["number"] for item in mine.json()["items"]] == [rx["number"]]

    queue = await client.get("/api/pharmacy/queue", headers=loop.pharmacist.headers)
    assert queue.status_code == 200, queue.text
    [item] = queue.json()["items"]
    assert item["number"] == rx["number"]
    assert item["patient"]["last_name"] == "Lovelace"

    claimed = await act(client, loop.pharmacist, rx["id"], "claim", {"version": item["version"]})
    assert claimed.status_code == 200, claimed.text
    view = claimed.json()
    assert view["fill_status"] == "accepted"
    assert view["patient_id"] is None
    assert set(view["patient"]) == {"first_name", "last_name", "date_of_birth"}
    assert view["prescriber"]["npi"] is None or len(view["prescriber"]["npi"]) == 10

    partial = await act(client, loop.pharmacist, rx["id"], "dispense", {"quantity": 10})
    assert partial.status_code == 200, partial.text
    assert partial.json()["fill_status"] == "in-progress"
    assert partial.json()["remaining"] == 50

    rest = await act(client, loop.pharmacist, rx["id"], "dispense", {"quantity": 20})
    assert rest.status_code == 200, rest.text
    refill = rest.json()
    assert (refill["status"], refill["fill_status"]) == ("active", "ready")
    assert [f["status"] for f in refill["fills"]] == ["closed", "ready"]
    assert refill["remaining"] == 30

    await act(client, loop.pharmacist, rx["id"], "claim")
    last = await act(client, loop.pharmacist, rx["id"], "dispense", {"quantity": 30})
    assert last.status_code == 200, last.text
    done = last.json()
    assert (done["status"], done["fill_status"]) == ("completed", "closed")
    assert done["remaining"] == 0
    assert done["dispensed"] == 60
    assert [d["remaining"] for d in done["dispenses"]] == [50, 30, 0]
    actions = [event["action"] for event in done["history"]]
    assert actions == ["sign", "claim", "dispense", "dispense", "claim", "dispense"]
    pharmacy_events = [e for e in done["history"] if e["action"] == "dispense"]
    assert {e["acting_organization_id"] for e in pharmacy_events} == {str(loop.pharmacy.id)}

    # The patient sees the fills; the prescriber sees what the pharmacy did.
    seen = await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.patient.headers)
    assert seen.json()["status"] == "completed"
    assert len(seen.json()["dispenses"]) == 3
    completed = await client.get(
        "/api/pharmacy/queue", params={"bucket": "completed"}, headers=loop.pharmacist.headers
    )
    assert [i["number"] for i in completed.json()["items"]] == [rx["number"]]


async def test_decline_releases_the_fill_and_the_patient_moves_it(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await issued(client, loop)
    await act(client, loop.pharmacist, rx["id"], "claim")
    declined = await act(
        client,
        loop.pharmacist,
        rx["id"],
        "decline",
        {"reason_code": "out_of_stock", "note": "Back in stock next week."},
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["fill_status"] == "ready"
    rejected = await client.get(
        "/api/pharmacy/queue", params={"bucket": "rejected"}, headers=loop.pharmacist.headers
    )
    assert [i["id"] for i in rejected.json()["items"]] == [rx["id"]]

    moved = await act(
        client, loop.patient, rx["id"], "pharmacy", {"pharmacy_id": str(loop.pharmacy_b.id)}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["pharmacy"]["name"] == "Harbor Pharmacy"
    # The first pharmacy never dispensed: the prescription is gone from its view.
    gone = await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.pharmacist.headers)
    problem(gone, 404, "prescription_not_found")
    queue_b = await client.get("/api/pharmacy/queue", headers=loop.pharmacist_b.headers)
    assert [i["id"] for i in queue_b.json()["items"]] == [rx["id"]]
    # The prescriber was told of the decline.
    notes = await client.get("/api/notifications", headers=loop.doctor.headers)
    assert any("declined" in n["title"] for n in notes.json()["items"])


async def test_cancel_while_held_waits_for_the_pharmacy(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await issued(client, loop)
    await act(client, loop.pharmacist, rx["id"], "claim")
    await act(client, loop.pharmacist, rx["id"], "dispense", {"quantity": 5})
    requested = await act(client, loop.doctor, rx["id"], "cancel", {"reason": "Allergy found."})
    assert requested.status_code == 200, requested.text
    assert requested.json()["fill_status"] == "cancel-requested"
    denied = await act(client, loop.pharmacist, rx["id"], "cancel-decision", {"decision": "deny"})
    problem(denied, 422, "request_invalid")
    denied = await act(
        client,
        loop.pharmacist,
        rx["id"],
        "cancel-decision",
        {"decision": "deny", "reason": "Already handed to the patient."},
    )
    assert denied.json()["fill_status"] == "in-progress", denied.text
    await act(client, loop.doctor, rx["id"], "cancel")
    acknowledged = await act(
        client, loop.pharmacist, rx["id"], "cancel-decision", {"decision": "acknowledge"}
    )
    body = acknowledged.json()
    assert (body["status"], body["fill_status"]) == ("stopped", "cancelled"), body
    history = [(e["action"], e["to_state"]) for e in body["history"]]
    assert ("deny-cancel", "active/in-progress (dispensed)") in history


async def test_cancel_before_any_dispense_is_cancelled_and_entered_in_error_only_before(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await issued(client, loop)
    cancelled = await act(client, loop.doctor, rx["id"], "cancel")
    assert cancelled.json()["status"] == "cancelled"
    again = await act(client, loop.doctor, rx["id"], "resume")
    body = problem(again, 409, "prescription_state_conflict")
    assert "cancelled/cancelled" in body["detail"]


async def test_cross_tenant_visibility(client: httpx.AsyncClient, loop: Loop) -> None:
    rx = await issued(client, loop)
    url = f"/api/prescriptions/{rx['id']}"
    # Another pharmacy, another clinic, another patient: 404.
    for party in (loop.pharmacist_b, loop.other_doctor, loop.stranger_patient):
        problem(await client.get(url, headers=party.headers), 404, "prescription_not_found")
    # The pharmacy reaches nothing else of the clinic.
    chart = await client.get(f"/api/patients/{loop.patient_id}", headers=loop.pharmacist.headers)
    assert chart.status_code in (403, 404)
    assert chart.status_code == 404 or "Lovelace" not in chart.text
    listed = await client.get("/api/prescriptions/", headers=loop.pharmacist.headers)
    assert listed.status_code == 403
    # Provider staff have no pharmacy queue.
    for party in (loop.doctor, loop.org_admin, loop.clerk, loop.patient):
        queue = await client.get("/api/pharmacy/queue", headers=party.headers)
        problem(queue, 404, "pharmacy_queue_not_found")
    # A clerk sees the prescription exists but may not read it.
    problem(await client.get(url, headers=loop.clerk.headers), 403, "permission_denied")


async def test_audit_shows_the_other_tenants_acts(client: httpx.AsyncClient, loop: Loop) -> None:
    rx = await issued(client, loop)
    await act(client, loop.pharmacist, rx["id"], "claim")
    logs = await client.get(
        "/api/audit/logs",
        params={"resource_id": rx["id"]},
        headers=loop.org_admin.headers,
    )
    assert logs.status_code == 200, logs.text
    claims = [e for e in logs.json()["items"] if e["action"] == "prescriptions.claim"]
    assert claims, [(e["action"], e["detail"]) for e in logs.json()["items"]]
    assert f"acting_organization={loop.pharmacy.id}" in (claims[0]["detail"] or "")


async def test_pdf_carries_the_verification_link_and_verify_answers_minimally(
    client: httpx.AsyncClient, loop: Loop
) -> None:
    rx = await issued(client, loop)
    pdf = await client.get(f"/api/prescriptions/{rx['id']}/pdf", headers=loop.doctor.headers)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    token = rx["verification_url"].rsplit("/", 1)[1]
    verified = await client.get(
        f"/api/prescriptions/verify/{token}", headers=loop.pharmacist_b.headers
    )
    assert verified.status_code == 200, verified.text
    assert verified.json() == {
        "genuine": True,
        "number": rx["number"],
        "status": "active",
        "remaining": 60.0,
        "unit": "capsule",
    }
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = await client.get(
        f"/api/prescriptions/verify/{tampered}", headers=loop.pharmacist.headers
    )
    problem(refused, 400 if refused.status_code == 400 else 422, "verification_token_invalid")
    # After a move the old paper copy is refused as replaced.
    await act(client, loop.patient, rx["id"], "pharmacy", {"pharmacy_id": str(loop.pharmacy_b.id)})
    replayed = await client.get(
        f"/api/prescriptions/verify/{token}", headers=loop.pharmacist.headers
    )
    problem(replayed, 410, "verification_token_superseded")
    # A provider cannot use the pharmacist's verify endpoint.
    problem(
        await client.get(f"/api/prescriptions/verify/{token}", headers=loop.doctor.headers),
        403,
        "permission_denied",
    )
