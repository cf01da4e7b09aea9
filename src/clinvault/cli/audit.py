"""`audit verify` and `audit export`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from clinvault.audit.commands import run_export, run_keygen, run_verify
from clinvault.audit.verify import VerifyReport
from clinvault.bootstrap import Container
from clinvault.cli.common import (
    EXIT_FAILED,
    CommandFailed,
    load_settings,
    reported_errors,
    run_with_container,
)
from clinvault.cli.lookups import organization_by_slug

audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

INSTANT_HELP = "ISO 8601 with a time zone, e.g. 2025-03-01T00:00:00Z."


def _instant(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        message = f"{value!r} is not a date; {INSTANT_HELP}"
        raise typer.BadParameter(message, param_hint=option) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise typer.BadParameter(f"no time zone in {value!r}; {INSTANT_HELP}", param_hint=option)
    return parsed


@audit_app.command("verify")
def verify(
    chain: Annotated[
        bool,
        typer.Option(
            help="Chain pending events first (needs the signing key); --no-chain only reads, "
            "with just the public key."
        ),
    ] = True,
    anchor_log: Annotated[
        Path | None,
        typer.Option(
            help="File of checkpoint lines kept by the syslog server, to check the log "
            "against when the anchor is syslog."
        ),
    ] = None,
) -> None:
    """Check every MAC, link, checkpoint signature and the external anchor (exit 1 if broken)."""
    if anchor_log is not None and not anchor_log.is_file():
        raise typer.BadParameter(f"{anchor_log} is not a readable file", param_hint="--anchor-log")

    async def work(container: Container) -> VerifyReport:
        return await run_verify(container, chain_first=chain, anchor_log=anchor_log)

    report = run_with_container(work)
    typer.echo(report.summary())
    typer.echo(report.anchor_summary())
    if report.key_id is not None:
        typer.echo(f"checkpoint signatures checked with audit key {report.key_id}")
    problem = report.first_problem
    if problem is None:
        return
    facts = [f"kind={problem.kind}"]
    if problem.seq is not None:
        facts.append(f"seq={problem.seq}")
    if problem.chain_seq is not None:
        facts.append(f"chain_seq={problem.chain_seq}")
    if problem.event_id is not None:
        facts.append(f"event_id={problem.event_id}")
    typer.echo("first bad event: " + " ".join(facts))
    raise typer.Exit(EXIT_FAILED)


@audit_app.command("keygen")
def keygen() -> None:
    """Create the checkpoint signing key pair at the configured paths (never replaces one)."""
    settings = load_settings()
    with reported_errors():
        verifier = run_keygen(settings)
    typer.echo(
        f"audit signing key {settings.audit_signing_key_path} created (key {verifier.key_id}); "
        f"public key in {settings.audit_verify_key_path}: copy it to where audits are verified"
    )


@audit_app.command("export")
def export(
    out: Annotated[str, typer.Option(help="NDJSON file to write, or '-' for stdout.")],
    org: Annotated[str | None, typer.Option(help="Only this organization's events (slug).")] = None,
    since: Annotated[str | None, typer.Option(help=f"From this instant on. {INSTANT_HELP}")] = None,
    until: Annotated[str | None, typer.Option(help=f"Before this instant. {INSTANT_HELP}")] = None,
) -> None:
    """Write audit events as NDJSON, one object per line, in order."""
    start = _instant("--since", since)
    end = _instant("--until", until)
    if start is not None and end is not None and end <= start:
        raise typer.BadParameter("--until must be later than --since", param_hint="--until")

    async def work(container: Container) -> int:
        organization_id = None
        if org is not None:
            async with container.db.sessions() as session:
                found = await organization_by_slug(session, org)
            if found is None:
                raise CommandFailed(f"no organization with slug {org!r}")
            organization_id = found.id
        target = sys.stdout if out == "-" else Path(out)
        return await run_export(
            container, target, organization_id=organization_id, since=start, until=end
        )

    count = run_with_container(work)
    if out == "-":
        sys.stdout.flush()
    typer.echo(f"exported {count} events", err=True)
