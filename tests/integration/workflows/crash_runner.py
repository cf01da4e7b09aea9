"""Run `crash_workflow` in a process of its own, through the real workflow runtime.

    python -m tests.integration.workflows.crash_runner HOME DATABASE_URL EXECUTOR_ID
        WORKFLOW_ID (start|resume) [--hold-after-sending]

`start` starts the workflow under WORKFLOW_ID; `resume` starts nothing and only
waits for it, so the workflow can finish only if launching recovered it. Either
way the process exits 0 once the workflow has succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from dbos import DBOS, SetWorkflowID
from tests.conftest import make_settings
from tests.integration.workflows.crash_workflows import crash_workflow, create_marker_table

from clinvault.bootstrap import build_container
from clinvault.workflows import runtime


async def run(args: argparse.Namespace) -> str:
    container = build_container(make_settings(Path(args.home), args.database_url))
    try:
        runtime.start(container, executor_id=args.executor_id)
        await create_marker_table()
        if args.mode == "start":
            with SetWorkflowID(args.workflow_id):
                handle = await DBOS.start_workflow_async(crash_workflow, args.hold_after_sending)
            result: str = await handle.get_result()
        else:
            recovered = await DBOS.retrieve_workflow_async(args.workflow_id)
            result = await recovered.get_result()
        return result
    finally:
        runtime.stop()
        await container.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("home")
    parser.add_argument("database_url")
    parser.add_argument("executor_id")
    parser.add_argument("workflow_id")
    parser.add_argument("mode", choices=["start", "resume"])
    parser.add_argument("--hold-after-sending", action="store_true")
    print(asyncio.run(run(parser.parse_args())), flush=True)


if __name__ == "__main__":
    main()
