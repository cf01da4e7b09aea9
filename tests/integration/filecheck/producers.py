"""Ordinary PDFs as real programs write them, made at test time.

Each producer returns a list of (name, bytes). A producer whose program is missing
calls service_missing (a skip locally, a failure in CI).
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from PIL import Image
from tests.conftest import service_missing

Producer = Callable[[Path], list[tuple[str, bytes]]]

_TEXT = "Medical license No. 12345. Issued 2024-01-02 by the State Board of Medicine."


def _save(pdf: pikepdf.Pdf, **options: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **options)  # type: ignore[arg-type]
    return out.getvalue()


def _page(pdf: pikepdf.Pdf) -> pikepdf.Page:
    page = pdf.add_blank_page(page_size=(612, 792))
    page.Contents = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (Medical license) Tj ET")
    page.Resources = Dictionary(
        Font=Dictionary(F1=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    )
    return page


def pikepdf_documents(_: Path) -> list[tuple[str, bytes]]:
    documents: list[tuple[str, bytes]] = []

    pdf = pikepdf.new()
    first = _page(pdf)
    _page(pdf)
    pdf.Root.OpenAction = Array([first.obj, Name.FitH, 792])
    documents.append(("open-action-fit-width", _save(pdf)))

    pdf = pikepdf.new()
    _page(pdf)
    pdf.Root.OpenAction = Dictionary(S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit]))
    pdf.pages[0].AA = Dictionary(
        O=Dictionary(S=Name.Named, N=Name.FirstPage),
    )
    documents.append(("open-action-goto-and-named-page-action", _save(pdf)))

    pdf = pikepdf.new()
    _page(pdf)
    blank = pdf.add_blank_page(page_size=(612, 792))
    del blank.obj.Resources
    documents.append(("page-without-resources", _save(pdf)))
    documents.append(
        (
            "page-without-resources-object-streams",
            _save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate),
        )
    )

    pdf = pikepdf.new()
    for _ in range(5):
        _page(pdf)
    documents.append(
        ("object-streams", _save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate))
    )
    documents.append(("linearized", _save(pdf, linearize=True)))
    documents.append(("qdf-uncompressed", _save(pdf, qdf=True, compress_streams=False)))

    pdf = pikepdf.new()
    page = _page(pdf)
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([72, 700, 300, 720]),
        A=Dictionary(S=Name.URI, URI=String("https://board.example/verify")),
    )
    page.Annots = Array([pdf.make_indirect(link)])
    destination = Array([page.obj, Name.Fit])
    outline = pdf.make_indirect(Dictionary(Title=String("Page 1"), Dest=destination))
    pdf.Root.Outlines = pdf.make_indirect(
        Dictionary(Type=Name.Outlines, First=outline, Last=outline, Count=1)
    )
    outline.Parent = pdf.Root.Outlines
    documents.append(("link-and-outline", _save(pdf)))

    base = _save(_single_page_pdf())
    documents.append(("incremental-update", incremental_update(base)))
    documents.append(("two-incremental-updates", incremental_update(incremental_update(base))))
    return documents


def _single_page_pdf() -> pikepdf.Pdf:
    pdf = pikepdf.new()
    _page(pdf)
    return pdf


def incremental_update(data: bytes) -> bytes:
    """Appends a real revision, as a reader's "save" does: the Info dictionary and a
    new page-content object rewritten after the end, a cross-reference section for
    them, and a trailer whose /Prev points at the previous section."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        size = int(pdf.trailer.Size)
        root = pdf.trailer.Root.objgen
    previous = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    body = bytearray(data)
    if not body.endswith(b"\n"):
        body += b"\n"
    info_number = size
    info_offset = len(body)
    body += (
        f"{info_number} 0 obj\n<< /Producer (incremental writer) "
        f"/ModDate (D:2024010203040{size % 10}Z) >>\nendobj\n"
    ).encode()
    note = zlib.compress(b"% revision note\n")
    note_number = size + 1
    note_offset = len(body)
    body += (
        f"{note_number} 0 obj\n<< /Length {len(note)} /Filter /FlateDecode >>\nstream\n"
    ).encode()
    body += note + b"\nendstream\nendobj\n"
    xref = len(body)
    body += f"xref\n0 1\n0000000000 65535 f \n{info_number} 2\n".encode()
    body += f"{info_offset:010d} 00000 n \n{note_offset:010d} 00000 n \n".encode()
    body += (
        f"trailer\n<< /Size {size + 2} /Root {root[0]} {root[1]} R /Info {info_number} 0 R "
        f"/Prev {previous} >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(body)


def pillow_documents(_: Path) -> list[tuple[str, bytes]]:
    out = io.BytesIO()
    Image.new("RGB", (850, 1100), (250, 250, 245)).save(out, "PDF", resolution=100.0)
    pages = io.BytesIO()
    frames = [Image.new("L", (600, 800), shade) for shade in (255, 200, 150)]
    frames[0].save(pages, "PDF", save_all=True, append_images=frames[1:], resolution=72.0)
    return [("scan", out.getvalue()), ("three-grey-pages", pages.getvalue())]


def reportlab_documents(_: Path) -> list[tuple[str, bytes]]:
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.pdfgen import canvas
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    plain = io.BytesIO()
    drawing = canvas.Canvas(plain, pagesize=letter)
    drawing.drawString(72, 720, _TEXT)
    drawing.rect(72, 600, 200, 80)
    drawing.bookmarkPage("first")
    drawing.addOutlineEntry("First page", "first")
    drawing.showPage()
    drawing.drawString(72, 720, "Second page")
    drawing.showPage()
    drawing.save()

    flowing = io.BytesIO()
    styles = getSampleStyleSheet()
    story = [Paragraph(_TEXT * 8, styles["Normal"]) for _ in range(40)]
    SimpleDocTemplate(flowing, pagesize=A4, title="Curriculum vitae").build(story)
    return [("canvas-with-outline", plain.getvalue()), ("platypus-multi-page", flowing.getvalue())]


def fpdf_documents(_: Path) -> list[tuple[str, bytes]]:
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.multi_cell(0, 10, _TEXT * 5)
    document.add_page()
    document.cell(0, 10, "Board certification", link="https://board.example/")
    return [("text-and-link", bytes(document.output()))]


def img2pdf_documents(_: Path) -> list[tuple[str, bytes]]:
    import img2pdf

    jpeg = io.BytesIO()
    Image.new("RGB", (1275, 1650), (240, 240, 235)).save(jpeg, "JPEG", quality=80)
    png = io.BytesIO()
    Image.new("L", (800, 1000), 230).save(png, "PNG")
    converted = img2pdf.convert([jpeg.getvalue(), png.getvalue()])
    assert isinstance(converted, bytes)
    return [("jpeg-and-png-pages", converted)]


def ghostscript_documents(tmp_path: Path) -> list[tuple[str, bytes]]:
    binary = shutil.which("gs")
    if binary is None:
        service_missing("Ghostscript is not installed (Debian package ghostscript)")
    assert binary is not None
    program = (
        "/Helvetica findfont 14 scalefont setfont "
        f"72 720 moveto ({_TEXT}) show 72 600 200 80 rectstroke showpage "
        "72 720 moveto (Page two) show showpage"
    )
    documents: list[tuple[str, bytes]] = []
    for label, options in (
        ("pdfwrite", []),
        ("pdfwrite-1.4", ["-dCompatibilityLevel=1.4"]),
        ("pdfwrite-printer", ["-dPDFSETTINGS=/printer"]),
    ):
        target = tmp_path / f"gs-{label}.pdf"
        subprocess.run(
            [
                *(binary, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite"),
                *options,
                *(f"-sOutputFile={target}", "-c", program),
            ],
            check=True,
            timeout=120,
        )
        documents.append((label, target.read_bytes()))
    return documents


def libreoffice_convert(tmp_path: Path, target: str) -> bytes:
    """A letter typed as text, converted by LibreOffice Writer to `target` (pdf, docx)."""
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        service_missing("LibreOffice is not installed (Debian package libreoffice-writer-nogui)")
    assert binary is not None
    source = tmp_path / "letter.txt"
    source.write_text("\n".join([_TEXT] * 60))
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            *(binary, f"-env:UserInstallation=file://{profile}", "--headless"),
            *("--convert-to", target, "--outdir", str(tmp_path), str(source)),
        ],
        check=True,
        timeout=300,
        capture_output=True,
    )
    return (tmp_path / f"letter.{target}").read_bytes()


