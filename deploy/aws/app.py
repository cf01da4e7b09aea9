"""CDK entry point: `cdk synth` (or `python app.py`) writes the template to cdk.out/."""

from __future__ import annotations

import aws_cdk as cdk

from clinvault_deploy.app import build_app

if __name__ == "__main__":
    app: cdk.App = build_app()
    app.synth()
