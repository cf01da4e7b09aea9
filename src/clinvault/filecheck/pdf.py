"""PDF checks with pikepdf (qpdf): intact, unencrypted, inert, bounded, nothing else inside.

What counts, in one place:
- Layout: every byte belongs to the PDF's syntax (objects, cross-reference sections,
  trailers, short comments) and nothing follows the last section: no polyglots.
- Damage: qpdf's warnings are graded. Harmless repairs a reader makes silently (a page
  without /Resources) pass; anything else (a broken cross-reference table, a
  truncated file, objects qpdf had to guess) is structural damage and is refused.
- Active content: what runs, fetches, submits or carries files is refused (JavaScript,
  Launch, SubmitForm, ImportData, embedded files, RichMedia, XFA), and so is any
  automatic action (on open, or in /AA) other than navigation. Navigation (an
  /OpenAction destination such as "page 1, fit width", GoTo, Named next/previous
  page) and links a person clicks are inert.
- Size: every stream's decoded size and every image's pixels are bounded
  (pdf_streams).
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

import pikepdf

from clinvault.filecheck import pdf_layout, pdf_streams
from clinvault.filecheck.model import FilePolicy, Findings

# Keys whose presence means the document carries scripts, files or multimedia.
_ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/EmbeddedFiles",
        "/EmbeddedFile",
        "/EF",
        "/XFA",
        "/RichMedia",
        "/RichMediaContent",
        "/RichMediaExecute",
    }
)
# Action and annotation types that execute, fetch, submit or play something wherever
# they are, even behind a click.
_ACTIVE_TYPES = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/ImportData",
        "/SubmitForm",
        "/GoToE",
        "/Rendition",
        "/Movie",
        "/Sound",
        "/Screen",
        "/3D",
        "/RichMedia",
        "/RichMediaExecute",
        "/FileAttachment",
        "/EmbeddedFile",
    }
)
_TYPE_KEYS = ("/S", "/Subtype", "/Type")
# What may happen by itself (on open, or as an additional action): navigation only.
_NAVIGATION_NAMES = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
_MAX_ACTION_CHAIN = 64
_PDF_HEADER = b"%PDF-"
# Repairs a reader makes silently and that change nothing a person sees: a page that
# lacks /Resources (many writers omit it for pages without fonts or images).
_HARMLESS_WARNINGS = (re.compile(r"Resources is missing or invalid; repairing"),)

DAMAGED = (
    "The PDF is damaged and could only be read after repairing it. Open it in a PDF "
    "reader, save or print it to a new PDF, and upload that file."
)
ENCRYPTED = (
    "The PDF is encrypted or password-protected. Remove the password (save an "
    "unprotected copy) and upload that file."
)
ACTIVE_CONTENT = (
    "The PDF contains active content (scripts, actions that run or open something, "
    "embedded files, forms or multimedia). Print it to a new PDF or re-scan the paper "
    "document and upload that."
)
TRAILING = (
    "The file has extra data after the end of the PDF. Save or print it to a new PDF "
    "and upload that file."
)
UNACCOUNTED = (
    "The file has data between the parts of the PDF that does not belong to the PDF. "
    "Save or print it to a new PDF and upload that file."
)
BOMB = (
    "The PDF contains an image or data stream that expands to far more than its size "
    "suggests. Print it to a new PDF or re-scan the paper document at 300 dpi and "
    "upload that file."
)
LEADING = (
    "The file has extra data before the start of the PDF. Save or print it to a new PDF "
    "and upload that file."
)
NO_PAGES = "The PDF has no pages. Upload the complete document."


def check_pdf(path: Path, policy: FilePolicy, findings: Findings) -> None:
    # Mapped, not read: the layout walk and the ZIP probe touch the file's syntax and
    # its last kilobytes, never the data of its large streams (images), which stay out
    # of this process's memory. inspect_file refuses an empty file before this.
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        _check_mapped_pdf(path, data, policy, findings)


def _check_mapped_pdf(path: Path, data: mmap.mmap, policy: FilePolicy, findings: Findings) -> None:
    if not _has_pdf_header(data):
        findings.add("leading_data", LEADING)
    try:
        pdf = pikepdf.open(path, attempt_recovery=False, inherit_page_attributes=False)
    except pikepdf.PasswordError:
        _check_layout(data, None, findings)
        findings.add("pdf_encrypted", ENCRYPTED)
        return
    except (pikepdf.PdfError, ValueError, RecursionError):
        _check_layout(data, None, findings, damaged=True)
        findings.add("pdf_repaired", DAMAGED)
        return
    with pdf:
        _check_layout(data, pdf, findings)
        if pdf.is_encrypted:
            findings.add("pdf_encrypted", ENCRYPTED)
        try:
            active = _has_active_content(pdf)
            page_count = len(pdf.pages)
        except (pikepdf.PdfError, ValueError, RecursionError):
            findings.add("pdf_repaired", DAMAGED)
            return
        if not pdf.is_encrypted:
            _check_streams(pdf, policy, findings)
        if any(_is_damage(warning) for warning in pdf.get_warnings()):
            findings.add("pdf_repaired", DAMAGED)
        if active:
            findings.add("pdf_active_content", ACTIVE_CONTENT)
        if page_count == 0:
            findings.add("pdf_no_pages", NO_PAGES)


def _check_streams(pdf: pikepdf.Pdf, policy: FilePolicy, findings: Findings) -> None:
    budget = pdf_streams.Budget(policy.pdf_max_image_pixels, policy.pdf_max_decoded_bytes)
    try:
        pdf_streams.check_streams(pdf, budget)
    except pdf_streams.TooLarge:
        findings.add("pdf_decompression_bomb", BOMB)
    except (pikepdf.PdfError, ValueError, RecursionError):
        findings.add("pdf_repaired", DAMAGED)


def _is_damage(warning: str) -> bool:
    return not any(pattern.search(warning) for pattern in _HARMLESS_WARNINGS)


def _has_pdf_header(data: pdf_layout.PdfBytes) -> bool:
    return data[: len(_PDF_HEADER)] == _PDF_HEADER


def _check_layout(
    data: pdf_layout.PdfBytes,
    pdf: pikepdf.Pdf | None,
    findings: Findings,
    *,
    damaged: bool = False,
) -> None:
    """Polyglots: a ZIP reader would open the file, or some bytes belong to no part of
    the PDF. A file qpdf cannot open at all is damaged; then only data after its last
    %%EOF (an appended file) is reported besides."""

    def resolve_length(number: int, generation: int) -> int | None:
        if pdf is None:
            return None
        try:
            value = pdf.get_object((number, generation))
        except (pikepdf.PdfError, ValueError):
            return None
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    try:
        pdf_layout.walk(data, resolve_length)
    except pdf_layout.LayoutError as error:
        if error.offset == 0 and not _has_pdf_header(data):
            return  # reported as leading data
        if error.trailing:
            findings.add("trailing_data", TRAILING)
        elif not damaged:
            findings.add("pdf_unaccounted_data", UNACCOUNTED)
        return
    if pdf_layout.opens_as_zip(data):
        # Hidden inside an object (an unreferenced stream) where a ZIP reader finds it.
        findings.add("pdf_unaccounted_data", UNACCOUNTED)


def _has_active_content(pdf: pikepdf.Pdf) -> bool:
    """Walk every object in the file, including those packed in object streams and
    those nothing references, and every direct object nested inside them."""
    pending: list[object] = [pdf.trailer]
    pending.extend(pdf.objects)
    while pending:
        obj = pending.pop()
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            if _is_active_dictionary(obj):
                return True
            pending.extend(value for _, value in obj.items() if _is_direct_container(value))
        elif isinstance(obj, pikepdf.Array):
            pending.extend(value for value in obj if _is_direct_container(value))
    return False


def _is_direct_container(value: object) -> bool:
    # Indirect objects are visited on their own from pdf.objects; scalars hold nothing.
    return isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect


def _is_active_dictionary(obj: pikepdf.Dictionary) -> bool:
    keys = set(obj.keys())
    if keys & _ACTIVE_KEYS:
        return True
    for key in _TYPE_KEYS:
        if key in keys:
            value = obj[key]
            if isinstance(value, pikepdf.Name) and str(value) in _ACTIVE_TYPES:
                return True
    if "/OpenAction" in keys and not _only_navigates(obj["/OpenAction"]):
        return True
    if "/AA" in keys:
        triggers = obj["/AA"]
        if not isinstance(triggers, pikepdf.Dictionary):
            return True
        return not all(_only_navigates(action) for _, action in triggers.items())
    return False


def _only_navigates(action: object) -> bool:
    """An automatic action that only moves the view: a destination (an explicit array
    or a named one), GoTo, or a Named next/previous/first/last page, each followed by
    other such actions through /Next."""
    chain = [action]
    seen = 0
    while chain:
        seen += 1
        if seen > _MAX_ACTION_CHAIN:
            return False
        current = chain.pop()
        if isinstance(current, pikepdf.Array | pikepdf.Name | pikepdf.String | str | bytes):
            continue
        if not isinstance(current, pikepdf.Dictionary):
            return False
        kind = current.get("/S")
        if kind == pikepdf.Name.GoTo:
            pass
        elif kind == pikepdf.Name.Named:
            if str(current.get("/N")) not in _NAVIGATION_NAMES:
                return False
        else:
            return False
        following = current.get("/Next")
        if isinstance(following, pikepdf.Array):
            chain.extend(following)
        elif isinstance(following, pikepdf.Dictionary):
            chain.append(following)
    return True
