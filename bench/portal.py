"""Portal pages against the audited JSON read, in one run.

The measured pages, each with a signed-in portal session (cookies), on
`clinvault serve --workers 2` against a fresh database: the patient list
(`GET /patients`, 50 patients), a chart (`GET /patients/{id}`, with records),
and the credential review queue (`GET /credentials/review`, a few waiting
documents). The baseline: the audited JSON read of a patient
(`GET /api/patients/{id}`) with a bearer token, measured in the same run with
the same load generator (closed loop, one keep-alive connection per client).

    .venv/bin/python bench/portal.py [--concurrency 16] [--seconds 10] [--backend postgresql]
"""

from __future__ import annotations

import argparse
import re
from http.cookies import SimpleCookie

import httpx
from _common import (
    PASSWORD,
    clinvault_server,
    deployment,
    login,
    machine,
    opened,
    run_main,
    seed_accounts,
)
from _load import LoadResult, RequestSpec, closed_loop
from reads import create_patients
from upload import VALID_NPI, random_pdf, submission_body

from clinvault.identity.principal import Role

GOAL_RATIO = 0.5
WORKERS = 2
SLUG = "portal-bench"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def portal_cookie(base_url: str, email: str) -> dict[str, str]:
    """Sign in through the portal's form; the Cookie header the browser would send."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        page = await client.get("/login")
        token = _CSRF.search(page.text)
        if token is None:
            raise RuntimeError("no CSRF token on /login")
        jar = SimpleCookie()
        for header in page.headers.get_list("set-cookie"):
            jar.load(header)
        sent = {name: morsel.value for name, morsel in jar.items()}
        reply = await client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "next": "/", "csrf_token": token[1]},
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in sent.items())},
        )
        if reply.status_code != 303:
            raise RuntimeError(f"portal sign-in: {reply.status_code} {reply.text[:300]}")
        for header in reply.headers.get_list("set-cookie"):
            jar.load(header)
    cookies = {name: morsel.value for name, morsel in jar.items() if morsel.value}
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


async def add_records(base_url: str, doctor: dict[str, str], patient_id: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=doctor, timeout=30) as client:
        for index in range(10):
            reply = await client.post(
                "/api/records/",
                json={
                    "patient_id": patient_id,
                    "record_type": "consultation",
                    "title": f"Follow-up visit {index}",
                    "content": "Blood pressure reviewed; continue the current plan.",
                },
            )
            if reply.status_code != 201:
                raise RuntimeError(f"record: {reply.status_code} {reply.text[:300]}")


async def add_submissions(base_url: str, doctor: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=base_url, headers=doctor, timeout=60) as client:
        profile = await client.put("/api/credentials/profile", json={"npi": VALID_NPI})
        if profile.status_code != 200:
            raise RuntimeError(f"profile: {profile.status_code} {profile.text[:300]}")
        pdf = random_pdf(64 * 1024)
        for index in range(5):
            body, content_type = submission_body(pdf, index)
            reply = await client.post(
                "/api/credentials/submissions",
                content=body,
                headers={"Content-Type": content_type},
            )
            if reply.status_code != 201:
                raise RuntimeError(f"upload: {reply.status_code} {reply.text[:300]}")


async def run(concurrency: int, seconds: float, backend: str) -> None:
    print(f"machine: {machine()}")
    print(
        f"{backend}, {WORKERS} workers, {concurrency} connections, {seconds:.0f} s per page, "
        "load generator on the same cores"
    )
    async with deployment(backend) as target:
        async with opened(target) as container:
            accounts = await seed_accounts(
                container, [Role.DOCTOR, Role.CLERK, Role.CREDENTIALING_REVIEWER], slug=SLUG
            )
        emails = {role: account.email for role, account in accounts.items()}
        async with clinvault_server(target, workers=WORKERS) as server:
            base = server.base_url
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                clerk = await login(client, emails[Role.CLERK])
                doctor = await login(client, emails[Role.DOCTOR])
            ids = await create_patients(base, clerk, 50)
            await add_records(base, doctor, ids[0])
            await add_submissions(base, doctor)
            doctor_page = await portal_cookie(base, emails[Role.DOCTOR])
            reviewer_page = await portal_cookie(base, emails[Role.CREDENTIALING_REVIEWER])

            targets: list[tuple[str, RequestSpec]] = [
                ("JSON GET /api/patients/{id}", ("GET", f"/api/patients/{ids[0]}", doctor)),
                ("page GET /patients", ("GET", "/patients", doctor_page)),
                ("page GET /patients/{id}", ("GET", f"/patients/{ids[0]}", doctor_page)),
                ("page GET /credentials/review", ("GET", "/credentials/review", reviewer_page)),
            ]
            results: list[tuple[str, LoadResult]] = []
            for label, spec in targets:
                result = await closed_loop(
                    base,
                    lambda _n, spec=spec: spec,
                    concurrency=concurrency,
                    seconds=seconds,
                    server_group=server.process.pid,
                )
                results.append((label, result))
    json_rate = results[0][1].rate
    for label, result in results:
        print(result.line(label))
        if result is not results[0][1]:
            print(f"    ratio page/JSON read: {result.rate / json_rate:.2f} (goal >= {GOAL_RATIO})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--backend", default="postgresql")
    args = parser.parse_args()
    run_main(run(args.concurrency, args.seconds, args.backend))


if __name__ == "__main__":
    main()
