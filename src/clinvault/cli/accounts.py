"""`orgs create` and `users create`: tenants and accounts from the command line."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from pydantic import ValidationError

from clinvault.bootstrap import Container
from clinvault.cli.common import (
    EXIT_USAGE,
    CommandFailed,
    audited,
    fail,
    run_with_container,
)
from clinvault.cli.lookups import organization_by_slug
from clinvault.identity.admin_service import create_organization, create_user
from clinvault.identity.authn import PLATFORM_KIND
from clinvault.identity.principal import Role
from clinvault.identity.roles import require_roles_fit
from clinvault.identity.schemas import OrganizationCreate
from clinvault.models.identity import Organization

PLATFORM_SLUG = "platform"
PLATFORM_NAME = "Platform operators"
FIELD_HINTS = {
    "slug": "--slug: use 2-63 lowercase letters, digits and '-', starting and ending with a "
    "letter or digit",
    "name": "--name: give 1-200 characters",
}

orgs_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)


class OrganizationKind(StrEnum):
    PROVIDER = "provider"
    PHARMACY = "pharmacy"


def _validated_organization(
    name: str, slug: str, kind: OrganizationKind, allow_patient_registration: bool
) -> OrganizationCreate:
    try:
        return OrganizationCreate(
            name=name,
            slug=slug,
            kind=kind.value,
            allow_patient_registration=allow_patient_registration,
        )
    except ValidationError as error:
        problems = [
            FIELD_HINTS.get(str(item["loc"][0]), f"--{item['loc'][0]}: {item['msg']}")
            for item in error.errors()
        ]
        fail("; ".join(problems), EXIT_USAGE)


@orgs_app.command("create")
def create_org(
    name: Annotated[str, typer.Option(help="Display name, e.g. 'Northside Clinic'.")],
    slug: Annotated[str, typer.Option(help="Short unique id: a-z, 0-9 and '-'.")],
    kind: Annotated[OrganizationKind, typer.Option(help="provider or pharmacy.")],
    allow_patient_registration: Annotated[
        bool, typer.Option(help="Let patients register themselves with this organization.")
    ] = False,
) -> None:
    """Create an organization."""
    data = _validated_organization(name, slug, kind, allow_patient_registration)

    async def work(container: Container) -> Organization:
        async with audited(container, "orgs create", "organization.create") as (session, ctx):
            organization = await create_organization(
                session,
                name=data.name,
                slug=data.slug,
                kind=data.kind,
                allow_patient_registration=data.allow_patient_registration,
            )
            ctx.resource_type, ctx.resource_id = "organization", str(organization.id)
            ctx.organization_hint = organization.id
        return organization

    organization = run_with_container(work)
    typer.echo(f"created organization {organization.slug} ({organization.kind}) {organization.id}")


async def _platform_organization(container: Container) -> Organization:
    async with audited(container, "users create", "organization.create") as (session, ctx):
        existing = await organization_by_slug(session, PLATFORM_SLUG)
        if existing is not None:
            if existing.kind != PLATFORM_KIND:
                raise CommandFailed(
                    f"organization {PLATFORM_SLUG!r} exists but is a {existing.kind}, not the "
                    "platform organization; rename it first"
                )
            return existing
        organization = await create_organization(
            session, name=PLATFORM_NAME, slug=PLATFORM_SLUG, kind=PLATFORM_KIND
        )
        ctx.resource_type, ctx.resource_id = "organization", str(organization.id)
        ctx.organization_hint = organization.id
    return organization


@users_app.command("create")
def create_account(
    email: Annotated[str, typer.Option(help="Sign-in address.")],
    org: Annotated[
        str | None, typer.Option(help="Slug of the user's organization.", show_default=False)
    ] = None,
    role: Annotated[
        list[Role] | None, typer.Option(help="Role to grant; repeat for several.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Initial password; prompted for when omitted.", show_default=False),
    ] = None,
    no_password: Annotated[
        bool, typer.Option(help="No password: the account signs in through OIDC only.")
    ] = False,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    platform_admin: Annotated[
        bool,
        typer.Option(
            help="Create a platform administrator (role admin) in the platform organization, "
            "creating that organization if needed."
        ),
    ] = False,
) -> None:
    """Create a user account."""
    roles = list(dict.fromkeys(role or []))
    if platform_admin:
        if org is not None and org != PLATFORM_SLUG:
            raise typer.BadParameter("--platform-admin puts the account in the platform org")
        roles = [Role.ADMIN, *[r for r in roles if r is not Role.ADMIN]]
    elif org is None:
        raise typer.BadParameter("give --org SLUG (or --platform-admin)", param_hint="--org")
    if not roles:
        raise typer.BadParameter("give at least one --role", param_hint="--role")
    if password is not None and no_password:
        raise typer.BadParameter("--password and --no-password exclude each other")
    if password is None and not no_password:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(container: Container) -> tuple[str, str]:
        if platform_admin:
            organization = await _platform_organization(container)
        async with audited(container, "users create", "user.create") as (session, ctx):
            if not platform_admin:
                assert org is not None
                found = await organization_by_slug(session, org)
                if found is None:
                    raise CommandFailed(f"no organization with slug {org!r}: create it first")
                organization = found
            require_roles_fit(roles, organization.kind)
            user = await create_user(
                session,
                container.settings,
                organization_id=organization.id,
                email=email,
                password=password,
                roles=roles,
                display_name=name,
            )
            ctx.resource_type, ctx.resource_id = "user", str(user.id)
            ctx.organization_hint = organization.id
        return str(user.id), organization.slug

    user_id, slug = run_with_container(work)
    granted = ", ".join(r.value for r in roles)
    typer.echo(f"created user {email} {user_id} in {slug} with roles {granted}")
