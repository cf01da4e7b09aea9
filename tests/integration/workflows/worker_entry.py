"""`clinvault` with the crash-test workflow registered, as a deployment registers its own."""

from __future__ import annotations

import tests.integration.workflows.crash_workflows  # noqa: F401

from clinvault.cli.app import main

if __name__ == "__main__":
    main()
