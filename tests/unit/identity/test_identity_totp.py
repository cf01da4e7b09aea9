"""TOTP matching, replay refusal and recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp

from clinvault.identity import mfa

NOW = datetime(2025, 3, 1, 12, 0, 10, tzinfo=UTC)


def code_at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def test_current_and_adjacent_steps_match() -> None:
    secret = mfa.new_secret()
    step = pyotp.TOTP(secret).timecode(NOW)
    for offset in (-1, 0, 1):
        code = code_at(secret, NOW + timedelta(seconds=30 * offset))
        check = mfa.check_totp(secret, code, now=NOW, last_step=None)
        assert check.ok
        assert check.step == step + offset


def test_codes_two_steps_away_do_not_match() -> None:
    secret = mfa.new_secret()
    for offset in (-2, 2):
        code = code_at(secret, NOW + timedelta(seconds=30 * offset))
        assert not mfa.check_totp(secret, code, now=NOW, last_step=None).ok


def test_a_step_already_used_is_a_replay() -> None:
    secret = mfa.new_secret()
    code = code_at(secret, NOW)
    first = mfa.check_totp(secret, code, now=NOW, last_step=None)
    assert first.step is not None
    again = mfa.check_totp(secret, code, now=NOW, last_step=first.step)
    assert not again.ok
    assert again.replayed
    earlier = code_at(secret, NOW - timedelta(seconds=30))
    assert mfa.check_totp(secret, earlier, now=NOW, last_step=first.step).replayed


def test_codes_tolerate_spaces_but_not_letters() -> None:
    secret = mfa.new_secret()
    code = code_at(secret, NOW)
    assert mfa.check_totp(secret, f"{code[:3]} {code[3:]}", now=NOW, last_step=None).ok
    assert not mfa.check_totp(secret, "12345a", now=NOW, last_step=None).ok
    assert not mfa.is_totp_shaped("abcd-efgh-jkmn-pqrs")


def test_recovery_codes_are_distinct_and_hash_after_normalizing() -> None:
    codes = mfa.new_recovery_codes()
    assert len(codes) == mfa.RECOVERY_CODE_COUNT == len(set(codes))
    code = codes[0]
    assert len(code) == 19
    assert code.count("-") == 3
    digest = mfa.recovery_code_hash(code)
    assert mfa.recovery_code_hash(f"  {code.upper().replace('-', ' ')} ") == digest
    assert mfa.recovery_code_hash(codes[1]) != digest


def test_provisioning_uri_and_qr_code() -> None:
    secret = mfa.new_secret()
    uri = mfa.provisioning_uri(secret, "ada@example.org")
    assert uri.startswith("otpauth://totp/clinvault:ada%40example.org?")
    assert f"secret={secret}" in uri
    assert mfa.qr_svg_data_uri(uri).startswith("data:image/svg+xml")
