"""`demo`: a provider, a pharmacy and one account per role, to try the product.

Running it again is safe: organizations and accounts that exist are kept, and
the demo accounts get the password of this run, so the printed logins always
work. Accounts with a demo address that are not demo accounts are left alone.
Refused when demo accounts are disabled (the default in production).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.cli.common import CommandFailed, audited, fail, load_settings, run_with_container
from clinvault.cli.demo_prescriptions import DemoPrescriptionsResult, seed_prescriptions
from clinvault.cli.demo_records import DemoRecordsResult, seed_records
from clinvault.cli.lookups import organization_by_slug, user_by_email
from clinvault.identity.admin_service import create_organization, create_user
from clinvault.identity.passwords import check_policy, hash_password
from clinvault.identity.principal import Role
from clinvault.identity.throttle.service import SignInThrottle
from clinvault.models.identity import Organization

DOMAIN = "healthcare.com"


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
ACCOUNTS = (
    DemoAccount("admin", Role.ORG_ADMIN, "Avery Admin", PROVIDER.slug),
    DemoAccount("doctor", Role.DOCTOR, "Dr. Dana Doctor", PROVIDER.slug),
    DemoAccount("nurse", Role.NURSE, "Noel Nurse", PROVIDER.slug),
    DemoAccount("clerk", Role.CLERK, "Casey Clerk", PROVIDER.slug),
    DemoAccount("reviewer", Role.CREDENTIALING_REVIEWER, "Robin Reviewer", PROVIDER.slug),
    DemoAccount("patient", Role.PATIENT, "Pat Patient", PROVIDER.slug),
    DemoAccount("pharmacist", Role.PHARMACIST, "Phoenix Pharmacist", PHARMACY.slug),
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
        organizations = {
            spec.slug: await _organization(session, spec) for spec in (PROVIDER, PHARMACY)
        }
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


def demo(
    password: Annotated[
        str | None,
        typer.Option(help="Password for every demo account (default: a new random one)."),
    ] = None,
) -> None:
    """Create (or refresh) demo organizations and one account per role."""
    settings = load_settings()
    if not settings.demo_enabled:
        fail(
            "demo accounts are disabled in this environment (CLINVAULT_DEMO_ENABLED=false, "
            "the default when CLINVAULT_ENV=production); never seed them into production data"
        )
    chosen = password if password is not None else secrets.token_urlsafe(18)

    async def work(
        container: Container,
    ) -> tuple[list[Login], DemoRecordsResult, DemoPrescriptionsResult]:
        logins = await seed(container, chosen)
        records = await seed_records(container, PROVIDER.slug)
        prescriptions = await seed_prescriptions(container, PROVIDER.slug, PHARMACY.slug, DOMAIN)
        return logins, records, prescriptions

    logins, records, prescriptions = run_with_container(work)
    width = max((len(login.email) for login in logins), default=0)
    typer.echo(f"Demo logins (password for all: {chosen})")
    for login in logins:
        state = "created" if login.created else "password reset"
        typer.echo(f"  {login.email.ljust(width)}  {login.role:<22}  {chosen}  ({state})")
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
    typer.echo(f"Sign in at {settings.public_url.rstrip('/')}/")
