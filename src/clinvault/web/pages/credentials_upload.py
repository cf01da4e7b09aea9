"""The `Upload documents` page: showing the form, checking it, keeping work between tries.

A refused submission never costs the practitioner their work: the page comes
back with every typed value, each problem next to its field, all problems at
once; the files that were fine are held for them (encrypted, for an hour,
theirs only: `clinvault.credentials.held`) and shown as "File kept", so only
a refused row needs a new file. Sending the form again uses the held files as
if they had just been chosen; a successful submission forgets them.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from clinvault.bootstrap import Container
from clinvault.credentials.held.service import HeldUploadService, parse_ids
from clinvault.credentials.service import CredentialService
from clinvault.credentials.submission_service import SubmissionService
from clinvault.errors import (
    CredentialFilesRejected,
    CredentialMetadataInvalid,
    PractitionerProfileRequired,
)
from clinvault.filecheck.filenames import sanitize_filename
from clinvault.identity.principal import Principal
from clinvault.timeutil import utcnow
from clinvault.web.pages.common import discard_changes, see_other
from clinvault.web.pages.credentials_checks import (
    category_rules,
    check_file,
    check_rows,
    place_problems,
    size_text,
)
from clinvault.web.pages.credentials_form import FormRow, UploadForm
from clinvault.web.render import render

HELD_EXPIRED = "The file kept from your last try is no longer available: choose it again."


async def upload_page(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    rows: list[FormRow],
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    policy = container.settings.credentials
    categories = await CredentialService(session, container).categories(principal)
    data: dict[str, Any] = {
        "rows": rows,
        "categories": categories,
        "rules": category_rules(categories),
        "error": error,
        "notice": notice,
        "max_rows": policy.max_files,
        "max_file_bytes": policy.max_file_bytes,
        "max_total_bytes": policy.max_submission_bytes,
        "max_file_text": size_text(policy.max_file_bytes),
        "max_total_text": size_text(policy.max_submission_bytes),
        "next_rows": min(len(rows) + 1, policy.max_files),
        "today": utcnow().date().isoformat(),
        "size_text": size_text,
    }
    return render(
        request, "credentials_upload.html", data, principal=principal, status_code=status_code
    )


def too_large_message(container: Container) -> str:
    policy = container.settings.credentials
    return (
        f"What you sent is larger than the {size_text(policy.max_submission_bytes)} limit of "
        "one submission, so nothing was stored and the form could not be kept. Send fewer "
        f"documents at once (each file at most {size_text(policy.max_file_bytes)})."
    )


async def _attach_held(
    service: HeldUploadService, principal: Principal, rows: list[FormRow]
) -> list[uuid.UUID]:
    """Give each row the held file it names, if it is still this user's.

    Returns the held files to forget (removed, or replaced by a new file): the caller
    forgets them last, after any rollback of a refused submission."""
    named = {row.position: parse_ids([row.value("held")]) for row in rows if row.value("held")}
    ids = [held_id for found in named.values() for held_id in found]
    owned = await service.owned(principal, ids)
    released: list[uuid.UUID] = []
    for row in rows:
        found = named.get(row.position)
        if not found:
            continue
        held = owned.get(found[0])
        if row.value("remove_held") or row.has_file or row.too_large:
            released.extend(found)
        elif held is None:
            row.refuse("file", HELD_EXPIRED)
        else:
            row.held = held
    return released


async def _hold_files(
    service: HeldUploadService, principal: Principal, rows: list[FormRow]
) -> None:
    """Hold each newly sent file that is fine; drop a held one that was refused."""
    for row in rows:
        refused = "file" in row.field_errors
        if row.held is not None and refused:
            await service.release(principal, [row.held.id])
            row.held = None
        elif row.held is None and row.spooled is not None and not refused:
            name = sanitize_filename(row.filename) or "document"
            row.held = await service.hold(principal, name, row.spooled)


async def _restore_held(
    service: HeldUploadService, principal: Principal, rows: list[FormRow], form: UploadForm
) -> bool:
    """Read each row's held file back into the form's spool; False if one is gone."""
    complete = True
    for row in rows:
        if row.held is None or row.has_file:
            continue
        restored = await service.restore(principal, row.held.id, form.directory)
        if restored is None:
            row.held = None
            row.refuse("file", HELD_EXPIRED)
            complete = False
            continue
        held, row.spooled = restored
        row.filename = held.filename
    return complete


async def _check_files(
    submissions: SubmissionService, principal: Principal, rows: list[FormRow], form: UploadForm
) -> None:
    """Only the files' own problems, for a form sent to add a row (its fields may be unfinished)."""
    for row in rows:
        if row.too_large:
            check_file(row, None, submissions.intake.policy.max_file_bytes)
    sent = [row for row in rows if row.has_file]
    try:
        if sent:
            await submissions.intake.check(principal, form.as_upload(sent))
    except CredentialFilesRejected as error:
        _place(sent, error)
    except CredentialMetadataInvalid:
        pass
    for row in sent:
        row.field_errors = {k: v for k, v in row.field_errors.items() if k == "file"}


