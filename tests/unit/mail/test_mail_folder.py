from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from clinvault.mail.folder import FolderMailer
from clinvault.mail.message import delivery_id, message_id
from clinvault.mail.ports import MailDeliveryFailed, OutgoingMail

SENDER = "clinvault <no-reply@clinvault.test>"


def _mail(key: str = "invitation:42", **overrides: object) -> OutgoingMail:
    values: dict[str, object] = {
        "to": ("ada@example.org",),
        "subject": "You are invited",
        "text": "Accept here: https://clinvault.test/invite/abc\n",
        "html": "<p>Accept <a href='https://clinvault.test/invite/abc'>here</a></p>",
        "idempotency_key": key,
    }
    values.update(overrides)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def _messages(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


def _parse(path: Path) -> EmailMessage:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_writes_a_parseable_eml_file(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    await FolderMailer(folder, SENDER).send(_mail())

    [path] = _messages(folder)
    assert path.name.endswith(f"-{delivery_id('invitation:42')}.eml")
    parsed = _parse(path)
    assert parsed["To"] == "ada@example.org"
    assert parsed["Subject"] == "You are invited"
    assert parsed["Message-ID"] == message_id("invitation:42")
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    assert isinstance(text, EmailMessage)
    assert "https://clinvault.test/invite/abc" in text.get_content()
    assert path.stat().st_mode & 0o777 == 0o600


async def test_same_key_is_delivered_once(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path, SENDER)
    for _ in range(3):
        await mailer.send(_mail())

    assert len(_messages(tmp_path)) == 1


async def test_concurrent_attempts_with_one_key_write_one_file(tmp_path: Path) -> None:
    mailers = [FolderMailer(tmp_path, SENDER) for _ in range(8)]
    await asyncio.gather(*(m.send(_mail()) for m in mailers))

    assert len(_messages(tmp_path)) == 1


async def test_distinct_keys_give_distinct_files(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path, SENDER)
    await mailer.send(_mail("invitation:1"))
    await mailer.send(_mail("invitation:2"))

    paths = _messages(tmp_path)
    assert len(paths) == 2
    assert {_parse(p)["Message-ID"] for p in paths} == {
        message_id("invitation:1"),
        message_id("invitation:2"),
    }


async def test_messages_without_a_key_are_all_written(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path, SENDER)
    await mailer.send(_mail(""))
    await mailer.send(_mail(""))

    assert len(_messages(tmp_path)) == 2


async def test_retry_after_a_crash_between_claim_and_write_delivers(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path, SENDER)
    await mailer.send(_mail())
    [first] = _messages(tmp_path)
    first.unlink()  # as if the process died after claiming the key

    await mailer.send(_mail())
    await mailer.send(_mail())

    assert [p.name for p in _messages(tmp_path)] == [first.name]


async def test_leaves_no_temporary_files(tmp_path: Path) -> None:
    mailer = FolderMailer(tmp_path, SENDER)
    await mailer.send(_mail("a"))
    await mailer.send(_mail(""))
    await mailer.check()

    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


async def test_corrupt_claim_is_reported_not_overwritten(tmp_path: Path) -> None:
    claims = tmp_path / ".sent"
    claims.mkdir()
    (claims / delivery_id("k")).write_text("../../etc/passwd")

    with pytest.raises(MailDeliveryFailed, match="corrupt") as caught:
        await FolderMailer(tmp_path, SENDER).send(_mail("k"))
    assert caught.value.retryable is False


async def test_invalid_mail_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="line breaks"):
        await FolderMailer(tmp_path, SENDER).send(_mail(subject="x\r\nBcc: a@b.c"))
    assert _messages(tmp_path) == []


async def test_check_creates_and_probes_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "nested" / "mail"
    await FolderMailer(folder, SENDER).check()
    assert folder.is_dir()
    assert list(folder.iterdir()) == []


@contextmanager
def _read_only(folder: Path) -> Iterator[None]:
    """A folder nobody may write to: root ignores mode bits, so it gets the immutable flag."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(folder)], check=True)
    else:
        folder.chmod(0o500)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        else:
            folder.chmod(0o700)


async def test_check_and_send_fail_on_a_read_only_folder(tmp_path: Path) -> None:
    with _read_only(tmp_path):
        mailer = FolderMailer(tmp_path, SENDER)
        with pytest.raises(MailDeliveryFailed, match="not writable"):
            await mailer.check()
        with pytest.raises(MailDeliveryFailed, match="could not write"):
            await mailer.send(_mail())
    assert _messages(tmp_path) == []


async def test_check_fails_when_the_folder_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("not a folder")
    with pytest.raises(MailDeliveryFailed, match="not writable"):
        await FolderMailer(blocker, SENDER).check()


def test_sender_is_validated() -> None:
    with pytest.raises(ValueError, match="address"):
        FolderMailer(Path("unused"), "no address here")
