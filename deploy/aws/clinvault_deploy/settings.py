"""Deployment settings, read from CDK context (cdk.json, or `-c key=value`).

Every value has a default that synthesizes offline, without an AWS account or
Docker; a real deployment overrides at least the account, the region, the
image, the certificate, the domain and the sender.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER_IMAGE = "public.ecr.aws/clinvault/clinvault:latest"
PLACEHOLDER_CERTIFICATE = (
    "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
)

DEFAULT_TAGS = {
    "Application": "clinvault",
    "Environment": "production",
    "Owner": "platform-team",
    "CostCenter": "clinvault",
    "DataClassification": "phi",
    "Compliance": "hipaa-gdpr",
}


@dataclass(frozen=True)
class DeploySettings:
    account: str = "123456789012"
    region: str = "eu-west-1"
    availability_zones: tuple[str, ...] = ("eu-west-1a", "eu-west-1b")
    # The image built from the repository's Dockerfile and pushed to a registry.
    image_uri: str = PLACEHOLDER_IMAGE
    certificate_arn: str = PLACEHOLDER_CERTIFICATE
    public_url: str = "https://clinvault.example.org"
    # The SES identity mail is sent from: a domain (DKIM records to publish) or an address.
    mail_identity: str = "example.org"
    mail_from: str = "clinvault <no-reply@example.org>"
    storage_prefix: str = "clinvault"
    container_port: int = 8000
    # The uid/gid the image runs as; files on the shared volume belong to it.
    container_uid: int = 10001
    cpu: int = 1024
    memory_mib: int = 2048
    min_tasks: int = 2
    max_tasks: int = 8
    cpu_target_percent: int = 60
    requests_per_target: int = 500
    health_check_path: str = "/readyz"
    db_instance_class: str = "m6g.large"
    db_allocated_gib: int = 50
    db_max_allocated_gib: int = 500
    # RDS automated backups (point-in-time recovery window, at most 35 days).
    db_backup_days: int = 35
    # Daily AWS Backup recovery points of the database and the shared volume.
    backup_retention_days: int = 2192
    log_retention_days: int = 365
    access_log_retention_days: int = 2192
    # Noncurrent document versions (overwritten or deleted objects) are kept this long.
    noncurrent_version_days: int = 2192
    # Superseded versions of CSV ingest objects (orgs/*/ingest/...) go after this many days.
    ingest_noncurrent_days: int = 1
    # Current ingest objects expire after this many days; 0 keeps them (import jobs point
    # at them, and the reconcile job reports a missing one).
    ingest_expiry_days: int = 0
    cognito: bool = False
    tags: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TAGS))

    def __post_init__(self) -> None:
        if self.min_tasks < 2:
            raise ValueError("minTasks must be at least 2 (one task per availability zone)")
        if self.max_tasks < self.min_tasks:
            raise ValueError("maxTasks must be at least minTasks")
        if len(self.availability_zones) < 2:
            raise ValueError("availabilityZones needs at least two zones (Multi-AZ)")
        if not self.public_url.startswith("https://"):
            raise ValueError("publicUrl must be an https:// address")
        if "@" not in self.sender_address:
            raise ValueError("mailFrom must hold an address: 'name <user@domain>'")
        if "@" not in self.mail_identity and not self.sender_address.endswith(
            "@" + self.mail_identity
        ):
            raise ValueError(
                f"mailFrom {self.sender_address} is not in the SES identity domain "
                f"{self.mail_identity}: change mailIdentity or mailFrom"
            )
        if not all(self.tags.values()):
            raise ValueError("every required tag needs a non-empty value")

    @property
    def sender_address(self) -> str:
        """The bare address of mail_from ("name <address>" or "address")."""
        return self.mail_from.rpartition("<")[2].rstrip(">").strip()

    @classmethod
    def from_context(cls, get: Any) -> DeploySettings:
        """`get(name)` returns a context value or None (construct.node.try_get_context)."""
        values: dict[str, Any] = {}
        for name, f in cls.__dataclass_fields__.items():
            raw = get(_camel(name))
            if raw is None:
                continue
            values[name] = _coerce(name, raw, f.type)
        return cls(**values)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _coerce(name: str, raw: Any, kind: object) -> Any:
    text = str(kind)
    if isinstance(raw, str) and ("dict" in text or "tuple" in text):
        raw = json.loads(raw) if raw.startswith(("{", "[")) else raw.split(",")
    if "tuple" in text:
        return tuple(str(item) for item in raw)
    if "dict" in text:
        if not isinstance(raw, dict):
            raise ValueError(f"context {_camel(name)} must be a JSON object of tag names")
        return {str(k): str(v) for k, v in raw.items()}
    if text == "int":
        return int(raw)
    if text == "bool":
        return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
    return str(raw)
