"""Start-up step: give patients written before the search filters their filter tokens.

The tokens are keyed digests, so a migration (which holds no keys) cannot
compute them; the app computes them at start-up instead, in batches, for the
patients that have no gender token yet (every patient has a gender). It is
idempotent: once done it finds nothing. Two replicas starting together may
race on a batch; the loser's batch fails on the unique token index, rolls
back, and the next pass finds it done. A database that is down or not yet
migrated does not stop the start: the step is logged as skipped and runs at
the next start. A row that does not decrypt is logged by id and passed over.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog
from sqlalchemy.exc import DBAPIError, IntegrityError

from clinvault.bootstrap import Container
from clinvault.crypto.errors import IntegrityError as CipherIntegrityError
from clinvault.records.patients.repository import PatientRepository
from clinvault.records.patients.writer import tokens_of

log = structlog.get_logger(__name__)

BATCH = 500
MAX_RACES = 5


async def backfill_filter_tokens(container: Container, *, batch: int = BATCH) -> int:
    """Write the search tokens of every patient lacking filter tokens; returns how many."""
    after: uuid.UUID | None = None
    written = 0
    races = 0
    while True:
        try:
            async with container.db.unit_of_work() as session:
                repository = PatientRepository(session)
                ids = await repository.without_filter_tokens(after=after, limit=batch)
                written += await _tokenize(container, repository, ids)
        except IntegrityError:
            races += 1
            if races > MAX_RACES:
                raise
            continue
        if not ids:
            break
        after = ids[-1]
    if written:
        log.info("records.patient.filter_tokens_backfilled", patients=written)
    return written


async def _tokenize(
    container: Container, repository: PatientRepository, ids: Sequence[uuid.UUID]
) -> int:
    """Tokens for the patients of `ids`; a row that does not decrypt under this keyring
    (tampered, or written under other keys) is named in the log and left as it is."""
    try:
        patients = await repository.patients_global(ids)
    except CipherIntegrityError:
        patients = []
        for patient_id in ids:
            try:
                patients.extend(await repository.patients_global([patient_id]))
            except CipherIntegrityError:
                log.error("records.patient.undecryptable", patient_id=str(patient_id))
    for patient in patients:
        await repository.replace_tokens(patient, tokens_of(container.blind_index, patient))
    return len(patients)


async def backfill_at_startup(container: Container) -> None:
    try:
        await backfill_filter_tokens(container)
    except (DBAPIError, OSError) as exc:
        log.warning("records.patient.filter_tokens_backfill_skipped", error=type(exc).__name__)
