"""Child processes for workflow tests: started, watched, and always reaped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


class Child:
    def __init__(self, name: str, args: list[str], logs: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = logs / f"{name}.log"
        handle = self.log.open("wb")
        try:
            self.process = subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            handle.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} still running after {timeout}s:\n{self.output()}")


class Children:
    """Starts children; on exit kills whichever still run."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self._logs = logs
        self._env = env
        self._started: list[Child] = []

    def start(self, name: str, *args: str) -> Child:
        child = Child(name, list(args), self._logs, self._env)
        self._started.append(child)
        return child

    def kill_all(self) -> None:
        for child in self._started:
            child.kill()


@contextmanager
def children(logs: Path, env: dict[str, str]) -> Iterator[Children]:
    logs.mkdir(parents=True, exist_ok=True)
    group = Children(logs, env)
    try:
        yield group
    finally:
        group.kill_all()


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, watch: Child | None = None
) -> None:
    """Poll `condition`; fail with the child's output if it dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if watch is not None and watch.process.poll() is not None:
            pytest.fail(
                f"{watch.name} exited ({watch.process.returncode}) before {what}:\n{watch.output()}"
            )
        time.sleep(0.05)
    detail = f":\n{watch.output()}" if watch is not None else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}{detail}")
