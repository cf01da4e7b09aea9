from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clinvault.config import Settings

SAFE_PRODUCTION = {
    "env": "production",
    "keys_url": "file:///srv/keys/keyring.json",
    "allow_local_keyring_in_production": True,
    "demo_enabled": False,
    "public_url": "https://clinvault.example.org",
}


def test_defaults_keep_everything_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'clinvault.db'}"
    assert settings.storage_url == f"file://{tmp_path / 'data' / 'objects'}"
    assert settings.keys_url == f"file://{tmp_path / 'keys' / 'keyring.json'}"
    assert settings.mail_url == f"file://{tmp_path / 'mail'}"
    assert settings.audit_checkpoint_path == tmp_path / "audit" / "checkpoints.ndjson"
    assert settings.demo_enabled is True
    assert settings.workflow_database_url == f"sqlite:///{tmp_path / 'data' / 'workflows.db'}"


def test_environment_variables_are_read_with_the_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLINVAULT_HOME", str(tmp_path))
    monkeypatch.setenv("CLINVAULT_DATABASE_URL", "postgresql+asyncpg://u@db/clinvault")
    monkeypatch.setenv("CLINVAULT_SECURITY__ACCESS_TOKEN_MINUTES", "5")
    settings = Settings()
    assert settings.home == tmp_path
    assert settings.workflow_database_url == "postgresql://u@db/clinvault"
    assert settings.security.access_token_minutes == 5


def test_access_tokens_cannot_outlive_fifteen_minutes(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="less than or equal to 15"):
        Settings(home=tmp_path, security={"access_token_minutes": 60})  # type: ignore[arg-type]


def test_unknown_database_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CLINVAULT_DATABASE_URL"):
        Settings(home=tmp_path, database_url="mysql://root@localhost/db")


def test_unknown_mail_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CLINVAULT_MAIL_URL"):
        Settings(home=tmp_path, mail_url="http://mail.example.org")


def test_safe_production_configuration_starts(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, **SAFE_PRODUCTION)  # type: ignore[arg-type]
    assert settings.env == "production"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"allow_local_keyring_in_production": False}, "CLINVAULT_KEYS_URL"),
        ({"demo_enabled": True}, "CLINVAULT_DEMO_ENABLED=false"),
        ({"security": {"cookie_secure": False}}, "CLINVAULT_SECURITY__COOKIE_SECURE=true"),
        ({"public_url": "http://clinvault.example.org"}, "https://"),
    ],
)
def test_production_refuses_unsafe_defaults(
    tmp_path: Path, override: dict[str, object], message: str
) -> None:
    values = {**SAFE_PRODUCTION, **override}
    with pytest.raises(ValidationError, match="unsafe production configuration") as caught:
        Settings(home=tmp_path, **values)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_production_demo_defaults_to_off(tmp_path: Path) -> None:
    values = {k: v for k, v in SAFE_PRODUCTION.items() if k != "demo_enabled"}
    settings = Settings(home=tmp_path, **values)  # type: ignore[arg-type]
    assert settings.demo_enabled is False
