"""Choose the mail backend from CLINVAULT_MAIL_URL.

    file:///var/clinvault/mail              one .eml file per message
    smtp://smtp.example.org[:587]           SMTP with mandatory STARTTLS
    smtp://127.0.0.1:1025?starttls=false    plaintext, only to a relay on this host
    smtps://email-smtp.eu-west-1.amazonaws.com[:465]   implicit TLS
    ses://eu-west-1                         Amazon SES API v2 in that region

Credentials never go in the URL (it gets logged); they come from settings.
"""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from clinvault.aws import aws_client
from clinvault.mail.folder import FolderMailer
from clinvault.mail.ports import Mailer
from clinvault.mail.ses import SesMailer
from clinvault.mail.smtp import SmtpMailer, default_tls_context, is_loopback_host

SMTP_SUBMISSION_PORT = 587
SMTPS_PORT = 465

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def open_mailer(
    url: str,
    *,
    sender: str,
    username: str | None = None,
    password: str | None = None,
    ca_file: Path | None = None,
    timeout: float = 30.0,
    ses_configuration_set: str | None = None,
    ses_endpoint_url: str | None = None,
) -> Mailer:
    """Build the Mailer a URL names; raise ValueError saying what to fix."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.query or parts.fragment:
            raise ValueError(f"mail URL {url!r}: a file:// URL takes no query or fragment")
        path = unquote(parts.netloc + parts.path)
        if not path:
            raise ValueError(f"mail URL {url!r}: give a folder, e.g. file:///var/clinvault/mail")
        return FolderMailer(Path(path), sender)
    if scheme in ("smtp", "smtps"):
        return _smtp_mailer(
            url,
            sender=sender,
            username=username,
            password=password,
            ca_file=ca_file,
            timeout=timeout,
        )
    if scheme == "ses":
        return _ses_mailer(
            url,
            sender=sender,
            configuration_set=ses_configuration_set,
            endpoint_url=ses_endpoint_url,
        )
    raise ValueError(
        f"mail URL {url!r}: scheme must be file://, smtp:// (STARTTLS), smtps:// (implicit TLS) "
        "or ses://region (Amazon SES API)"
    )


def _ses_mailer(
    url: str, *, sender: str, configuration_set: str | None, endpoint_url: str | None
) -> SesMailer:
    parts = urlsplit(url)
    region = parts.netloc
    if not _REGION.fullmatch(region) or parts.path not in ("", "/") or parts.query:
        raise ValueError(
            f"mail URL {url!r}: write ses://<region>, e.g. ses://eu-west-1 (the configuration "
            "set goes in CLINVAULT_SES_CONFIGURATION_SET)"
        )
    client = aws_client("sesv2", endpoint_url=endpoint_url, region=region)
    return SesMailer(client, sender=sender, region=region, configuration_set=configuration_set)


def _smtp_mailer(
    url: str,
    *,
    sender: str,
    username: str | None,
    password: str | None,
    ca_file: Path | None,
    timeout: float,
) -> SmtpMailer:
    parts = urlsplit(url)
    implicit_tls = parts.scheme.lower() == "smtps"
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "mail URL: do not put credentials in the URL; set CLINVAULT_SMTP_USERNAME and "
            "CLINVAULT_SMTP_PASSWORD"
        )
    host = parts.hostname
    if not host:
        raise ValueError(f"mail URL {url!r}: a host is required, e.g. smtp://smtp.example.org")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError(f"mail URL {url!r}: an SMTP URL takes no path or fragment")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"mail URL {url!r}: the port must be a number 1-65535") from None
    if port is None:
        port = SMTPS_PORT if implicit_tls else SMTP_SUBMISSION_PORT
    elif port == 0:
        raise ValueError(f"mail URL {url!r}: the port must be a number 1-65535")

    starttls = not implicit_tls
    for name, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if name != "starttls":
            raise ValueError(f"mail URL {url!r}: unknown parameter {name!r} (allowed: starttls)")
        if implicit_tls:
            raise ValueError(f"mail URL {url!r}: smtps:// is implicit TLS; drop ?starttls")
        starttls = _parse_bool(url, value)
    if not starttls and not implicit_tls and not is_loopback_host(host):
        raise ValueError(
            f"mail URL {url!r}: starttls=false is only allowed for a relay on localhost, "
            "127.0.0.1 or ::1; use smtp:// with STARTTLS or smtps://"
        )
    if (username is None) != (password is None):
        raise ValueError("set both CLINVAULT_SMTP_USERNAME and CLINVAULT_SMTP_PASSWORD, or neither")

    return SmtpMailer(
        host,
        port,
        sender=sender,
        implicit_tls=implicit_tls,
        starttls=starttls,
        username=username,
        password=password,
        ssl_context=_tls_context(ca_file),
        timeout=timeout,
    )


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    if ca_file is None:
        return default_tls_context()
    if not ca_file.is_file():
        raise ValueError(f"CLINVAULT_SMTP_CA_FILE={str(ca_file)!r} is not a readable file")
    # Given a cafile, the context trusts that CA only, not the system store.
    try:
        context = ssl.create_default_context(cafile=str(ca_file))
    except ssl.SSLError as exc:
        raise ValueError(
            f"CLINVAULT_SMTP_CA_FILE={str(ca_file)!r} holds no usable PEM certificate: {exc}"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _parse_bool(url: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"mail URL {url!r}: starttls must be true or false, not {value!r}")
