"""CDK entry point: `cdk synth`, or `python app.py`, writes the template to cdk.out/."""

from __future__ import annotations

import os

from clinvault_deploy.app import build_app

if __name__ == "__main__":
    # The cdk CLI passes its output directory in CDK_OUTDIR; run directly, cdk.out/.
    build_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out")).synth()
