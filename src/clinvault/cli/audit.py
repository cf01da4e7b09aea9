"""`audit verify` and `audit export`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from clinvault.audit.commands import run_export, run_verify
from clinvault.audit.verify import VerifyReport
from clinvault.bootstrap import Container
from clinvault.cli.common import EXIT_FAILED, CommandFailed, run_with_container
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
def verify() -> None:
    """Chain pending events, then check every MAC, link and checkpoint (exit 1 if broken)."""

    async def work(container: Container) -> VerifyReport:
        return await run_verify(container)

    report = run_with_container(work)
    typer.echo(report.summary())
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
