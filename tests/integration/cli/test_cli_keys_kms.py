"""The operator's commands on AWS KMS and S3 (moto's APIs): `keys rotate`, and start-up
naming what to fix when the bucket or the key cannot be used."""

from __future__ import annotations

import os

from tests.contracts.conftest import REGION, MotoServer, moto_server  # noqa: F401
from tests.integration.cli.conftest import Cli

PROBE = "tests.integration.cli.objects_probe"


def _on_aws(cli: Cli, moto_server: MotoServer, key_id: str, bucket: str) -> None:  # noqa: F811
    cli.env.update(
        {
            "CLINVAULT_KEYS_URL": f"kms://{key_id}",
            "CLINVAULT_STORAGE_URL": f"s3://{bucket}/clinvault",
            "CLINVAULT_S3_ENDPOINT_URL": moto_server.endpoint,
            "AWS_ENDPOINT_URL_KMS": moto_server.endpoint,
            "AWS_ACCESS_KEY_ID": "clinvault-test",
            "AWS_SECRET_ACCESS_KEY": "clinvault-test-secret",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        cli.env.pop(name, None)


def test_rotate_on_kms_rewraps_every_object_and_each_still_decrypts(
    cli: Cli,
    moto_server: MotoServer,  # noqa: F811
) -> None:
    key_id = moto_server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    bucket = moto_server.new_bucket()
    _on_aws(cli, moto_server, key_id, bucket)
    cli.ok("orgs", "create", "--name", "Northside", "--slug", "northside", "--kind", "provider")
    ids = [cli.python(PROBE, "put", "northside", f"scan {n}").strip() for n in range(3)]
    s3 = moto_server.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert len(listed) == 3
    for entry in listed:
        body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        assert b"scan" not in body

    out = cli.ok("keys", "rotate", "--batch-size", "2")

    assert out.strip() == "key version 2 is current; re-wrapped 3 objects in 2 batches"
    rows = cli.sql("SELECT key_version FROM encrypted_objects")
    assert {row[0] for row in rows} == {2}
    for n, row_id in enumerate(ids):
        assert cli.python(PROBE, "get", row_id).strip() == f"scan {n}"
    wrapped_keyring = cli.home / "keys" / "kms-keyring.json"
    assert wrapped_keyring.exists()
    assert not (cli.home / "keys" / "keyring.json").exists()
    assert os.stat(wrapped_keyring).st_mode & 0o777 == 0o600


def test_start_up_names_a_missing_bucket_and_a_disabled_key(
    cli: Cli,
    moto_server: MotoServer,  # noqa: F811
) -> None:
    kms = moto_server.client("kms")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    _on_aws(cli, moto_server, key_id, "clinvault-never-created")

    missing = cli.run("migrate")

    assert missing.returncode != 0
    assert "'clinvault-never-created' does not exist: create it" in missing.stderr
    assert "Traceback" not in missing.stderr

    _on_aws(cli, moto_server, key_id, moto_server.new_bucket())
    assert cli.run("migrate").returncode == 0
    kms.disable_key(KeyId=key_id)
    try:
        disabled = cli.run("migrate")
    finally:
        kms.enable_key(KeyId=key_id)

    assert disabled.returncode != 0
    assert f"KMS key {key_id} is Disabled: enable it" in disabled.stderr
    assert "Traceback" not in disabled.stderr
