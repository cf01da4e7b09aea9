"""The records-platform design's load scenarios, as its locust client ran them.

That client (100 users of mixed roles) signs in, then repeatedly lists,
searches and registers patients, writes and reads records, lists and books
appointments, reads the audit log, the users and the health check. It sends
the design's bodies (gender "Male", formatted phone numbers, `page`/`per_page`)
and sometimes the design's integer ids. Here 100 simulated users run those
scenarios concurrently against the real app for a bounded time. Every answer
must be a 2xx, a role refusal (403), or, for a request naming an integer id,
a 404/422; never a 5xx.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from tests.factories import DEFAULT_PASSWORD, create_org, create_user

from clinvault.bootstrap import Container
from clinvault.identity.principal import Role

USERS = 100
# Scenario time after the sign-ins; each user also runs every task once whatever the time.
RUN_SECONDS = 4.0
ROLES = (Role.ORG_ADMIN, Role.DOCTOR, Role.NURSE, Role.CLERK, Role.PATIENT)
FIRST_NAMES = ("John", "Jane", "Maria", "Ahmed", "Wei", "Olga", "Kofi", "Lucia")
LAST_NAMES = ("Smith", "Garcia", "Okafor", "Chen", "Ivanova", "Rossi", "Haddad", "Silva")
RECORD_TYPES = ("consultation", "lab_result", "note", "vital_signs")
GENDERS = ("Male", "Female", "Other")
BLOOD_TYPES = ("A+", "A-", "B+", "O+", "O-", "AB+")


@dataclass
class Outcome:
    role: Role
    task: str
    method: str
    path: str
    status: int
    integer_id: bool


@dataclass
class World:
    doctor_id: str
    accounts: dict[Role, str]
    outcomes: list[Outcome] = field(default_factory=list)


@dataclass
class SimulatedUser:
    number: int
    role: Role
    http: httpx.AsyncClient
    world: World
    rng: random.Random
    headers: dict[str, str] = field(default_factory=dict)
    patient_ids: list[str] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    bookings: int = 0

    async def call(
        self,
        task: str,
        method: str,
        path: str,
        *,
        integer_id: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        response = await self.http.request(method, path, headers=self.headers, **kwargs)
        self.world.outcomes.append(
            Outcome(self.role, task, method, path, response.status_code, integer_id)
        )
        return response

    # --- on_start -------------------------------------------------------------------------

    async def login(self) -> None:
        body = {"username": self.world.accounts[self.role], "password": DEFAULT_PASSWORD}
        response = await self.call("login", "POST", "/api/auth/login", json=body)
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}

    # --- tasks ----------------------------------------------------------------------------

    def _patient_id(self) -> tuple[str, bool]:
        """A patient this user has seen, else the design's integer id."""
        if self.patient_ids:
            return self.rng.choice(self.patient_ids), False
        return str(self.rng.randint(1, 100)), True

    async def list_patients(self) -> None:
        response = await self.call(
            "list_patients", "GET", "/api/patients/", params={"page": 1, "per_page": 20}
        )
        if response.status_code == 200:
            self.patient_ids = [item["id"] for item in response.json()["items"]][:20]

    async def search_patients(self) -> None:
        params: dict[str, Any] = {"q": self.rng.choice(FIRST_NAMES + LAST_NAMES)}
        if self.rng.random() < 0.5:
            params["gender"] = self.rng.choice(GENDERS)
        await self.call("search_patients", "GET", "/api/patients/search", params=params)

    async def filter_patients(self) -> None:
        low = self.rng.randint(0, 60)
        params = {
            "blood_type": self.rng.choice(BLOOD_TYPES),
            "age_min": low,
            "age_max": low + self.rng.randint(0, 40),
            "page": 1,
            "per_page": 10,
        }
        await self.call("filter_patients", "GET", "/api/patients/search", params=params)

    async def create_patient(self) -> None:
        born = datetime(1940, 1, 1) + timedelta(days=self.rng.randint(0, 30_000))
        body = {
            "first_name": self.rng.choice(FIRST_NAMES),
            "last_name": self.rng.choice(LAST_NAMES),
            "date_of_birth": born.date().isoformat(),
            "gender": self.rng.choice(GENDERS),
            "phone": f"+1-212-555-{self.rng.randint(0, 9999):04d}",
            "email": f"load{self.number}-{self.rng.randint(0, 10**6)}@example.org",
            "address": "123 Main St, Springfield",
            "blood_type": self.rng.choice(BLOOD_TYPES),
            "allergies": "None known",
            "emergency_contact": "Next of kin, +1-212-555-0100",
        }
        response = await self.call("create_patient", "POST", "/api/patients/", json=body)
        if response.status_code == 201:
            self.patient_ids.append(response.json()["id"])

    async def get_patient(self) -> None:
        patient_id, integer = self._patient_id()
        await self.call("get_patient", "GET", f"/api/patients/{patient_id}", integer_id=integer)

    async def get_patient_records(self) -> None:
        patient_id, integer = self._patient_id()
        path = self.rng.choice(
            (f"/api/patients/{patient_id}/records", f"/api/records/patient/{patient_id}")
        )
        response = await self.call(
            "get_patient_records", "GET", path, integer_id=integer, params={"per_page": 10}
        )
        if response.status_code == 200:
            self.record_ids.extend(item["id"] for item in response.json()["items"][:5])

    async def create_record(self) -> None:
        patient_id, integer = self._patient_id()
        body = {
            "patient_id": int(patient_id) if integer else patient_id,
            "record_type": self.rng.choice(RECORD_TYPES),
            "title": "Follow-up visit",
            "content": "Patient reports feeling better. Continue current treatment.",
            "priority": self.rng.choice(("low", "normal", "high")),
        }
        response = await self.call(
            "create_record", "POST", "/api/records/", json=body, integer_id=integer
        )
        if response.status_code == 201:
            self.record_ids.append(response.json()["id"])

    async def get_record(self) -> None:
        if self.record_ids:
            record_id, integer = self.rng.choice(self.record_ids), False
        else:
            record_id, integer = str(self.rng.randint(1, 500)), True
        await self.call("get_record", "GET", f"/api/records/{record_id}", integer_id=integer)

    async def list_appointments(self) -> None:
        await self.call(
            "list_appointments", "GET", "/api/appointments/", params={"page": 1, "per_page": 20}
        )

    async def create_appointment(self) -> None:
        patient_id, integer = self._patient_id()
        # One doctor for everyone: each user books its own half-hour slots, never a clash.
        self.bookings += 1
        slot = self.number * 1000 + self.bookings
        starts = datetime(2031, 1, 6, 8, tzinfo=UTC) + timedelta(minutes=30 * slot)
        body = {
            "patient_id": int(patient_id) if integer else patient_id,
            "practitioner_id": self.world.doctor_id,
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(minutes=30)).isoformat(),
            "reason": "Routine check-up",
        }
        await self.call(
            "create_appointment", "POST", "/api/appointments/", json=body, integer_id=integer
        )

    async def audit_logs(self) -> None:
        await self.call("audit_logs", "GET", "/api/audit/logs", params={"page": 1, "per_page": 20})

    async def list_users(self) -> None:
        await self.call("list_users", "GET", "/api/users/", params={"page": 1, "per_page": 20})

    async def profile(self) -> None:
        await self.call("profile", "GET", "/api/auth/profile")

    async def health(self) -> None:
        await self.call("health", "GET", "/api/health/health")

    def tasks(self) -> list[tuple[int, Callable[[], Awaitable[None]]]]:
        """(weight, task), the locust client's @task weights."""
        return [
            (5, self.list_patients),
            (3, self.search_patients),
            (2, self.filter_patients),
            (2, self.create_patient),
            (3, self.get_patient),
            (2, self.get_patient_records),
            (2, self.create_record),
            (2, self.get_record),
            (2, self.list_appointments),
            (1, self.create_appointment),
            (1, self.audit_logs),
            (1, self.list_users),
            (1, self.profile),
            (1, self.health),
        ]

    async def run(self, start: asyncio.Event, until: Callable[[], bool]) -> None:
        await self.login()
        await start.wait()
        tasks = self.tasks()
        if self.number <= len(ROLES) * 2:  # a few users of each role run every task first
            for _weight, task in self.rng.sample(tasks, len(tasks)):
                await task()
        weights = [weight for weight, _ in tasks]
        while not until():
            [(_weight, task)] = self.rng.choices(tasks, weights=weights)
            await task()
            await asyncio.sleep(self.rng.uniform(0.0, 0.05))


