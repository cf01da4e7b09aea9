"""The composition root: builds every adapter from Settings, nothing else does."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog

from clinvault.audit.group_commit import AuditGroupCommit
from clinvault.audit.recorder import AuditRecorder
from clinvault.config import Settings
from clinvault.crypto.blind_index import BlindIndexer
from clinvault.crypto.factory import open_key_provider
from clinvault.crypto.field_cipher import AesGcmFieldCipher
from clinvault.crypto.fields import install_field_cipher
from clinvault.crypto.ports import KeyProvider
from clinvault.db import Database, create_engine
from clinvault.filecheck import FileCheckPool, VirusScanner, open_scanner
from clinvault.logs import configure_logging
from clinvault.mail.factory import open_mailer
from clinvault.mail.ports import Mailer
from clinvault.notifications.rendering import MailRenderer
from clinvault.storage.factory import open_storage
from clinvault.storage.objects import EncryptedObjectStore
from clinvault.storage.ports import ObjectStorage
from clinvault.storage.spool import spool_root
from clinvault.storage.spool import sweep as sweep_spool

log = structlog.get_logger(__name__)


@dataclass
class Container:
    """Everything a request, a workflow step or a command needs, built once."""

    settings: Settings
    db: Database
    keys: KeyProvider
    storage: ObjectStorage
    objects: EncryptedObjectStore
    mailer: Mailer
    renderer: MailRenderer
    blind_index: BlindIndexer
    audit: AuditRecorder
    scanner: VirusScanner | None = None
    audit_log: AuditGroupCommit = field(init=False)
    file_checks: FileCheckPool = field(init=False)

    def __post_init__(self) -> None:
        self.audit_log = AuditGroupCommit(self.db)
        self.file_checks = FileCheckPool(self.settings.file_check_threads, self.scanner)

    async def close(self) -> None:
        await self.audit_log.drain()
        await self.db.dispose()
        self.file_checks.close()


def build_container(settings: Settings) -> Container:
    configure_logging(settings.log_level, json=settings.log_json)
    settings.home.mkdir(parents=True, exist_ok=True)
    # Uploads that processes since ended left in the spool (sealed, unreadable) go now.
    sweep_spool(spool_root(settings))
    keys = open_key_provider(settings.keys_url, wrapped_keyring=settings.kms_wrapped_keyring_path)
    install_field_cipher(AesGcmFieldCipher(keys))
    storage = open_storage(
        settings.storage_url,
        s3_endpoint_url=settings.s3_endpoint_url,
        sse_kms_key_id=settings.s3_sse_kms_key_id,
        server_side_encryption=(
            None
            if settings.s3_server_side_encryption == "none"
            else settings.s3_server_side_encryption
        ),
    )
    mailer = open_mailer(
        settings.mail_url,
        sender=settings.mail_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        ca_file=settings.smtp_ca_file,
        ses_configuration_set=settings.ses_configuration_set,
    )
    container = Container(
        settings=settings,
        db=Database(create_engine(settings), settings),
        keys=keys,
        storage=storage,
        objects=EncryptedObjectStore(storage, keys),
        mailer=mailer,
        renderer=MailRenderer(),
        blind_index=BlindIndexer(keys),
        audit=AuditRecorder(keys.derive("audit")),
        scanner=open_scanner(settings.virus_scan_url),
    )
    log.info(
        "clinvault.container.built",
        env=settings.env,
        database=container.db.dialect,
        virus_scan=getattr(container.scanner, "address", None) or "off",
    )
    return container
