"""The patient's chart as a printable PDF (reportlab): demographics, appointments, records.

Text is escaped before it reaches reportlab's markup; the PDF carries no
JavaScript, forms or embedded files.
"""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from clinvault.records.export.schemas import ChartExport, outcome


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def render(chart: ChartExport, now: datetime) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title="My health record",
        author="clinvault",
    )
    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Italic"]

    def text(value: str, style: object = body) -> Paragraph:
        return Paragraph(escape(value).replace("\n", "<br/>"), style)

    patient = chart.patient
    story: list[object] = [
        Paragraph("My health record", styles["Title"]),
        text(f"Exported {_when(now)}. Keep this document private.", small),
        Spacer(1, 4 * mm),
        Paragraph("About me", styles["Heading2"]),
    ]
    facts = [
        ("Name", f"{patient.first_name} {patient.last_name}"),
        ("Medical record number", patient.mrn),
        (
            "Date of birth",
            patient.date_of_birth.isoformat() if patient.date_of_birth else "unknown",
        ),
        ("Gender", patient.gender),
        ("Phone", patient.phone or "-"),
        ("Email", patient.email or "-"),
        ("Address", patient.address or "-"),
        ("Blood type", patient.blood_type or "Unknown"),
        ("Allergies", patient.allergies or "None recorded"),
        ("Emergency contact", patient.emergency_contact or "-"),
    ]
    story.append(_table([[text(k), text(v)] for k, v in facts], (50 * mm, 120 * mm)))
    story.append(Paragraph("Appointments", styles["Heading2"]))
    if chart.appointments:
        rows = [[text("When"), text("With"), text("Reason"), text("Outcome")]]
        for item in sorted(chart.appointments, key=lambda a: a.starts_at, reverse=True):
            rows.append(
                [
                    text(_when(item.starts_at)),
                    text(chart.practitioner_name(item.practitioner_id)),
                    text(item.reason or "-"),
                    text(outcome(item, now, patient.user_id)),
                ]
            )
        story.append(_table(rows, (38 * mm, 40 * mm, 55 * mm, 41 * mm), header=True))
    else:
        story.append(text("No appointments."))
    story.append(Paragraph("Medical records", styles["Heading2"]))
    if not chart.records:
        story.append(text("No records yet."))
    for record in sorted(chart.records, key=lambda r: r.recorded_at, reverse=True):
        by = (
            f" by {chart.practitioner_name(record.author_id)}"
            if record.author_id is not None
            else ""
        )
        version = f", version {record.version}" if record.version > 1 else ""
        superseded = " (replaced by a later version)" if record.superseded_by else ""
        story.append(Paragraph(escape(record.title), styles["Heading3"]))
        story.append(
            text(
                f"{_when(record.recorded_at)} - {record.record_type.replace('_', ' ')}"
                f" - priority {record.priority}{version}{by}{superseded}",
                small,
            )
        )
        story.append(text(record.content))
    if not chart.complete:
        story.append(text("This export was cut at its size limit: ask the clinic for the rest."))
    document.build(story)
    return buffer.getvalue()


def _table(rows: list[list[Paragraph]], widths: tuple[float, ...], header: bool = False) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey))
    table.setStyle(TableStyle(style))
    return table