def libreoffice_documents(tmp_path: Path) -> list[tuple[str, bytes]]:
    return [("writer-export", libreoffice_convert(tmp_path, "pdf"))]


def chromium_documents(_: Path) -> list[tuple[str, bytes]]:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        service_missing("Chromium is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    html = (
        "<!doctype html><html><head><title>CV</title></head><body>"
        "<h1>Curriculum vitae</h1>"
        + "".join(f"<p>{_TEXT}</p>" for _ in range(80))
        + '<p><a href="https://board.example/">Board</a></p>'
        "<svg width='200' height='100'><rect width='200' height='100' fill='#3a6'/></svg>"
        "</body></html>"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium))
        try:
            page = browser.new_page()
            page.set_content(html)
            printed = page.pdf(format="A4", print_background=True)
            outlined = page.pdf(format="Letter", outline=True, tagged=True)
        finally:
            browser.close()
    return [("print-to-pdf", printed), ("print-to-pdf-tagged-outline", outlined)]


PRODUCERS: dict[str, Producer] = {
    "pikepdf": pikepdf_documents,
    "pillow": pillow_documents,
    "reportlab": reportlab_documents,
    "fpdf2": fpdf_documents,
    "img2pdf": img2pdf_documents,
    "ghostscript": ghostscript_documents,
    "libreoffice": libreoffice_documents,
    "chromium": chromium_documents,
}
