"""What the KMS provider adds: secrets only in wrapped form, faults as 503s naming the fix."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.contracts.conftest import MotoServer, free_port, use_test_aws_chain

from clinvault.crypto.errors import IntegrityError, KeysUnavailable
from clinvault.crypto.factory import open_key_provider, parse_kms_url
from clinvault.crypto.kms import KmsKeyProvider, call_kms
from clinvault.errors.base import AppError
from clinvault.ingest.storage import STAGES, copy_object, staged
from clinvault.storage.objects import INGEST_STAGES, EncryptedObjectStore
from clinvault.storage.s3 import S3Storage


def _new_key(moto_server: MotoServer) -> str:
    key_id: str = moto_server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    return key_id


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def test_the_wrapped_keyring_holds_no_secret_in_clear(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    kms = moto_server.client("kms")
    path = tmp_path / "kms-keyring.json"
    keys = KmsKeyProvider(kms, _new_key(moto_server), path)
    keys.derive("audit")

    document = json.loads(path.read_text())
    assert path.stat().st_mode & 0o777 == 0o600
    blobs = [document["root_secret"], *(entry["key"] for entry in document["keys"])]
    for blob in blobs:
        raw = base64.b64decode(blob)
        with pytest.raises(kms.exceptions.InvalidCiphertextException):
            kms.decrypt(CiphertextBlob=raw)  # only with the right encryption context
        assert len(raw) > 32


@pytest.mark.asyncio
async def test_objects_on_s3_under_kms_never_show_plaintext_and_rotate(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    keys = KmsKeyProvider(
        moto_server.client("kms"), _new_key(moto_server), tmp_path / "kms-keyring.json"
    )
    bucket = moto_server.new_bucket()
    store = EncryptedObjectStore(S3Storage(moto_server.client("s3"), bucket), keys)
    secret = b"PATIENT-NAME " * 1000

    stored = await store.put("orgs/o1/records/r1", _once(secret))
    raw = moto_server.client("s3").get_object(Bucket=bucket, Key="orgs/o1/records/r1")["Body"]

    assert b"PATIENT-NAME" not in raw.read()
    assert b"".join([c async for c in store.get("orgs/o1/records/r1", stored.wrapped)]) == secret
    await keys.rotate()
    rewrapped = await store.rewrap(stored.wrapped, "orgs/o1/records/r1")
    assert rewrapped.version == 2
    got = b"".join([c async for c in store.get("orgs/o1/records/r1", rewrapped)])
    assert got == secret


@pytest.mark.asyncio
async def test_a_disabled_key_names_the_fix_and_is_a_503(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    kms = moto_server.client("kms")
    key_id = _new_key(moto_server)
    keys = KmsKeyProvider(kms, key_id, tmp_path / "kms-keyring.json")
    await keys.check()

    kms.disable_key(KeyId=key_id)
    try:
        with pytest.raises(KeysUnavailable) as caught:
            await keys.check()
    finally:
        kms.enable_key(KeyId=key_id)

    error = caught.value
    assert key_id in error.detail
    assert "enable" in error.detail
    assert isinstance(error, AppError)
    assert error.status == 503
    assert error.headers["Retry-After"].isdigit()


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("DisabledException", "enable it"),
        ("KMSInvalidStateException", "enable it"),
        ("AccessDeniedException", "kms:Decrypt"),
        ("NotFoundException", "does not exist"),
        ("ThrottlingException", "try again"),
    ],
)
def test_kms_refusals_become_503s_that_name_the_fix(code: str, says: str) -> None:
    # moto's KMS keeps serving a disabled key's data keys; AWS answers DisabledException.
    def refused() -> None:
        raise ClientError({"Error": {"Code": code, "Message": "no"}}, "GenerateDataKey")

    with pytest.raises(KeysUnavailable, match=says) as caught:
        call_kms(refused, "arn:aws:kms:eu-west-1:123456789012:key/k")
    assert caught.value.status == 503


@pytest.mark.asyncio
async def test_an_unreachable_kms_is_unavailable_with_no_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_test_aws_chain(monkeypatch)
    keys = open_key_provider(
        "kms://alias/clinvault",
        wrapped_keyring=tmp_path / "kms-keyring.json",
        kms_endpoint_url=f"http://127.0.0.1:{free_port()}",
    )

    with pytest.raises(KeysUnavailable, match="unreachable"):
        await keys.check()
    with pytest.raises(KeysUnavailable):
        keys.derive("audit")
    with pytest.raises(KeysUnavailable):
        await keys.new_data_key()
    assert not (tmp_path / "kms-keyring.json").exists()


def test_an_alias_url_reaches_the_aliased_key(moto_server: MotoServer, tmp_path: Path) -> None:
    name = f"alias/clinvault-{os.urandom(4).hex()}"
    moto_server.client("kms").create_alias(AliasName=name, TargetKeyId=_new_key(moto_server))

    keys = open_key_provider(
        f"kms://{name}",
        wrapped_keyring=tmp_path / "kms-keyring.json",
        kms_endpoint_url=moto_server.endpoint,
    )

    assert len(keys.derive("field")) == 32


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            (
                "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                "eu-west-1",
            ),
        ),
        (
            "arn:aws:kms:us-east-2:123456789012:alias/clinvault",
            ("arn:aws:kms:us-east-2:123456789012:alias/clinvault", "us-east-2"),
        ),
        ("kms://alias/clinvault/prod", ("alias/clinvault/prod", None)),
        (
            "kms://1234abcd-12ab-34cd-56ef-1234567890ab",
            ("1234abcd-12ab-34cd-56ef-1234567890ab", None),
        ),
    ],
)
def test_kms_urls(url: str, expected: tuple[str, str | None]) -> None:
    assert parse_kms_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["arn:aws:kms:eu-west-1:123:key/x", "arn:aws:s3:::bucket", "kms://", "kms://alias/a?x=1"],
)
def test_bad_kms_urls_say_what_to_write(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CLINVAULT_KEYS_URL"):
        open_key_provider(url, wrapped_keyring=tmp_path / "k.json")


@pytest.mark.asyncio
async def test_an_ingest_file_moved_between_stages_still_decrypts_under_kms(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    keys = KmsKeyProvider(
        moto_server.client("kms"), _new_key(moto_server), tmp_path / "kms-keyring.json"
    )
    storage = S3Storage(moto_server.client("s3"), moto_server.new_bucket())
    store = EncryptedObjectStore(storage, keys)
    source = "orgs/o1/ingest/uploaded/2026-01-02/101112-abcd.csv"
    target = staged(source, "completed")

    stored = await store.put(source, _once(b"mrn,visit\n"))
    await copy_object(storage, source, target)

    assert frozenset(STAGES) == INGEST_STAGES
    got = b"".join([c async for c in store.get(target, stored.wrapped)])
    assert got == b"mrn,visit\n"
    # Another organization's or another file's name does not decrypt.
    other = target.replace("abcd", "abce")
    await copy_object(storage, source, other)
    with pytest.raises(IntegrityError):
        [c async for c in store.get(other, stored.wrapped)]


class _CountingKms:
    """The real moto client, counting the Decrypt calls that go through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.decrypts = 0

    def decrypt(self, **kwargs: Any) -> Any:
        self.decrypts += 1
        return self._client.decrypt(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.mark.asyncio
async def test_secrets_are_unwrapped_once_per_process_until_a_rotation(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    path = tmp_path / "kms-keyring.json"
    key_id = _new_key(moto_server)
    KmsKeyProvider(moto_server.client("kms"), key_id, path).derive("audit")  # creates the file
    counting = _CountingKms(moto_server.client("kms"))
    server = KmsKeyProvider(counting, key_id, path)

    first = server.derive("field")
    unwrapped = counting.decrypts
    for purpose in ("audit", "blind-index", "token", "field"):
        server.derive(purpose)
    await server.check()
    await server.check()

    assert unwrapped == 2  # the root secret and the one KEK
    assert counting.decrypts == unwrapped
    # A rotation by another process (the `keys rotate` command) is adopted by check().
    await KmsKeyProvider(moto_server.client("kms"), key_id, path).rotate()
    await server.check()
    assert server.current_version == 2
    assert server.derive("field", 1) == first
    assert server.derive("field") != first
