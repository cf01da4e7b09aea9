"""Builds the CDK app: the stack, its settings from context, and the cdk-nag packs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks

from clinvault_deploy.nag import suppress
from clinvault_deploy.settings import DeploySettings
from clinvault_deploy.stack import ClinvaultStack

# Access log delivery through a bucket policy (not an ACL), so every bucket can enforce
# bucket-owner object ownership.
FEATURE_FLAGS = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}


def build_app(context: dict[str, Any] | None = None, *, outdir: str | None = None) -> cdk.App:
    app = cdk.App(context={**FEATURE_FLAGS, **(context or {})}, outdir=outdir)
    settings = DeploySettings.from_context(app.node.try_get_context)
    stack = ClinvaultStack(
        app,
        "Clinvault",
        settings,
        env=cdk.Environment(account=settings.account, region=settings.region),
    )
    suppress(stack)
    add_nag_packs(app)
    return app


def add_nag_packs(app: cdk.App) -> None:
    """AwsSolutions and HIPAA.Security: synthesis fails on any unacknowledged finding."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True), HIPAASecurityChecks(app, verbose=True)
    )
