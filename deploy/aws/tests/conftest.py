"""Synthesizes the app once per session (offline: no AWS account, no Docker).

Synthesis runs the cdk-nag AwsSolutions and HIPAA.Security packs: any
unacknowledged finding makes it raise, so every test here starts from a stack
that passed them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DEPLOY_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = DEPLOY_DIR.parents[1]
sys.path.insert(0, str(DEPLOY_DIR))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

REQUIRE_TOOLS = os.environ.get("CLINVAULT_REQUIRE_SERVICES") == "1"


def tool_missing(reason: str) -> None:
    """Skip locally; fail when the run requires every tool (CI)."""
    if REQUIRE_TOOLS:
        pytest.fail(f"required tool unavailable: {reason}")
    pytest.skip(reason)


def find_checkov() -> str | None:
    for candidate in (
        os.environ.get("CLINVAULT_CHECKOV"),
        str(REPO_ROOT / ".venv-checkov" / "bin" / "checkov"),
        shutil.which("checkov"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def synthesize(outdir: Path, context: dict[str, Any] | None = None) -> dict[str, Any]:
    from clinvault_deploy.app import build_app

    build_app(context, outdir=str(outdir)).synth()
    template: dict[str, Any] = json.loads((outdir / "Clinvault.template.json").read_text())
    return template


@pytest.fixture(scope="session")
def synth() -> Callable[[Path, dict[str, Any] | None], dict[str, Any]]:
    """Synthesize with other context into a directory; returns the template."""
    return synthesize


@pytest.fixture(scope="session")
def checkov() -> str:
    found = find_checkov()
    if found is None:
        tool_missing(
            "checkov not found: install deploy/aws/requirements-checkov.txt into .venv-checkov "
            "(or set CLINVAULT_CHECKOV)"
        )
        raise AssertionError("unreachable")
    return found


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    return outdir / "Clinvault.template.json", synthesize(outdir)


@pytest.fixture(scope="session")
def template_json(synthesized: tuple[Path, dict[str, Any]]) -> dict[str, Any]:
    return synthesized[1]


@pytest.fixture(scope="session")
def template_path(synthesized: tuple[Path, dict[str, Any]]) -> Path:
    return synthesized[0]
