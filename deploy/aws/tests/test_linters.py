"""cfn-lint, checkov and cdk-nag pass on the synthesized template, and would fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from clinvault_deploy.app import add_nag_packs


def test_cfn_lint_finds_nothing(template_path: Path) -> None:
    result = _cfn_lint(template_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    return subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_cfn_lint_catches_a_broken_template(tmp_path: Path, template_json: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(template_json))
    name = next(n for n, r in broken["Resources"].items() if r["Type"] == "AWS::RDS::DBInstance")
    broken["Resources"][name]["Properties"]["MultiAZ"] = "sometimes"
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken))
    result = _cfn_lint(path)
    assert result.returncode != 0
    assert "E3012" in result.stdout
    assert "sometimes" in result.stdout


def _checkov(checkov: str, path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            checkov,
            "-f",
            str(path),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_checkov_finds_nothing_unsuppressed(checkov: str, template_path: Path) -> None:
    report = _checkov(checkov, template_path)
    summary = report["summary"]
    failed = [
        (check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert summary["passed"] > 100
    skipped = report["results"]["skipped_checks"]
    assert [check["check_id"] for check in skipped] == ["CKV_AWS_18"]
    assert all(len(check["check_result"]["suppress_comment"]) > 20 for check in skipped), (
        "a skip without its reason"
    )


def test_checkov_catches_an_unversioned_unencrypted_bucket(
    checkov: str, tmp_path: Path, template_json: dict[str, Any]
) -> None:
    broken = json.loads(json.dumps(template_json))
    name = next(
        n
        for n, r in broken["Resources"].items()
        if "Documents" in n and r["Type"] == "AWS::S3::Bucket"
    )
    del broken["Resources"][name]["Properties"]["BucketEncryption"]
    del broken["Resources"][name]["Properties"]["VersioningConfiguration"]
    path = tmp_path / "broken.template.json"
    path.write_text(json.dumps(broken))
    failed = {check["check_id"] for check in _checkov(checkov, path)["results"]["failed_checks"]}
    assert {"CKV_AWS_21"} <= failed  # versioning


def test_nag_packs_fail_synthesis_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bare", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    s3.Bucket(stack, "Plain")
    add_nag_packs(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = json.dumps(report)
    assert "AwsSolutions-S1" in rules
    assert "HIPAA.Security-S3BucketLoggingEnabled" in rules


def test_every_acknowledgment_carries_a_reason(synthesized: tuple[Path, dict[str, Any]]) -> None:
    # The app synthesized with both packs active (conftest); acknowledgments live in nag.py.
    import ast

    source = Path(__file__).resolve().parents[1] / "clinvault_deploy" / "nag.py"
    tree = ast.parse(source.read_text())
    pairs = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple)
        and len(node.elts) == 2
        and isinstance(node.elts[0], ast.JoinedStr | ast.Constant)
    ]
    assert len(pairs) >= 10
    for pair in pairs:
        reason = pair.elts[1]
        text = reason.value if isinstance(reason, ast.Constant) else ast.unparse(reason)
        assert isinstance(text, str), ast.unparse(pair)
        assert len(text) > 40, ast.unparse(pair)
