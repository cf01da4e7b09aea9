"""TOTP (RFC 6238) and one-time recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno

ISSUER_NAME = "clinvault"
STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 16


@dataclass(frozen=True, slots=True)
class TotpCheck:
    step: int | None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.step is not None


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER_NAME
    )


def qr_svg_data_uri(uri: str) -> str:
    """The otpauth URI as a QR code, an SVG `data:` URI usable as an <img> source."""
    return str(segno.make(uri, error="m", micro=False).svg_data_uri(scale=4))


def compact(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def is_totp_shaped(code: str) -> bool:
    value = compact(code)
    return len(value) == DIGITS and value.isascii() and value.isdigit()


def check_totp(secret: str, code: str, *, now: datetime, last_step: int | None) -> TotpCheck:
    """Match `code` within one step either side; a step at or before `last_step` is a replay."""
    value = compact(code)
    if not is_totp_shaped(value):
        return TotpCheck(step=None)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = totp.timecode(now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), value):
            if last_step is not None and step <= last_step:
                return TotpCheck(step=None, replayed=True)
            return TotpCheck(step=step)
    return TotpCheck(step=None)


def new_recovery_codes(count: int = RECOVERY_CODE_COUNT) -> list[str]:
    """Codes of 16 symbols (about 78 bits each), shown as four groups of four."""
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
    return codes


def recovery_code_hash(code: str) -> str:
    return hashlib.sha256(f"clinvault-recovery:{compact(code)}".encode()).hexdigest()