def _place(rows: list[FormRow], error: CredentialFilesRejected) -> None:
    """The service's problems of each file, next to the fields of its row."""
    by_file = {item.get("file"): item.get("problems", []) for item in error.errors or []}
    for index, row in enumerate(rows):
        place_problems(row, by_file.get(index, []))


def _summary(rows: list[FormRow]) -> str:
    problems = sum(len(row.field_errors) + len(row.errors) for row in rows)
    kept = sum(1 for row in rows if row.held is not None)
    text = (
        f"Nothing was stored yet: {problems} problem{'s' if problems != 1 else ''} to correct, "
        "each shown next to its field."
    )
    if kept:
        text += (
            f" {kept} file{'s are' if kept != 1 else ' is'} kept for an hour: you do not need "
            "to choose them again."
        )
    return text


async def submit_form(
    request: Request,
    session: AsyncSession,
    container: Container,
    principal: Principal,
    form: UploadForm,
) -> Response:
    submissions = SubmissionService(session, container)
    await submissions.intake.require_practitioner(principal)
    held = HeldUploadService(session, container)
    shown = form.ordered() or [FormRow(0)]
    forget = await _attach_held(held, principal, shown)
    filled = [row for row in shown if not row.is_blank]

    async def refused(error: str | None = None) -> Response:
        await _hold_files(held, principal, filled)
        await held.release(principal, forget)
        return await upload_page(
            request, session, container, principal, shown,
            error=error or _summary(shown), status_code=422,
        )  # fmt: skip

    if form.add_row:
        await _check_files(submissions, principal, filled, form)
        await _hold_files(held, principal, filled)
        await held.release(principal, forget)
        rows = [*shown, FormRow(max(row.position for row in shown) + 1)]
        limit = container.settings.credentials.max_files
        return await upload_page(request, session, container, principal, rows[:limit])
    if not filled:
        await held.release(principal, forget)
        return await upload_page(
            request, session, container, principal, shown,
            error="Choose at least one file and describe it.", status_code=422,
        )  # fmt: skip
    categories = await CredentialService(session, container).categories(principal)
    policy = container.settings.credentials
    today = utcnow().date()
    clean = check_rows(filled, category_rules(categories), today, policy.max_file_bytes)
    clean = await _restore_held(held, principal, filled, form) and clean
    if not clean:
        # The files are checked all the same, so that a bad one is never held as fine.
        sent = [row for row in filled if row.has_file and "file" not in row.field_errors]
        try:
            if sent:
                await submissions.intake.check(principal, form.as_upload(sent))
        except CredentialFilesRejected as error:
            _place(sent, error)
        except CredentialMetadataInvalid:
            pass
        return await refused()
    try:
        created = await submissions.submit(principal, form.as_upload(filled))
    except CredentialFilesRejected as error:
        await discard_changes(session)
        _place(filled, error)
        return await refused()
    except CredentialMetadataInvalid as error:
        await discard_changes(session)
        return await refused(error.detail)
    except PractitionerProfileRequired:
        await discard_changes(session)
        raise
    used = [row.held.id for row in filled if row.held is not None]
    await held.release(principal, [*used, *forget])
    return see_other(f"/credentials/submissions/{created.reference}?notice=submitted")
