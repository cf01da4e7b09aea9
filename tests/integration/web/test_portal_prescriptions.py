"""Prescriptions in the portal: prescribe from the chart, sign, the patient's list, the
pharmacy's queue, partial dispenses and the verify page, across the two organizations."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape

import httpx
from fastapi import FastAPI
from portal_helpers import ACCESS, form_token, post_form
from tests.integration.prescriptions.support import (
    Loop,
    Party,
    build_loop,
    draft,
    enable_totp,
    issued,
    verified_dea,
)

from clinvault.bootstrap import Container

ALLERGIC = "Penicillin; latex"


@asynccontextmanager
async def portal_as(app: FastAPI, who: Party) -> AsyncIterator[httpx.AsyncClient]:
    """A portal client whose session cookie holds `who`'s access token."""
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        token = who.headers["Authorization"].removeprefix("Bearer ")
        http.cookies.set(ACCESS, token, domain="testserver.local")
        yield http


def text(html: str) -> str:
    """The page's visible text, tags removed and whitespace collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def prescribe_fields(loop: Loop, **overrides: str) -> dict[str, str]:
    fields = {
        "medication_name": "Amoxicillin",
        "medication_strength": "500 mg",
        "dose_form": "capsule",
        "rxnorm_code": "",
        "schedule": "none",
        "directions": "One capsule three times a day.",
        "quantity": "30",
        "unit": "capsule",
        "days_supply": "10",
        "refills_allowed": "1",
        "valid_until": "",
        "earliest_fill_on": "",
        "substitution_allowed": "yes",
        "notes": "Sinusitis.",
        "pharmacy_q": "Main Street",
        "pharmacy_id": str(loop.pharmacy.id),
        "intent": "save",
    }
    fields.update(overrides)
    return fields


async def set_allergies(client: httpx.AsyncClient, loop: Loop, allergies: str) -> None:
    changed = await client.put(
        f"/api/patients/{loop.patient_id}",
        json={"allergies": allergies},
        headers=loop.doctor.headers,
    )
    assert changed.status_code == 200, changed.text


async def test_doctor_prescribes_from_the_chart_with_allergy_warning_and_kept_values(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    loop = await build_loop(client, container)
    await set_allergies(client, loop, ALLERGIC)
    chart_path = f"/patients/{loop.patient_id}"
    new_path = f"{chart_path}/prescriptions/new"
    async with portal_as(app, loop.doctor) as doctor:
        chart = await doctor.get(chart_path)
        assert chart.status_code == 200, chart.text
        assert f'href="{new_path}">Prescribe</a>' in chart.text
        home = await doctor.get("/")
        assert '<a href="/prescriptions">Prescriptions</a>' in home.text

        form = await doctor.get(new_path)
        assert form.status_code == 200
        assert "Penicillin" in text(form.text)
        assert "latex" in text(form.text)
        token = form_token(form.text, new_path)

        # The pharmacy search keeps every typed value and lists the pharmacies found.
        searched = await doctor.post(
            new_path,
            data={**prescribe_fields(loop, pharmacy_q="springfield", pharmacy_id=""),
                  "intent": "search", "csrf_token": token},
        )  # fmt: skip
        assert searched.status_code == 200, searched.text
        assert "Main Street Pharmacy" in searched.text
        assert "Harbor Pharmacy" not in searched.text
        assert 'value="One capsule three times a day."' not in searched.text  # a textarea
        assert "One capsule three times a day.</textarea>" in searched.text
        assert 'value="500 mg"' in searched.text

        # A refused submit: per-field messages, typed values kept.
        refused = await doctor.post(
            new_path,
            data={**prescribe_fields(loop, quantity="", pharmacy_id="", days_supply="abc"),
                  "csrf_token": token},
        )  # fmt: skip
        assert refused.status_code == 400
        assert 'id="quantity-error"' in refused.text
        assert 'id="days_supply-error"' in refused.text
        assert "Choose a pharmacy" in refused.text
        assert 'value="abc"' in refused.text
        assert 'value="Amoxicillin"' in refused.text

        # The medication matches a recorded allergy: it must be acknowledged.
        warned = await doctor.post(
            new_path,
            data={**prescribe_fields(loop, medication_name="Penicillin V potassium"),
                  "csrf_token": token},
        )  # fmt: skip
        assert warned.status_code == 400
        assert 'id="allergy_acknowledged-error"' in warned.text
        assert "Penicillin is recorded as an allergy" in text(warned.text)
        listed = await client.get("/api/prescriptions/", headers=loop.doctor.headers)
        assert listed.json()["items"] == []

        created = await doctor.post(
            new_path,
            data={**prescribe_fields(loop, medication_name="Penicillin V potassium"),
                  "allergy_acknowledged": "yes", "csrf_token": token},
        )  # fmt: skip
        assert created.status_code == 303, created.text
        detail_path = created.headers["location"].split("?")[0]
        detail = await doctor.get(created.headers["location"])
        assert "Draft saved" in detail.text
        assert "Sign prescription" in detail.text
        assert 'name="second_factor"' not in detail.text  # not a controlled substance

        signed = await post_form(doctor, detail_path, f"{detail_path}/sign", {})
        assert signed.status_code == 303, signed.text
        page = await doctor.get(signed.headers["location"])
        assert "Signed: the prescription is active" in page.text
        assert f"{detail_path}/pdf" in page.text
        assert "/pharmacy/verify/" in page.text
        pdf = await doctor.get(f"{detail_path}/pdf")
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

        listing = await doctor.get("/prescriptions", params={"patient": loop.patient_id})
        assert "Penicillin V potassium" in listing.text
        assert "Main Street Pharmacy" in listing.text


async def test_controlled_substance_is_signed_with_a_totp_code(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    loop = await build_loop(client, container)
    await verified_dea(client, loop.doctor, loop.extra["reviewer"])
    totp = await enable_totp(container, loop.doctor.user)
    created = await draft(
        client, loop, medication={"name": "Oxycodone", "strength": "5 mg", "dose_form": "tablet"},
        unit="tablet", schedule="II", refills_allowed=0, quantity=20, days_supply=5,
    )  # fmt: skip
    path = f"/prescriptions/{created['id']}"
    async with portal_as(app, loop.doctor) as doctor:
        page = await doctor.get(path)
        assert 'name="second_factor"' in page.text
        missing = await post_form(doctor, path, f"{path}/sign", {"second_factor": ""})
        assert missing.status_code == 403
        assert 'id="sign-error"' in missing.text
        badly = await post_form(doctor, path, f"{path}/sign", {"second_factor": "12ab"})
        assert badly.status_code == 400
        assert "6-digit code" in badly.text
        signed = await post_form(doctor, path, f"{path}/sign", {"second_factor": totp.now()})
        assert signed.status_code == 303, signed.text
    read = await client.get(f"/api/prescriptions/{created['id']}", headers=loop.doctor.headers)
    assert read.json()["status"] == "active"


async def test_nurse_drafts_for_a_doctor_and_cannot_sign(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    loop = await build_loop(client, container)
    new_path = f"/patients/{loop.patient_id}/prescriptions/new"
    async with portal_as(app, loop.nurse) as nurse:
        form = await nurse.get(new_path)
        assert 'id="prescriber_id"' in form.text
        refused = await post_form(nurse, new_path, new_path, prescribe_fields(loop))
        assert refused.status_code == 422
        assert 'id="prescriber_id-error"' in refused.text
        created = await post_form(
            nurse, new_path, new_path,
            prescribe_fields(loop, prescriber_id=str(loop.doctor.user.id)),
        )  # fmt: skip
        assert created.status_code == 303, created.text
        page = await nurse.get(created.headers["location"])
        assert "Sign prescription" not in page.text
    async with portal_as(app, loop.clerk) as clerk:
        assert (await clerk.get(new_path)).status_code == 403


async def test_patient_sees_and_moves_their_prescription_pharmacist_works_the_queue(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    loop = await build_loop(client, container)
    rx = await issued(client, loop)
    rx_path = f"/prescriptions/{rx['id']}"

    async with portal_as(app, loop.patient) as patient:
        home = await patient.get("/")
        assert '<a href="/my-prescriptions">My prescriptions</a>' in home.text
        mine = await patient.get("/my-prescriptions")
        assert mine.status_code == 200
        seen = text(mine.text)
        assert rx["number"] in seen
        assert "Main Street Pharmacy" in seen
        assert "Ready for the pharmacy" in seen
        assert "First fill" in seen
        change = await patient.get(f"{rx_path}/pharmacy", params={"q": "harbor"})
        assert "Harbor Pharmacy" in change.text
        token = form_token(change.text, f"{rx_path}/pharmacy")
        empty = await patient.post(f"{rx_path}/pharmacy", data={"csrf_token": token, "q": "harbor"})
        assert empty.status_code == 400
        assert "Choose the new pharmacy" in empty.text
        moved = await patient.post(
            f"{rx_path}/pharmacy",
            data={"csrf_token": token, "q": "harbor", "pharmacy_id": str(loop.pharmacy_b.id)},
        )
        assert moved.status_code == 303, moved.text
        assert "Harbor Pharmacy" in text((await patient.get("/my-prescriptions")).text)
        assert (await patient.get("/pharmacy/queue")).status_code in (403, 404)

    async with portal_as(app, loop.pharmacist) as first:
        # No longer routed to the first pharmacy: a 404.
        assert (await first.get(rx_path)).status_code == 404

    async with portal_as(app, loop.pharmacist_b) as pharmacist:
        home = await pharmacist.get("/")
        assert '<a href="/pharmacy/queue">Pharmacy queue</a>' in home.text
        queue = await pharmacist.get("/pharmacy/queue")
        assert rx["number"] in queue.text
        assert "Doe" in queue.text or "born" in queue.text
        claimed = await post_form(pharmacist, "/pharmacy/queue", f"{rx_path}/claim", {})
        assert claimed.status_code == 303, claimed.text
        progress = await pharmacist.get("/pharmacy/queue", params={"bucket": "in_progress"})
        assert rx["number"] in progress.text

        too_much = await post_form(pharmacist, rx_path, f"{rx_path}/dispense", {"quantity": "31"})
        assert too_much.status_code == 422
        assert 'value="31"' in too_much.text
        assert "remain" in too_much.text
        zero = await post_form(pharmacist, rx_path, f"{rx_path}/dispense", {"quantity": "0"})
        assert zero.status_code == 400
        part = await post_form(pharmacist, rx_path, f"{rx_path}/dispense", {"quantity": "10"})
        assert part.status_code == 303, part.text
        page = text((await pharmacist.get(rx_path)).text)
        assert "10 of 60 capsule · 50 remaining" in page
        assert "20 capsule remaining" in page
        rest = await post_form(pharmacist, rx_path, f"{rx_path}/dispense", {"quantity": "20"})
        assert rest.status_code == 303, rest.text

        declined = await post_form(
            pharmacist, rx_path, f"{rx_path}/claim", {}
        )  # the refill, released after the first fill
        assert declined.status_code == 303, declined.text
        no_note = await post_form(
            pharmacist, rx_path, f"{rx_path}/decline", {"reason_code": "out_of_stock", "note": ""}
        )
        assert no_note.status_code == 400
        done = await post_form(
            pharmacist, rx_path, f"{rx_path}/decline",
            {"reason_code": "out_of_stock", "note": "Back in stock on Monday."},
        )  # fmt: skip
        assert done.status_code == 303, done.text
        rejected = await pharmacist.get("/pharmacy/queue", params={"bucket": "rejected"})
        assert rx["number"] in rejected.text

        read = await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.doctor.headers)
        link = read.json()["verification_url"]
        typed = await pharmacist.get("/pharmacy/verify", params={"link": link})
        assert typed.status_code == 303
        token = link.rsplit("/pharmacy/verify/", 1)[1]
        assert typed.headers["location"] == f"/pharmacy/verify/{token}"
        verified = await pharmacist.get(typed.headers["location"])
        assert verified.status_code == 200
        assert "Genuine" in verified.text
        assert rx["number"] in verified.text
        assert "30 capsule" in text(verified.text)
        forged = await pharmacist.get(f"/pharmacy/verify/{token[:-4]}AAAA")
        assert forged.status_code == 422
        assert "Not valid" in forged.text
        garbage = await pharmacist.get("/pharmacy/verify", params={"link": "<script>"})
        assert garbage.status_code == 400
        assert 'id="link-error"' in garbage.text

    async with portal_as(app, loop.doctor) as doctor:
        # The prescriber sees the dispenses and the decline with its coded reason.
        page = text((await doctor.get(rx_path)).text)
        assert "Declined by pharmacy" in page
        assert "Out of stock" in page
        assert "Harbor Pharmacy" in page
        assert (await doctor.get("/pharmacy/queue")).status_code == 404
        assert (await doctor.get(f"/pharmacy/verify/{token}")).status_code == 403


async def test_prescriber_moves_and_cancel_request_decided_by_the_pharmacy(
    app: FastAPI, client: httpx.AsyncClient, container: Container
) -> None:
    loop = await build_loop(client, container)
    rx = await issued(client, loop)
    path = f"/prescriptions/{rx['id']}"
    async with portal_as(app, loop.doctor) as doctor:
        held = await post_form(doctor, path, f"{path}/move", {"move": "hold", "reason": "Labs"})
        assert held.status_code == 303, held.text
        page = await doctor.get(held.headers["location"])
        assert "on hold" in page.text
        assert 'value="resume"' in page.text
        wrong = await post_form(doctor, path, f"{path}/move", {"move": "explode", "reason": "x"})
        assert wrong.status_code == 400
        resumed = await post_form(doctor, path, f"{path}/move", {"move": "resume"})
        assert resumed.status_code == 303
    async with portal_as(app, loop.pharmacist) as pharmacist:
        assert (await post_form(pharmacist, path, f"{path}/claim", {})).status_code == 303
    async with portal_as(app, loop.doctor) as doctor:
        asked = await post_form(doctor, path, f"{path}/move", {"move": "cancel", "reason": "Rash"})
        assert asked.status_code == 303
        assert "Cancel requested" in (await doctor.get(path)).text
    async with portal_as(app, loop.pharmacist) as pharmacist:
        page = await pharmacist.get(path)
        assert "The prescriber asks to cancel" in page.text
        no_reason = await post_form(
            pharmacist, path, f"{path}/cancel-decision", {"decision": "deny"}
        )
        assert no_reason.status_code == 400
        assert "Say why" in no_reason.text
        done = await post_form(
            pharmacist, path, f"{path}/cancel-decision", {"decision": "acknowledge", "reason": ""}
        )
        assert done.status_code == 303, done.text
    final = await client.get(f"/api/prescriptions/{rx['id']}", headers=loop.doctor.headers)
    assert final.json()["status"] == "cancelled"
    async with portal_as(app, loop.stranger_patient) as stranger:
        assert (await stranger.get(path)).status_code == 404
    async with portal_as(app, loop.other_doctor) as foreign:
        assert (await foreign.get(path)).status_code == 404