async def _world(client: httpx.AsyncClient, container: Container) -> World:
    org = await create_org(container)
    accounts = {role: (await create_user(container, org, roles=[role])).email for role in ROLES}
    doctor = await create_user(container, org, roles=[Role.DOCTOR], password=None)
    world = World(doctor_id=str(doctor.id), accounts=accounts)
    # A patient account linked to its own patient row, as the design's patients have.
    admin = SimulatedUser(0, Role.ORG_ADMIN, client, world, random.Random(0))
    await admin.login()
    for _ in range(5):
        await admin.create_patient()
    linked = await client.post(
        f"/api/patients/{admin.patient_ids[0]}/link-user",
        json={"user_id": await _user_id(client, admin.headers, accounts[Role.PATIENT])},
        headers=admin.headers,
    )
    assert linked.status_code == 200, linked.text
    world.outcomes.clear()
    return world


async def _user_id(client: httpx.AsyncClient, headers: dict[str, str], email: str) -> str:
    response = await client.get("/api/users/", params={"per_page": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return str(next(item["id"] for item in response.json()["items"] if item["email"] == email))


async def test_design_load_scenarios_answer_only_success_refusals_and_id_mismatches(
    app: FastAPI, container: Container
) -> None:
    transport = httpx.ASGITransport(app=app, client=("198.51.100.20", 4000))
    limits = httpx.Limits(max_connections=None)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", limits=limits, timeout=120
    ) as client:
        world = await _world(client, container)
        rng = random.Random(20261207)
        roles = [ROLES[n % len(ROLES)] for n in range(USERS)]
        rng.shuffle(roles)
        users = [
            SimulatedUser(n, roles[n - 1], client, world, random.Random(rng.random()))
            for n in range(1, USERS + 1)
        ]
        start = asyncio.Event()
        deadline: list[float] = []

        def until() -> bool:
            return time.monotonic() >= deadline[0]

        running = [asyncio.create_task(user.run(start, until)) for user in users]
        try:
            while sum(1 for o in world.outcomes if o.task == "login") < USERS:
                await asyncio.sleep(0.05)
                failed = [task for task in running if task.done() and task.exception()]
                assert not failed, failed[0].exception()
            deadline.append(time.monotonic() + RUN_SECONDS)
            start.set()
            await asyncio.gather(*running)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)

    outcomes = world.outcomes
    server_errors = [o for o in outcomes if o.status >= 500]
    assert not server_errors, Counter((o.task, o.status) for o in server_errors)
    unexplained = [
        o
        for o in outcomes
        if not 200 <= o.status < 300
        and o.status != 403
        and not (o.integer_id and o.status in (404, 422))
    ]
    assert not unexplained, Counter((o.task, o.method, o.status) for o in unexplained)
    # Integer ids are refused as such, never taken for another row.
    assert all(not 200 <= o.status < 300 for o in outcomes if o.integer_id)
    assert {user.role for user in users} == set(ROLES)
    succeeded = Counter(o.task for o in outcomes if 200 <= o.status < 300)
    every_task = {task.__name__ for _weight, task in users[0].tasks()} | {"login"}
    assert set(succeeded) == every_task, every_task - set(succeeded)
    assert succeeded["login"] == USERS
    # Refusals follow the roles: only organization administrators read the audit log,
    # clerks never read a record.
    audit = {(o.role, o.status) for o in outcomes if o.task == "audit_logs"}
    assert {status for role, status in audit if role is Role.ORG_ADMIN} == {200}
    assert {status for role, status in audit if role is not Role.ORG_ADMIN} == {403}
    clerk_reads = {o.status for o in outcomes if o.task == "get_record" and o.role is Role.CLERK}
    assert clerk_reads <= {403, 422}
