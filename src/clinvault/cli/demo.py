"""`demo`: two provider organizations, a pharmacy and one account per role, to try the product.

The command brings the database schema up to date first, so it works on a new
home. Running it again is safe: organizations, accounts, patients, prescriptions
and care plans that exist are kept, and the demo accounts get the demo password
again, so the printed logins always work. The password is generated once and
kept in `<home>/demo-password` (mode 0600): every run prints and uses the same
one until `--password` or `--new-password` replaces it. Accounts with a demo
address that are not demo accounts are left alone. Refused when demo accounts
are disabled (the default in production).

The services log at the configured level; the demo writes thousands of rows, so
it keeps their info lines out of its output (`--verbose` shows them).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.cli.common import (
    EXIT_USAGE,
    CommandFailed,
    audited,
    fail,
    load_settings,
    reported_errors,
    run_with_container,
)
from clinvault.cli.demo_careplans import DemoCarePlansResult, seed_care_plans
from clinvault.cli.demo_prescriptions import DemoPrescriptionsResult, seed_prescriptions
from clinvault.cli.demo_records import DemoRecordsResult, seed_records
from clinvault.cli.lookups import organization_by_slug, user_by_email
from clinvault.cli.server import migrate_schema
from clinvault.config import Settings
from clinvault.identity.admin_service import create_organization, create_user
from clinvault.identity.passwords import check_policy, hash_password
from clinvault.identity.principal import Role
from clinvault.identity.throttle.service import SignInThrottle
from clinvault.models.identity import Organization

DOMAIN = "healthcare.com"
PASSWORD_FILE = "demo-password"


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    name: str
    slug: str
    kind: str
    allow_patient_registration: bool


@dataclass(frozen=True, slots=True)
class DemoAccount:
    local_part: str
    role: Role
    display_name: str
    organization: str

    @property
    def email(self) -> str:
        return f"{self.local_part}@{DOMAIN}"


PROVIDER = DemoOrganization("Demo Health", "demo-health", "provider", True)
PHARMACY = DemoOrganization("Demo Pharmacy", "demo-pharmacy", "pharmacy", False)
PARTNER = DemoOrganization("Demo Partner Clinic", "demo-partner-clinic", "provider", False)
ORGANIZATIONS = (PROVIDER, PHARMACY, PARTNER)
ACCOUNTS = (
    DemoAccount("admin", Role.ORG_ADMIN, "Avery Admin", PROVIDER.slug),
    DemoAccount("doctor", Role.DOCTOR, "Dr. Dana Doctor", PROVIDER.slug),
    DemoAccount("nurse", Role.NURSE, "Noel Nurse", PROVIDER.slug),
    DemoAccount("clerk", Role.CLERK, "Casey Clerk", PROVIDER.slug),
    DemoAccount("reviewer", Role.CREDENTIALING_REVIEWER, "Robin Reviewer", PROVIDER.slug),
    DemoAccount("patient", Role.PATIENT, "Pat Patient", PROVIDER.slug),
    DemoAccount("pharmacist", Role.PHARMACIST, "Phoenix Pharmacist", PHARMACY.slug),
    DemoAccount("partner.doctor", Role.DOCTOR, "Dr. Parker Partner", PARTNER.slug),
)


@dataclass(frozen=True, slots=True)
class Login:
    email: str
    role: str
    created: bool


async def _organization(session: AsyncSession, spec: DemoOrganization) -> Organization:
    existing = await organization_by_slug(session, spec.slug)
    if existing is None:
        return await create_organization(
            session,
            name=spec.name,
            slug=spec.slug,
            kind=spec.kind,
            allow_patient_registration=spec.allow_patient_registration,
        )
    if existing.kind != spec.kind:
        raise CommandFailed(
            f"organization {spec.slug!r} exists as a {existing.kind}, not a {spec.kind}; "
            "the demo cannot use it"
        )
    return existing


async def _account(
    container: Container,
    session: AsyncSession,
    organization: Organization,
    spec: DemoAccount,
    password: str,
    password_hash: str,
) -> Login | None:
    existing = await user_by_email(session, spec.email)
    if existing is None:
        await create_user(
            session,
            container.settings,
            organization_id=organization.id,
            email=spec.email,
            password=password,
            roles=[spec.role],
            display_name=spec.display_name,
            is_demo=True,
        )
        return Login(spec.email, spec.role.value, created=True)
    if not existing.is_demo or existing.organization_id != organization.id:
        typer.echo(f"warning: {spec.email} exists and is not a demo account; left as is", err=True)
        return None
    existing.password_hash = password_hash
    existing.roles = [spec.role.value]
    existing.is_active = True
    await SignInThrottle(container).forget_identifier(session, spec.email)
    return Login(spec.email, spec.role.value, created=False)


async def seed(container: Container, password: str) -> list[Login]:
    """Create or refresh the demo organizations and accounts; return the usable logins."""
    check_policy(password, min_length=container.settings.security.password_min_length)
    password_hash = await hash_password(password)
    logins: list[Login] = []
    async with audited(container, "demo", "demo.seed") as (session, ctx):
        organizations = {spec.slug: await _organization(session, spec) for spec in ORGANIZATIONS}
        for spec in ACCOUNTS:
            login = await _account(
                container, session, organizations[spec.organization], spec, password, password_hash
            )
            if login is not None:
                logins.append(login)
        ctx.resource_type = "organization"
        ctx.resource_id = str(organizations[PROVIDER.slug].id)
        ctx.organization_hint = organizations[PROVIDER.slug].id
    return logins


def password_file(settings: Settings) -> Path:
    return settings.home / PASSWORD_FILE


def choose_password(settings: Settings, given: str | None, new: bool) -> str:
    """The password given, else the one kept from an earlier run, else a new one."""
    if given is not None:
        return given
    path = password_file(settings)
    if not new and path.exists():
        kept = path.read_text(encoding="utf-8").strip()
        if kept:
            return kept
    return secrets.token_urlsafe(18)


def keep_password(settings: Settings, password: str) -> Path:
    """Write the password to <home>/demo-password, readable by its owner only (0600)."""
    path = password_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    spare = path.with_name(f".{path.name}.new")
    descriptor = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, f"{password}\n".encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(spare, path)
    return path


def _quiet(settings: Settings) -> Settings:
    """The settings with service logs at WARNING or above, so the logins stay readable."""
    level = logging.getLevelNamesMapping().get(settings.log_level.upper(), logging.INFO)
    if level >= logging.WARNING:
        return settings
    return settings.model_copy(update={"log_level": "WARNING"})


def demo(
    password: Annotated[
        str | None,
        typer.Option(help="Password for every demo account, kept for the next runs."),
    ] = None,
    new_password: Annotated[
        bool,
        typer.Option(
            "--new-password", help="Generate a new password instead of reusing the kept one."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also show the services' info logs.")
    ] = False,
) -> None:
    """Create (or refresh) the demo organizations, one account per role, and their data."""
    settings = load_settings()
    if not settings.demo_enabled:
        fail(
            "demo accounts are disabled in this environment (CLINVAULT_DEMO_ENABLED=false, "
            "the default when CLINVAULT_ENV=production); never seed them into production data"
        )
    if password is not None and new_password:
        fail("give --password or --new-password, not both", EXIT_USAGE)
    if not verbose:
        settings = _quiet(settings)
    if sys.stderr.isatty():
        typer.echo(
            "Loading the demo (schema, accounts, patients, prescriptions, care plans)…", err=True
        )
    with reported_errors():
        migrate_schema(settings)
        chosen = choose_password(settings, password, new_password)

    async def work(container: Container) -> DemoResult:
        logins = await seed(container, chosen)
        records = await seed_records(container, PROVIDER.slug)
        prescriptions = await seed_prescriptions(container, PROVIDER.slug, PHARMACY.slug, DOMAIN)
        careplans = await seed_care_plans(container, PROVIDER.slug, PARTNER.slug, DOMAIN)
        return DemoResult(logins, records, prescriptions, careplans)

    result = run_with_container(work, settings)
    with reported_errors():
        kept = keep_password(settings, chosen)
    _report(settings, result, chosen, kept)


@dataclass(frozen=True, slots=True)
class DemoResult:
    logins: list[Login]
    records: DemoRecordsResult
    prescriptions: DemoPrescriptionsResult
    careplans: DemoCarePlansResult


def _report(settings: Settings, result: DemoResult, password: str, kept: Path) -> None:
    logins, records, prescriptions = result.logins, result.records, result.prescriptions
    width = max((len(login.email) for login in logins), default=0)
    typer.echo(f"Demo logins (password for all: {password})")
    for login in logins:
        state = "created" if login.created else "password reset"
        typer.echo(f"  {login.email.ljust(width)}  {login.role:<22}  {password}  ({state})")
    typer.echo(
        f"  The password is kept in {kept} (mode 0600) for the next runs; "
        "--new-password replaces it."
    )
    typer.echo(
        f"Demo patients: {records.patients_created} created, {records.patients_existing} "
        f"already there ({records.records} records, {records.appointments} appointments added)"
    )
    if records.linked_patient:
        typer.echo(f"  patient@{DOMAIN} sees the chart of demo patient {records.linked_patient}")
    typer.echo(
        f"Demo prescriptions: {prescriptions.created} created"
        + (f" ({prescriptions.skipped_reason})" if prescriptions.skipped_reason else "")
    )
    careplans = result.careplans
    typer.echo(
        f"Demo care plans: {careplans.created} created"
        + (f" ({careplans.skipped_reason})" if careplans.skipped_reason else "")
    )
    for line in careplans.lines:
        typer.echo(f"  {line}")
    public = settings.public_url.rstrip("/")
    typer.echo(f"Sign in at {public}/")
    if public != settings.serve_url:
        typer.echo(f"  (`clinvault serve` listens on {settings.serve_url})")
