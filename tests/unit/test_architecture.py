"""The layering rules of DESIGN.md, checked by code rather than memory."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "clinvault"
MODULES = sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "exists", "or_", "and_"}
# Infrastructure that owns its own tables and is not a feature package.
SQL_ALLOWED = {"db.py", "migrate.py", "chain.py", "verify.py", "export.py", "repository.py"}
NO_FASTAPI = {"service.py", "policies.py", "repository.py", "workflows.py"}


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, set()) for alias in node.names)
    return found


def _rel(path: Path) -> str:
    return str(path.relative_to(SRC))


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_no_sql_outside_repositories(path: Path) -> None:
    if path.name in SQL_ALLOWED or path.parent.name in {"cli", "health"}:
        return
    for module, names in _imports(path):
        if module.startswith("sqlalchemy"):
            assert not (names & SQL_BUILDERS), f"{_rel(path)} builds SQL: move it to repository.py"


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_services_are_free_of_http(path: Path) -> None:
    if path.name not in NO_FASTAPI:
        return
    for module, _ in _imports(path):
        assert not module.startswith(("fastapi", "starlette")), (
            f"{_rel(path)} imports {module}: services and repositories must not know HTTP"
        )


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_only_the_unit_of_work_commits(path: Path) -> None:
    if path.name == "db.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "commit":
            pytest.fail(f"{_rel(path)}:{node.lineno} commits: use Database.unit_of_work")


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_modules_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 400, f"{_rel(path)} has {lines} lines: split it by responsibility"


def test_only_config_reads_the_environment() -> None:
    offenders = [
        _rel(p)
        for p in MODULES
        if p.name != "config.py" and ("os.environ" in p.read_text() or "getenv(" in p.read_text())
    ]
    assert offenders == []
