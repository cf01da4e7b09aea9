"""`clinvault ingest` held inside its fourth batch, to be SIGKILLed there.

    python -m tests.integration.cli.ingest_kill_cli HOME FILE SLUG

The command runs as an operator runs it, with one change: the job's fourth batch
waits before its commit (`kill_runner.hold_inside_batch`) and touches the gate.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.integration.ingest.kill_runner import hold_inside_batch

from clinvault.cli.app import app


def main() -> None:
    home, file, slug = sys.argv[1:4]
    hold_inside_batch(Path(home))
    app(["ingest", file, "--org", slug], prog_name="clinvault")


if __name__ == "__main__":
    main()
