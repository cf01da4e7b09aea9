"""The `clinvault` command: one Typer app, one module per command group.

Every command reads its configuration from the environment (CLINVAULT_*, see
clinvault.config) and builds the same container the server uses.
"""

from __future__ import annotations

import typer

from clinvault.cli import server
from clinvault.cli.accounts import orgs_app, users_app
from clinvault.cli.audit import audit_app
from clinvault.cli.demo import demo
from clinvault.cli.ingest import ingest
from clinvault.cli.keys import keys_app
from clinvault.cli.objects import objects_app

app = typer.Typer(
    name="clinvault",
    help="Secure platform for healthcare documents and records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(server.serve)
app.command()(server.worker)
app.command()(server.migrate)
app.command()(demo)
app.command()(ingest)
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(objects_app, name="objects")


def main() -> None:
    app()
