"""Exports of the tracking screens: the search results and the Liste fiscale as CSV (streamed,
through services.csv_export: UTF-8 with BOM, « ; », formulas neutralised, French amounts), the
selected mémoires' PDFs as one ZIP (services.pdf), and the Liste fiscale as PDF (fpdf2).
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from models import Memoire
from services import csv_export, formatting, pdf
from services.search import Row

MAX_ZIP_MEMOIRES = 100
MAX_FISCAL_PDF_ROWS = 5000

SEARCH_HEADER = [
    "Numéro de mémoire", "Numéro de facture", "Prestataire", "Date prestataire",
    "Date de l'état courant", "Texte de référence", "Juridiction", "Engagement juridique",
    "Montant TTC", "MT modifié", "Autres montants", "État courant",
]
FISCAL_HEADER = [
    "Numéro de mémoire", "Numéro de facture", "Prestataire", "Juridiction", "Date de dépôt",
    "Date de l'état courant", "État courant", "Montant TTC", "Montant retenu",
]


def search_row(row: Row) -> list[str]:
    return [
        row.numero, row.numero_facture or "", row.prestataire, formatting.day(row.date_prestataire),
        formatting.day(row.status_changed_at), row.texte, row.juridiction,
        row.engagement_juridique or "", formatting.amount(row.total_ttc),
        formatting.amount(row.montant_retenu) if row.amount_modified else "",
        "Oui" if row.autres_montants else "Non", row.status_label,
    ]


def search_csv(rows: Iterable[Row]) -> Iterator[bytes]:
    return csv_export.iter_csv(SEARCH_HEADER, (search_row(r) for r in rows))


def fiscal_row(row: Row) -> list[str]:
    retenu = row.montant_retenu if row.montant_retenu is not None else row.total_ttc
    return [
        row.numero, row.numero_facture or "", row.prestataire, row.juridiction,
        formatting.day(row.date_prestataire), formatting.day(row.status_changed_at),
        row.status_label, formatting.amount(row.total_ttc), formatting.amount(retenu),
    ]


def fiscal_csv(rows: Iterable[Row]) -> Iterator[bytes]:
    return csv_export.iter_csv(FISCAL_HEADER, (fiscal_row(r) for r in rows))


def zip_name(memoire: Memoire) -> str:
    return f"memoire-{memoire.numero}.pdf"


def pdf_zip(memoires: list[Memoire]) -> bytes:
    """One ZIP with the PDF of each mémoire (B's services.pdf.memoire_pdf)."""
    if len(memoires) > MAX_ZIP_MEMOIRES:
        raise ValueError(f"Sélectionnez au plus {MAX_ZIP_MEMOIRES} mémoires à télécharger.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for memoire in memoires:
            archive.writestr(zip_name(memoire), pdf.memoire_pdf(memoire))
    return buffer.getvalue()


def fiscal_pdf(structure_label: str, du: date, au: date, rows: Iterable[Row],
               total: Decimal) -> bytes:
    """« Liste fiscale » of a structure: mémoires « Mis en paiement » over the period."""
    document = pdf.Document(f"Liste fiscale {structure_label}")
    document.heading("Liste fiscale", 16)
    document.pairs([
        ("Structure", structure_label),
        ("État du mémoire", "Mis en paiement"),
        ("Date de l'état courant", f"du {formatting.day(du)} au {formatting.day(au)}"),
        ("Montant total mis en paiement", f"{formatting.amount(total)} €"),
    ])
    document.ln(2)
    table_rows = []
    for count, row in enumerate(rows):
        if count >= MAX_FISCAL_PDF_ROWS:
            document.paragraph(f"Liste limitée aux {MAX_FISCAL_PDF_ROWS} premiers mémoires : "
                               "utilisez l'export CSV pour la liste complète.", 9, "I")
            break
        values = fiscal_row(row)
        table_rows.append([values[0], values[1], values[3], values[4], values[5], values[7],
                           values[8]])
    if table_rows:
        document.table(["N° mémoire", "N° facture", "Juridiction", "Date de dépôt",
                        "Mis en paiement le", "Montant TTC", "Montant retenu"],
                       table_rows, [28, 24, 44, 22, 24, 24, 24])
    else:
        document.paragraph("Aucun mémoire mis en paiement sur cette période.")
    return bytes(document.output())
