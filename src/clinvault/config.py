"""Settings: the only place that reads the environment.

Every backend is chosen by one URL; start-up fails fast on an impossible or
unsafe combination with a message that says what to set.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class OidcIssuer(BaseModel):
    """An external identity provider whose bearer tokens are accepted."""

    issuer: str
    jwks_url: str
    audience: str | None = None
    email_claim: str = "email"
    require_verified_email: bool = True
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])


class SecurityPolicy(BaseModel):
    access_token_minutes: int = Field(default=15, ge=1, le=15)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    mfa_challenge_minutes: int = Field(default=5, ge=1, le=15)
    invitation_hours: int = Field(default=72, ge=1, le=24 * 14)
    lockout_threshold: int = Field(default=5, ge=1)
    lockout_base_seconds: int = Field(default=30, ge=1)
    lockout_max_seconds: int = Field(default=15 * 60, ge=1)
    # Failures per sign-in identifier (known or not) are forgotten after this long without one.
    lockout_forget_minutes: int = Field(default=24 * 60, ge=1, le=30 * 24 * 60)
    # Per client address, across accounts: this many failures with no quiet gap of
    # source_forget_minutes slow the address down (429), from source_lock_base_seconds
    # doubling up to source_lock_max_seconds.
    source_failure_threshold: int = Field(default=30, ge=2, le=100_000)
    source_forget_minutes: int = Field(default=10, ge=1, le=24 * 60)
    source_lock_base_seconds: int = Field(default=60, ge=1, le=24 * 3600)
    source_lock_max_seconds: int = Field(default=15 * 60, ge=1, le=24 * 3600)
    password_min_length: int = Field(default=12, ge=12)
    # A "forgot password" link works once, for this long; requests are counted per
    # address (beyond the limit no mail is sent, same answer) and per client address (429).
    password_reset_minutes: int = Field(default=30, ge=5, le=24 * 60)
    password_resets_per_address_hour: int = Field(default=3, ge=1, le=100)
    password_resets_per_source_hour: int = Field(default=30, ge=1, le=100_000)
    # A portal session not kept with "Stay signed in" ends after this long without a request.
    portal_idle_timeout_seconds: int = Field(default=30 * 60, ge=2, le=24 * 3600)
    cookie_secure: bool = True
    max_json_body_bytes: int = Field(default=1024 * 1024, ge=1024)


MIB = 1024 * 1024


def _default_kinds_by_category() -> dict[str, list[str]]:
    return {
        "medical_license": ["pdf"],
        "board_certification": ["pdf"],
        "dea_registration": ["pdf"],
        "curriculum_vitae": ["pdf", "docx"],
        "malpractice_insurance": ["pdf"],
    }


class CredentialPolicy(BaseModel):
    """Limits and schedule of credential intake and review."""

    max_file_bytes: int = Field(default=20 * MIB, ge=1024)
    max_submission_bytes: int = Field(default=100 * MIB, ge=1024)
    max_files: int = Field(default=20, ge=1, le=200)
    review_sla_business_days: int = Field(default=5, ge=1, le=60)
    queue_depth_per_extra_day: int = Field(default=25, ge=1)
    review_poll_seconds: float = Field(default=3600.0, gt=0)
    # Decision emails to a practitioner are gathered per submission for this long (sent at
    # once when no document of the submission waits any more); in-app notices are immediate.
    decision_mail_batch_seconds: float = Field(default=3600.0, gt=0)
    reminder_days: list[int] = Field(default_factory=lambda: [90, 60, 30, 7])
    default_kinds: list[str] = Field(default_factory=lambda: ["pdf"])
    kinds_by_category: dict[str, list[str]] = Field(default_factory=_default_kinds_by_category)
    expiry_schedule_cron: str = "0 0 6 * * *"

    @model_validator(mode="after")
    def _check(self) -> CredentialPolicy:
        if self.max_file_bytes > self.max_submission_bytes:
            raise ValueError(
                "CLINVAULT_CREDENTIALS__MAX_FILE_BYTES must not exceed MAX_SUBMISSION_BYTES"
            )
        if any(day < 1 for day in self.reminder_days):
            raise ValueError("CLINVAULT_CREDENTIALS__REMINDER_DAYS must be positive day counts")
        return self


class AuditWatchPolicy(BaseModel):
    """Business hours and the thresholds behind GET /api/audit/suspicious.

    A burst is `threshold` matching events within `window_minutes`. Business
    hours are local wall-clock times in `timezone` (an IANA name); an end
    earlier than the start spans midnight. Both fall on a quarter hour, the
    granularity at which the database groups activity.
    """

    timezone: str = "UTC"
    business_hours_start: time = time(7, 0)
    business_hours_end: time = time(19, 0)
    failed_login_threshold: int = Field(default=5, ge=2, le=10_000)
    failed_login_window_minutes: int = Field(default=10, ge=1, le=24 * 60)
    mass_read_threshold: int = Field(default=50, ge=2, le=100_000)
    mass_read_window_minutes: int = Field(default=10, ge=1, le=24 * 60)
    export_threshold: int = Field(default=3, ge=1, le=10_000)
    export_window_minutes: int = Field(default=60, ge=1, le=24 * 60)
    denied_threshold: int = Field(default=10, ge=2, le=10_000)
    denied_window_minutes: int = Field(default=10, ge=1, le=24 * 60)
    outside_hours_threshold: int = Field(default=1, ge=1, le=100_000)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"CLINVAULT_AUDIT__TIMEZONE={value!r} is not an IANA time zone "
                "(e.g. Europe/Paris, America/New_York, UTC)"
            ) from None
        return value

    @model_validator(mode="after")
    def _check_hours(self) -> AuditWatchPolicy:
        for name, value in (
            ("BUSINESS_HOURS_START", self.business_hours_start),
            ("BUSINESS_HOURS_END", self.business_hours_end),
        ):
            if value.minute % 15 or value.second or value.microsecond or value.tzinfo:
                raise ValueError(
                    f"CLINVAULT_AUDIT__{name} must be a local quarter hour such as 07:00 or 18:45"
                )
        if self.business_hours_start == self.business_hours_end:
            raise ValueError(
                "CLINVAULT_AUDIT__BUSINESS_HOURS_START and _END must differ (e.g. 07:00 and 19:00)"
            )
        return self


class RecordsPolicy(BaseModel):
    """Patients and appointments: phone normalization and booking limits."""

    # Calling code given to phone numbers written in national format ("(555) 010-0199").
    default_phone_country_code: str = Field(default="1", pattern=r"^[1-9][0-9]{0,2}$")
    max_appointment_minutes: int = Field(default=8 * 60, ge=5, le=24 * 60)
    max_attachment_bytes: int = Field(default=20 * MIB, ge=1024)


class IngestPolicy(BaseModel):
    """CSV ingest: signed upload lifetime and size, batch size, per-cell limit."""

    upload_minutes: int = Field(default=15, ge=1, le=24 * 60)
    max_file_bytes: int = Field(default=1024 * MIB, ge=1024)
    batch_rows: int = Field(default=1000, ge=1, le=50_000)
    max_field_chars: int = Field(default=100_000, ge=100, le=1_000_000)
    # A job gives up when more than the organization's share of rows is invalid, once it
    # has read at least this many rows.
    min_rows_before_giving_up: int = Field(default=100, ge=1)


class ObjectsPolicy(BaseModel):
    """The daily reconcile of stored objects against their rows (clinvault.maintenance)."""

    # An object without a row younger than this may belong to an upload about to commit.
    reconcile_grace_minutes: int = Field(default=60, ge=5, le=30 * 24 * 60)
    reconcile_schedule_cron: str = "0 30 4 * * *"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLINVAULT_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    env: Literal["development", "production", "test"] = "development"
    home: Path = Path("var")
    database_url: str = ""
    # Database connections each process keeps open, and how many more it may open under a
    # burst (closed again once returned). Keep the pool at least as large as the requests a
    # process serves at once: below that, every burst opens and closes connections.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    database_pool_overflow: int = Field(default=20, ge=0, le=500)
    storage_url: str = ""
    keys_url: str = ""
    mail_url: str = ""
    audit_checkpoint_path: Path | None = None
    # Ed25519 key signing audit checkpoints (kept outside the data directory) and its public
    # half, which is all `audit verify` needs; generated on first use outside production.
    audit_signing_key_path: Path | None = None
    audit_verify_key_path: Path | None = None
    # Where signed checkpoints also go, beyond this host's reach: s3://bucket/prefix (Object
    # Lock, COMPLIANCE), file:///mount/dir (append-only), syslog://host:514, syslog+tcp://,
    # syslog:///dev/log. Empty: the local checkpoint file only.
    audit_anchor_url: str = ""
    audit_anchor_retention_days: int = Field(default=2192, ge=1, le=36_500)
    audit_anchor_interval_seconds: float = Field(default=60.0, ge=0, le=86_400)
    # A bearer token that may read /api/health/metrics (a Prometheus scraper); empty: only
    # organization administrators may.
    metrics_scrape_token: SecretStr | None = None
    s3_endpoint_url: str | None = None
    # Server-side encryption asked of every S3 write, beneath the client-side envelope:
    # "aws:kms" under s3_sse_kms_key_id (the bucket's default key when unset), "AES256", or
    # "none" for an S3-compatible service without KMS.
    s3_server_side_encryption: Literal["aws:kms", "AES256", "none"] = "aws:kms"
    s3_sse_kms_key_id: str | None = None
    # With a KMS keys URL: the file holding the KMS-wrapped root secret and key versions
    # (never anything in clear); default <home>/keys/kms-keyring.json.
    kms_wrapped_keyring_path: Path | None = None
    # SES v2 configuration set for ses:// mail (event publishing); unset: none.
    ses_configuration_set: str | None = None
    # Where `serve` listens unless its --host/--port say otherwise.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The address users reach; default: the serve URL, http://<host>:<port>.
    public_url: str = ""
    mail_from: str = "clinvault <no-reply@clinvault.local>"
    log_level: str = "INFO"
    # JSON lines; unset: JSON unless stderr is a terminal (then human-readable lines).
    log_json: bool | None = None
    workflows_enabled: bool = True
    # How often every process looks for the pending workflows of dead processes (replicas
    # scaled in or killed) and adopts them; see clinvault.workflows.recovery.
    workflow_recovery_sweep_seconds: float = Field(default=60.0, ge=1, le=3600)
    allow_local_keyring_in_production: bool = False
    demo_enabled: bool | None = None
    trusted_proxy_hops: int = Field(default=0, ge=0, le=5)
    audit_chain_interval_seconds: float = Field(default=1.0, gt=0)
    oidc_issuers: list[OidcIssuer] = Field(default_factory=list)
    security: SecurityPolicy = Field(default_factory=SecurityPolicy)
    credentials: CredentialPolicy = Field(default_factory=CredentialPolicy)
    records: RecordsPolicy = Field(default_factory=RecordsPolicy)
    objects: ObjectsPolicy = Field(default_factory=ObjectsPolicy)
    ingest: IngestPolicy = Field(default_factory=IngestPolicy)
    audit: AuditWatchPolicy = Field(default_factory=AuditWatchPolicy)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: Path | None = None
    # clamd address ("unix:///run/clamav/clamd.ctl" or "tcp://host:3310"); unset: a local
    # clamd socket at the usual Debian path is used when present; "none": no scanning.
    virus_scan_url: str | None = None
    # How many uploaded files a process checks at once (each check holds the parsed file in
    # memory; more than the cores only adds memory); unset: one per core.
    file_check_threads: int | None = Field(default=None, ge=1, le=64)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "CLINVAULT_DATABASE_URL must start with sqlite+aiosqlite:/// or "
                "postgresql+asyncpg://"
            )
        return value

    @model_validator(mode="after")
    def _fill_defaults_and_check(self) -> Settings:
        home = self.home.resolve()
        self.home = home
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{home / 'data' / 'clinvault.db'}"
        if not self.storage_url:
            self.storage_url = f"file://{home / 'data' / 'objects'}"
        if not self.keys_url:
            self.keys_url = f"file://{home / 'keys' / 'keyring.json'}"
        if not self.mail_url:
            self.mail_url = f"file://{home / 'mail'}"
        if not self.public_url:
            self.public_url = self.serve_url
        if self.kms_wrapped_keyring_path is None:
            self.kms_wrapped_keyring_path = home / "keys" / "kms-keyring.json"
        if self.audit_checkpoint_path is None:
            self.audit_checkpoint_path = home / "audit" / "checkpoints.ndjson"
        self._fill_audit_keys_and_check_anchor(home)
        if self.demo_enabled is None:
            self.demo_enabled = self.env != "production"
        for name, url, schemes in (
            ("CLINVAULT_STORAGE_URL", self.storage_url, ("file", "s3")),
            ("CLINVAULT_KEYS_URL", self.keys_url, ("file", "arn", "kms")),
            ("CLINVAULT_MAIL_URL", self.mail_url, ("file", "smtp", "smtps", "ses")),
        ):
            scheme = urlsplit(url).scheme
            if scheme not in schemes:
                raise ValueError(f"{name}={url!r}: scheme must be one of {', '.join(schemes)}")
        if self.env == "production":
            self._refuse_unsafe_production()
        return self

    def _fill_audit_keys_and_check_anchor(self, home: Path) -> None:
        if self.audit_signing_key_path is None:
            self.audit_signing_key_path = home / "keys" / "audit-signing-key.pem"
        if self.audit_verify_key_path is None:
            self.audit_verify_key_path = self.audit_signing_key_path.with_suffix(".pub")
        signing = self.audit_signing_key_path.resolve()
        if signing.is_relative_to(home / "data"):
            raise ValueError(
                "CLINVAULT_AUDIT_SIGNING_KEY_PATH must lie outside the data directory "
                f"{home / 'data'} (e.g. {home / 'keys' / 'audit-signing-key.pem'})"
            )
        anchor = urlsplit(self.audit_anchor_url)
        if self.audit_anchor_url and (
            anchor.scheme not in ("s3", "file", "syslog", "syslog+tcp")
            or (anchor.scheme == "s3" and not anchor.netloc)
            or (anchor.scheme == "file" and not anchor.netloc + anchor.path)
            or (anchor.scheme.startswith("syslog") and not (anchor.hostname or anchor.path))
        ):
            raise ValueError(
                f"CLINVAULT_AUDIT_ANCHOR_URL={self.audit_anchor_url!r}: use s3://bucket/prefix, "
                "file:///mounted/dir, syslog://host:514, syslog+tcp://host:601 or "
                "syslog:///dev/log (or leave it empty for the local checkpoint file only)"
            )

    def _refuse_unsafe_production(self) -> None:
        problems: list[str] = []
        if self.keys_url.startswith("file:") and not self.allow_local_keyring_in_production:
            problems.append(
                "a local keyring file is configured: set CLINVAULT_KEYS_URL to a KMS key, or "
                "CLINVAULT_ALLOW_LOCAL_KEYRING_IN_PRODUCTION=true to accept a keyring file "
                "kept on a separate, protected volume"
            )
        if self.demo_enabled:
            problems.append("demo users are enabled: set CLINVAULT_DEMO_ENABLED=false")
        if not self.security.cookie_secure:
            problems.append(
                "cookies would be sent over plain HTTP: set CLINVAULT_SECURITY__COOKIE_SECURE=true"
            )
        if not self.public_url.startswith("https://"):
            problems.append("CLINVAULT_PUBLIC_URL must be an https:// address in production")
        if problems:
            raise ValueError("unsafe production configuration: " + "; ".join(problems))

    @property
    def serve_url(self) -> str:
        """The address `serve` answers on, as a browser on this machine would open it."""
        host = self.host.strip("[]")
        if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
            host = "127.0.0.1" if host != "::" else "::1"
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.database_url.split("///", 1)[1])

    @property
    def workflow_database_url(self) -> str:
        """DBOS system database: beside the app database, same engine family."""
        if self.is_sqlite:
            return f"sqlite:///{self.home / 'data' / 'workflows.db'}"
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    def local_path(self, url: str) -> Path:
        """The filesystem path of a file:// URL."""
        parts = urlsplit(url)
        return Path(parts.netloc + parts.path) if parts.netloc else Path(parts.path)


def announce_listen_address(host: str, port: int) -> None:
    """Tell the processes a server starts (uvicorn's workers build their Settings from the
    environment) where it listens, so that their default public URL is that address."""
    os.environ["CLINVAULT_HOST"] = host
    os.environ["CLINVAULT_PORT"] = str(port)
