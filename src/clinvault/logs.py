"""structlog set-up: dotted event names and ids, never PHI.

JSON lines for machines (a log collector, a file, a pipe); human-readable
lines when stderr is a terminal, unless JSON is asked for explicitly.
"""

from __future__ import annotations

import logging
import sys

import structlog


def wants_json(json: bool | None) -> bool:
    """The explicit choice, else JSON unless stderr is a terminal."""
    if json is not None:
        return json
    isatty = getattr(sys.stderr, "isatty", None)
    return not (isatty is not None and isatty())


def configure_logging(level: str = "INFO", *, json: bool | None = True) -> None:
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if wants_json(json):
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        # Plain tracebacks: a rich one would print local variables, which may hold PHI.
        processors.append(
            structlog.dev.ConsoleRenderer(
                colors=not wants_json(None), exception_formatter=structlog.dev.plain_traceback
            )
        )
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
