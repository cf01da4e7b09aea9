"""The printable prescription: reportlab page with a QR code of the verification link.

The link is printed under the code as text, so a pharmacist can type it.
The PDF carries no JavaScript, no forms and no embedded files.
"""

from __future__ import annotations

import io

import segno
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from clinvault.prescriptions.schemas import PrescriptionRead

QR_SIZE = 45 * mm


def _qr_drawing(data: str, size: float) -> Drawing:
    qr = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    count = len(matrix) + 8  # four modules of quiet zone each side
    module = size / count
    drawing = Drawing(size, size)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                drawing.add(
                    Rect(
                        (x + 4) * module,
                        size - (y + 5) * module,
                        module,
                        module,
                        fillColor="black",
                        strokeColor=None,
                    )
                )
    return drawing


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        while len(paragraph) > width:
            cut = paragraph.rfind(" ", 0, width)
            cut = width if cut <= 0 else cut
            lines.append(paragraph[:cut])
            paragraph = paragraph[cut:].lstrip()
        lines.append(paragraph)
    return lines


def _quantity(value: float) -> str:
    return f"{value:g}"


def render(rx: PrescriptionRead, link: str | None) -> bytes:
    """One A4 page: prescriber, patient, medication, quantities, state, QR and link."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(f"Prescription {rx.number}")
    canvas.setAuthor("clinvault")
    height = A4[1]
    x, y = 20 * mm, height - 25 * mm

    def line(text: str, size: int = 11, bold: bool = False, gap: float = 6 * mm) -> None:
        nonlocal y
        canvas.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        canvas.drawString(x, y, text)
        y -= gap

    line(f"Prescription {rx.number}", 18, True, 9 * mm)
    line(f"Status: {rx.status} (fill: {rx.fill_status})")
    line(f"Prescriber: {rx.prescriber.name}   NPI: {rx.prescriber.npi or '-'}")
    if rx.schedule != "none":
        line(f"DEA: {rx.prescriber.dea_number or '-'}   Schedule {rx.schedule}")
    line(
        f"Patient: {rx.patient.first_name} {rx.patient.last_name}   "
        f"Born: {rx.patient.date_of_birth}"
    )
    line(f"Pharmacy: {rx.pharmacy.name}, {rx.pharmacy.city}", gap=9 * mm)
    line(f"{rx.medication} {rx.medication_strength} ({rx.dose_form})", 13, True)
    for text in _wrap(f"Directions: {rx.directions}", 90):
        line(text)
    line(
        f"Quantity: {_quantity(rx.quantity)} {rx.unit}   Days' supply: {rx.days_supply}   "
        f"Refills: {rx.refills_allowed}"
    )
    line(f"Substitution: {'allowed' if rx.substitution_allowed else 'not allowed'}")
    line(f"Valid until: {rx.valid_until.isoformat()}")
    if rx.earliest_fill_on:
        line(f"Do not fill before: {rx.earliest_fill_on.isoformat()}")
    line(f"Remaining to dispense: {_quantity(rx.remaining)} {rx.unit}", bold=True)
    if rx.signed_at:
        line(f"Signed: {rx.signed_at:%Y-%m-%d %H:%M} UTC")
    if link:
        drawing = _qr_drawing(link, QR_SIZE)
        top = 20 * mm + QR_SIZE
        renderPDF.draw(drawing, canvas, x, top - QR_SIZE + 8 * mm)
        canvas.setFont("Courier", 7)
        for index, part in enumerate(_wrap(link, 95)):
            canvas.drawString(x, 20 * mm - index * 3.5 * mm, part)
        canvas.setFont("Helvetica", 9)
        canvas.drawString(x + QR_SIZE + 5 * mm, top, "Pharmacist: scan or type the link to verify")
        canvas.drawString(x + QR_SIZE + 5 * mm, top - 5 * mm, "this prescription and what remains.")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
