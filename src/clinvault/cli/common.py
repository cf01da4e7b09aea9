"""What every command shares: settings, the container, errors, the audit trail.

Exit codes: 0 success, 1 the command failed (a check found a problem, a named
thing does not exist, a service is unreachable), 2 the configuration or the
command line is wrong. Either failure is one line on stderr, never a traceback.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import NoReturn, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault import context
from clinvault.bootstrap import Container, build_container
from clinvault.config import Settings
from clinvault.context import RequestContext
from clinvault.crypto.errors import KeyringError
from clinvault.errors import AppError
from clinvault.ids import uuid7

T = TypeVar("T")

EXIT_FAILED = 1
EXIT_USAGE = 2
CONFIG_ERRORS = (ValidationError, KeyringError)
SERVICE_ERRORS = (OperationalError, DBAPIError, ConnectionError, socket.gaierror, TimeoutError)


class CommandFailed(Exception):
    """The command could not do what was asked; the message says why and what to do."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def fail(message: str, exit_code: int = EXIT_FAILED) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(exit_code)


def describe_settings_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        location = "__".join(str(part) for part in item.get("loc", ()))
        if location and not message.startswith("CLINVAULT_"):
            message = f"CLINVAULT_{location.upper()}: {message}"
        parts.append(message)
    return "; ".join(parts) or "invalid settings"


def describe(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        return describe_settings_error(error)
    if isinstance(error, DBAPIError):
        return f"the database is unreachable or refused the command: {error.orig}"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn the failures a command expects into one line and an exit code."""
    try:
        yield
    except CommandFailed as error:
        fail(str(error), error.exit_code)
    except AppError as error:
        fail(error.detail, EXIT_FAILED)
    except CONFIG_ERRORS as error:
        fail(f"configuration: {describe(error)}", EXIT_USAGE)
    except SERVICE_ERRORS as error:
        fail(describe(error), EXIT_FAILED)
    except OSError as error:
        fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "), EXIT_FAILED)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        fail(f"configuration: {describe_settings_error(error)}", EXIT_USAGE)


def run_with_container(
    work: Callable[[Container], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Build the container (from the environment unless given settings), run `work`, close
    it; report failures."""
    settings = load_settings() if settings is None else settings
    with reported_errors():
        return asyncio.run(_with_container(settings, work))


def open_container(settings: Settings) -> Container:
    """build_container, with a configuration it cannot honour reported as such."""
    try:
        return build_container(settings)
    except ValueError as error:
        raise CommandFailed(f"configuration: {describe(error)}", EXIT_USAGE) from error


async def _with_container(settings: Settings, work: Callable[[Container], Awaitable[T]]) -> T:
    container = open_container(settings)
    try:
        return await work(container)
    finally:
        await container.close()


@asynccontextmanager
async def audited(
    container: Container, command: str, action: str
) -> AsyncIterator[tuple[AsyncSession, RequestContext]]:
    """One transaction holding the command's writes and its audit event.

    The event names the command ("CLI" as method, the command line as path) and
    no actor: whoever runs the CLI has the server's own credentials.
    """
    ctx = RequestContext(
        request_id=f"cli-{uuid7()}",
        method="CLI",
        path=f"clinvault {command}",
        action=action,
        user_agent="clinvault-cli",
    )
    token = context.bind(ctx)
    try:
        async with container.db.unit_of_work() as session:
            yield session, ctx
            await container.audit.record(session, ctx, ctx.status_hint or 200)
    finally:
        context.reset(token)
