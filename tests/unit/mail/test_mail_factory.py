from __future__ import annotations

import re
from pathlib import Path

import pytest
import trustme

from clinvault.mail.factory import open_mailer
from clinvault.mail.folder import FolderMailer
from clinvault.mail.smtp import SmtpMailer

SENDER = "clinvault <no-reply@clinvault.test>"


def test_file_url_opens_a_folder_mailer(tmp_path: Path) -> None:
    mailer = open_mailer(f"file://{tmp_path}/mail", sender=SENDER)
    assert isinstance(mailer, FolderMailer)
    assert mailer.folder == tmp_path / "mail"


def test_relative_file_url_is_a_relative_folder() -> None:
    mailer = open_mailer("file://var/mail", sender=SENDER)
    assert isinstance(mailer, FolderMailer)
    assert mailer.folder == Path("var/mail")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://smtp.example.org", "port=587, tls=starttls"),
        ("smtp://smtp.example.org:2587", "port=2587, tls=starttls"),
        ("SMTP://smtp.example.org/", "port=587, tls=starttls"),
        ("smtps://smtp.example.org", "port=465, tls=implicit"),
        ("smtps://smtp.example.org:2465", "port=2465, tls=implicit"),
        ("smtp://127.0.0.1:1025?starttls=false", "port=1025, tls=none"),
        ("smtp://localhost:1025?starttls=0", "port=1025, tls=none"),
        ("smtp://[::1]:1025?starttls=false", "port=1025, tls=none"),
        ("smtp://localhost:1025?starttls=true", "port=1025, tls=starttls"),
    ],
)
def test_smtp_urls(url: str, expected: str) -> None:
    mailer = open_mailer(url, sender=SENDER)
    assert isinstance(mailer, SmtpMailer)
    assert expected in repr(mailer)


def test_credentials_are_used_but_not_shown() -> None:
    mailer = open_mailer(
        "smtps://email-smtp.eu-west-1.amazonaws.com",
        sender=SENDER,
        username="AKIAEXAMPLE",
        password="s3cret-password",
    )
    assert "auth=True" in repr(mailer)
    assert "s3cret" not in repr(mailer)


def test_ca_file_is_loaded(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    assert isinstance(
        open_mailer("smtp://relay.internal", sender=SENDER, ca_file=ca_file), SmtpMailer
    )


@pytest.mark.parametrize(
    ("url", "kwargs", "message"),
    [
        ("http://mail.example.org", {}, "scheme must be file://, smtp://"),
        ("s3://bucket/mail", {}, "scheme must be"),
        ("mail.example.org", {}, "scheme must be"),
        ("file://", {}, "give a folder"),
        ("file:///var/mail?x=1", {}, "no query"),
        ("smtp://", {}, "a host is required"),
        ("smtp://:25", {}, "a host is required"),
        ("smtp://smtp.example.org:notaport", {}, "port must be a number"),
        ("smtp://smtp.example.org:0", {}, "port must be a number"),
        ("smtp://smtp.example.org:70000", {}, "port must be a number"),
        ("smtp://smtp.example.org/inbox", {}, "no path"),
        ("smtp://user:pw@smtp.example.org", {}, "do not put credentials in the URL"),
        ("smtp://smtp.example.org?starttls=false", {}, "only allowed for a relay on localhost"),
        ("smtp://10.0.0.5:25?starttls=false", {}, "only allowed for a relay on localhost"),
        ("smtp://localhost?starttls=maybe", {}, "starttls must be true or false"),
        ("smtp://localhost?tls=off", {}, "unknown parameter 'tls'"),
        ("smtps://localhost?starttls=false", {}, "implicit TLS; drop ?starttls"),
        ("smtp://smtp.example.org", {"username": "u"}, "set both"),
        ("smtp://smtp.example.org", {"password": "p"}, "set both"),
        ("smtp://smtp.example.org", {"ca_file": Path("/nonexistent/ca.pem")}, "not a readable"),
    ],
)
def test_bad_urls_are_refused_with_a_clear_message(
    url: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        open_mailer(url, sender=SENDER, **kwargs)  # type: ignore[arg-type]


def test_credentials_in_the_url_are_not_echoed() -> None:
    with pytest.raises(ValueError, match="credentials") as caught:
        open_mailer("smtp://user:hunter2@smtp.example.org", sender=SENDER)
    assert "hunter2" not in str(caught.value)


def test_ca_file_without_certificates_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    with pytest.raises(ValueError, match="no usable PEM certificate"):
        open_mailer("smtp://relay.internal", sender=SENDER, ca_file=bogus)


def test_smtp_mailer_refuses_plaintext_to_a_remote_host() -> None:
    with pytest.raises(ValueError, match="refusing plaintext SMTP"):
        SmtpMailer("smtp.example.org", 25, sender=SENDER, starttls=False)


def test_smtp_mailer_refuses_two_tls_modes() -> None:
    with pytest.raises(ValueError, match="not both"):
        SmtpMailer("smtp.example.org", 465, sender=SENDER, implicit_tls=True, starttls=True)
