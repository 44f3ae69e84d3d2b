"""services.exports: CSV rows (French amounts, formula injection), streaming, ZIP, fiscal PDF."""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from extensions import db
from models import Memoire
from services import csv_export, exports, lifecycle
from services.search import Row


def _row(**overrides) -> Row:
    values = {
        "id": 1, "numero_mj": "MJ0000000001", "numero_tmp": "TMP202500000001",
        "numero_facture": "=HYPERLINK(\"http://evil\")", "prestataire": "Société Évreux",
        "structure_id": 1, "date_prestataire": datetime(2025, 7, 19, 10),
        "status_changed_at": datetime(2025, 8, 1, 9), "texte": "Article R 92 CPP",
        "juridiction": "75 - Tribunal judiciaire de Paris", "engagement_juridique": None,
        "total_ttc": Decimal("1200.50"), "montant_retenu": Decimal("1164.50"),
        "autres_montants": True, "status": lifecycle.MIS_EN_PAIEMENT, "court_step": None,
    }
    values.update(overrides)
    return Row(**values)


def test_search_row_is_french_and_neutralised():
    body = b"".join(exports.search_csv([_row()])).decode("utf-8")
    assert body.startswith("\ufeffNuméro de mémoire;Numéro de facture;")
    line = body.split("\r\n")[1]
    assert line == ("MJ0000000001;\"'=HYPERLINK(\"\"http://evil\"\")\";Société Évreux;19/07/2025;"
                    "01/08/2025;Article R 92 CPP;75 - Tribunal judiciaire de Paris;;"
                    "1\u202f200,50;1\u202f164,50;Oui;Mis en paiement")


def test_streamed_csv_equals_the_one_shot_csv():
    header = ["A", "B"]
    rows = [[f"+{n}", "é"] for n in range(1234)]
    chunks = list(csv_export.iter_csv(header, iter(rows), batch=100))
    assert len(chunks) > 10
    assert b"".join(chunks) == csv_export.to_csv(header, rows)


def test_zip_holds_one_pdf_per_memoire(app):
    with app.app_context():
        memoires = db.session.scalars(select(Memoire).where(
            Memoire.numero_mj.is_not(None)).limit(3)).all()
        data = exports.pdf_zip(memoires)
        archive = zipfile.ZipFile(io.BytesIO(data))
        assert archive.namelist() == [f"memoire-{m.numero}.pdf" for m in memoires]
        assert all(archive.read(n).startswith(b"%PDF") for n in archive.namelist())


def test_fiscal_pdf():
    data = exports.fiscal_pdf("81234567600017 - Cabinet Lefèvre Interprétariat",
                              date(2025, 1, 1), date(2025, 12, 31), [_row()], Decimal("1200.50"))
    assert data.startswith(b"%PDF") and len(data) > 1000
    empty = exports.fiscal_pdf("X", date(2025, 1, 1), date(2025, 12, 31), [], Decimal(0))
    assert empty.startswith(b"%PDF")


def test_memoire_pdf_itemises_every_amount_of_a_line_and_its_bordereau(app):
    from datetime import timedelta

    from pypdf import PdfReader

    from services import pdf
    from tests.lifecycle_support import sent_with_other_amounts

    with app.app_context():
        data = pdf.memoire_pdf(sent_with_other_amounts())
    today = date.today()
    text = " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
                    .split())
    for expected in ("Montant de la prestation HT : 3 × 30,00 = 90,00 EUR",
                     "Frais divers : 12,90 EUR", "Remise : 2,00 EUR",
                     "Montant total HT : 100,90 EUR", "Taux TVA : 20 % (TVA 20,18 EUR)",
                     "Débours (non soumis à la TVA) : 5,00 EUR", "Montant TTC : 126,08 EUR",
                     f"Bordereau des frais divers - {(today - timedelta(days=3)):%d/%m/%Y}, "
                     "Kilomètres, quantité 24, montant total 12,00 EUR"):
        assert expected in text, (expected, text)


def test_memoire_pdf_of_a_paid_memoire_tells_the_amount_retained_and_the_payment(app):
    from pypdf import PdfReader
    from sqlalchemy import select

    from extensions import db
    from models import Memoire
    from services import lifecycle, pdf

    with app.app_context():
        paid = db.session.scalars(select(Memoire).where(
            Memoire.status == lifecycle.MIS_EN_PAIEMENT, Memoire.montant_retenu.is_not(None))).all()
        memoire = next(m for m in paid if m.montant_retenu != m.total_ttc)
        text = " ".join("".join(page.extract_text() for page in PdfReader(
            io.BytesIO(pdf.memoire_pdf(memoire))).pages).split())
        assert f"MT modifié {' '.join(memoire.motif_montant_retenu.split())}" in text
        assert "Montant retenu" in text and memoire.payment_reference in text
