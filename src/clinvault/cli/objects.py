"""`objects reconcile`: orphan objects removed, rows whose object is missing reported.

Exit code 1 when a row's object is missing: that is data loss an operator has
to act on (restore the object from a backup), even though the run succeeded.
"""

from __future__ import annotations

from typing import Annotated

import typer

from clinvault.bootstrap import Container
from clinvault.cli.common import EXIT_FAILED, audited, run_with_container
from clinvault.maintenance.service import ReconcileReport, reconcile_objects

objects_app = typer.Typer(help="Stored objects.", no_args_is_help=True)

MIN_GRACE_MINUTES = 5
MAX_GRACE_MINUTES = 30 * 24 * 60


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
    """Delete objects that no row refers to; report rows whose object is missing."""
    command = "objects reconcile --dry-run" if dry_run else "objects reconcile"

    async def work(container: Container) -> ReconcileReport:
        async with audited(container, command, "objects.reconcile") as (_session, ctx):
            report = await reconcile_objects(
                container, grace_minutes=grace_minutes, dry_run=dry_run
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
