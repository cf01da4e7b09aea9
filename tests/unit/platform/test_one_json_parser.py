"""Every JSON document the code decodes goes through the one bounded parser."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "clinvault"
DECODERS = {"loads", "load", "JSONDecoder", "raw_decode"}


def _offenders() -> list[str]:
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "inputs.py" and path.parent == SRC:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in DECODERS
                and isinstance(node.value, ast.Name)
                and node.value.id == "json"
            ):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "json":
                names = {alias.name for alias in node.names} & DECODERS
                if names:
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_json_is_decoded_only_by_the_bounded_parser() -> None:
    assert _offenders() == [], "decode with clinvault.inputs.parse_json (depth and size limits)"
