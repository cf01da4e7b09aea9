"""Import records in the portal: the upload form, the job's progress page, the error report."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html import unescape

import httpx
from fastapi import FastAPI
from portal_helpers import ACCESS, form_token
from tests.factories import create_org
from tests.integration.ingest.support import visits
from tests.integration.records.conftest import member

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role
from clinvault.models.identity import Organization

GOOD = ("MRN-7", "Ada", "Lovelace", "2025-03-26T10:30:00-07:00", "Seen for cough.")
OTHER = ("MRN-8", "Alan", "Turing", "2025-02-01T08:15:00Z", "Follow-up.")
BAD_DATE = ("MRN-9", "Grace", "Hopper", "2025-02-30T08:15:00Z", "=HYPERLINK(evil)")
FINISHED = ("Completed", "Completed with errors", "Failed", "Cancelled")


@asynccontextmanager
async def portal_for(
    app: FastAPI, container: Container, org: Organization, role: Role
) -> AsyncIterator[httpx.AsyncClient]:
    _, headers = await member(container, org, role)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.11", 4444))
    async with httpx.AsyncClient(
        transport=transport, base_url="https://testserver", follow_redirects=False
    ) as http:
        token = headers["Authorization"].removeprefix("Bearer ")
        http.cookies.set(ACCESS, token, domain="testserver.local")
        yield http


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def upload(
    portal: httpx.AsyncClient,
    content: bytes | None,
    *,
    filename: str = "visits.csv",
    timezone: str = "",
    dry_run: bool = False,
) -> httpx.Response:
    page = await portal.get("/import")
    assert page.status_code == 200, page.text
    fields = {"csrf_token": form_token(page.text, "/import"), "timezone": timezone}
    if dry_run:
        fields["dry_run"] = "yes"
    file = ("file", (filename if content is not None else "", content or b"", "text/csv"))
    return await portal.post("/import", data=fields, files=[file])


async def finished_page(portal: httpx.AsyncClient, path: str) -> str:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        page = await portal.get(path)
        assert page.status_code == 200, page.text
        state = re.search(r"data-job-state>([^<]+)<", page.text)
        assert state
        if state.group(1) in FINISHED:
            assert "data-job-poll=" not in page.text
            assert 'http-equiv="refresh"' not in page.text
            return page.text
        assert "data-job-poll=" in page.text
        assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text
        assert asyncio.get_running_loop().time() < deadline, "job did not finish"
        await asyncio.sleep(0.1)


async def test_clerk_imports_a_file_follows_the_job_and_downloads_the_error_report(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    async with portal_for(app, container, org, Role.CLERK) as clerk:
        home = await clerk.get("/")
        assert '<a href="/import">Import records</a>' in home.text
        sent = await upload(clerk, visits(GOOD, OTHER, BAD_DATE).encode())
        assert sent.status_code == 303, sent.text
        location = sent.headers["location"]
        assert re.fullmatch(r"/import/jobs/[0-9a-f-]{36}\?notice=started", location)
        job_path = location.split("?")[0]
        html = await finished_page(clerk, job_path)
        shown = text(html)
        assert "State: Completed with errors" in shown
        assert 'data-count="rows_read">3<' in html
        assert 'data-count="rows_inserted">2<' in html
        assert 'data-count="rows_rejected">1<' in html
        assert 'data-count="patients_created">2<' in html
        report_path = f"{job_path}/error-report"
        assert f'href="{report_path}"' in html
        report = await clerk.get(report_path)
        assert report.status_code == 200
        assert report.headers["content-type"].startswith("text/csv")
        assert "attachment" in report.headers["content-disposition"]
        assert "MRN-9" in report.text
        assert "'=HYPERLINK(evil)" in report.text

        listing = await clerk.get("/import")
        assert f'href="{job_path}">visits.csv</a>' in listing.text
        assert "Completed with errors" in listing.text

        cancelled = await clerk.post(
            f"{job_path}/cancel", data={"csrf_token": form_token(listing.text, "/logout")}
        )
        assert cancelled.status_code == 403  # the token of another form

        again = await upload(clerk, visits(GOOD, OTHER).encode(), filename="again.csv")
        assert again.status_code == 303
        second = text(await finished_page(clerk, again.headers["location"].split("?")[0]))
        assert "State: Completed" in second
        assert "Already present 2" in second

    other = await create_org(container)
    async with portal_for(app, container, other, Role.ORG_ADMIN) as stranger:
        assert (await stranger.get(job_path)).status_code == 404
        assert (await stranger.get(report_path)).status_code == 404
        assert job_path not in (await stranger.get("/import")).text


async def test_refused_uploads_keep_the_options_and_say_what_to_fix(
    app: FastAPI, container: Container
) -> None:
    org = await create_org(container)
    async with portal_for(app, container, org, Role.ORG_ADMIN) as admin:
        missing = await upload(admin, None, timezone="Europe/Paris", dry_run=True)
        assert missing.status_code == 400
        assert 'id="file-error"' in missing.text
        assert "Choose the CSV file to import." in missing.text
        assert 'value="Europe/Paris"' in missing.text
        assert 'id="dry_run" name="dry_run" value="yes" checked' in missing.text

        zone = await upload(admin, visits(GOOD).encode(), timezone="Mars/Olympus")
        assert zone.status_code == 400
        assert 'id="timezone-error"' in zone.text
        assert 'value="Mars/Olympus"' in zone.text
        assert "Previously chosen: visits.csv" in zone.text

        binary = await upload(admin, b"%PDF-1.7\n\x00\x01\x02 not a csv", filename="scan.pdf")
        assert binary.status_code == 422
        assert 'id="file-error"' in binary.text

        dry = await upload(admin, visits(GOOD).encode(), dry_run=True)
        assert dry.status_code == 303, dry.text
        page = text(await finished_page(admin, dry.headers["location"].split("?")[0]))
        assert "Dry run:" in page
        assert "Would be inserted 1" in page
    async with portal_for(app, container, org, Role.DOCTOR) as doctor:
        records = await doctor.get("/patients", params={"q": "MRN-7"})
        assert "0 patients matching" in text(records.text)  # the dry run wrote nothing

    async with portal_for(app, container, org, Role.DOCTOR) as doctor:
        home = await doctor.get("/")
        assert "Import records" not in home.text
        page = await doctor.get("/import")
        assert page.status_code == 200
        assert 'action="/import"' not in page.text  # clinicians read jobs, never import
    async with portal_for(app, container, org, Role.PATIENT) as patient:
        assert (await patient.get("/import")).status_code == 403
