"""`objects reconcile`: orphan objects removed, rows whose object is missing reported.

One line per finding, as it is made, then the summary:

    orphan   KEY  SIZE bytes  age AGE  deleted | would be deleted
    recent   KEY  SIZE bytes  age AGE  kept (younger than the grace)
    missing  KEY  row ROW_ID  no object in storage

Exit code 1 when a row's object is missing: that is data loss an operator has
to act on (restore the object from a backup), even though the run succeeded.
"""

from __future__ import annotations

from typing import Annotated

import typer

from clinvault.bootstrap import Container
from clinvault.cli.common import EXIT_FAILED, audited, run_with_container
from clinvault.maintenance.service import Finding, FindingKind, ReconcileReport, reconcile_objects

objects_app = typer.Typer(help="Stored objects.", no_args_is_help=True)

MIN_GRACE_MINUTES = 5
MAX_GRACE_MINUTES = 30 * 24 * 60


def age_text(seconds: float) -> str:
    """A short age: 45s, 12m05s, 3h07m, 2d04h."""
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def finding_line(finding: Finding, *, dry_run: bool) -> str:
    if finding.kind is FindingKind.MISSING:
        return f"missing  {finding.key}  row {finding.object_id}  no object in storage"
    size = f"{finding.size} bytes"
    age = f"age {age_text(finding.age_seconds or 0.0)}"
    if finding.kind is FindingKind.RECENT:
        return f"recent   {finding.key}  {size}  {age}  kept (younger than the grace)"
    outcome = "would be deleted" if dry_run else "deleted"
    return f"orphan   {finding.key}  {size}  {age}  {outcome}"


@objects_app.command("reconcile")
def reconcile(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
    grace_minutes: Annotated[
        int | None,
        typer.Option(
            min=MIN_GRACE_MINUTES,
            max=MAX_GRACE_MINUTES,
            help="Keep objects without a row that are younger than this: an upload may be "
            "about to commit them (default: CLINVAULT_OBJECTS__RECONCILE_GRACE_MINUTES, 60).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Delete objects that no row refers to; report rows whose object is missing.

    Names each finding (key, size and age of objects; row id and key of rows)."""
    command = "objects reconcile --dry-run" if dry_run else "objects reconcile"

    async def work(container: Container) -> ReconcileReport:
        async with audited(container, command, "objects.reconcile") as (_session, ctx):
            report = await reconcile_objects(
                container,
                grace_minutes=grace_minutes,
                dry_run=dry_run,
                on_finding=lambda found: typer.echo(finding_line(found, dry_run=dry_run)),
            )
            ctx.resource_type = "object_storage"
            ctx.audit_detail = (
                f"checked={report.checked} orphaned={report.orphaned} "
                f"deleted={report.deleted} missing={report.missing}"
            )
        return report

    report = run_with_container(work)
    typer.echo(report.summary())
    if report.missing:
        shown = ", ".join(report.missing_object_ids)
        more = report.missing - len(report.missing_object_ids)
        suffix = f" and {more} more (see the storage.object.missing log events)" if more else ""
        typer.echo(
            f"error: {report.missing} encrypted_objects rows have lost their object; restore "
            f"them from a backup: {shown}{suffix}",
            err=True,
        )
        raise typer.Exit(EXIT_FAILED)
