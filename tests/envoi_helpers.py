"""Helpers of the attachments / sending tests: real small files built on the spot, and drafts
built through the saisie services."""
from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

from fpdf import FPDF
from PIL import Image
from sqlalchemy import select

from models import BankAccount, Juridiction, Structure, User


def pdf_bytes(text: str = "Réquisition") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def image_bytes(fmt: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def png_bytes() -> bytes:
    return image_bytes("PNG")


def jpeg_bytes() -> bytes:
    return image_bytes("JPEG")


def tiff_bytes() -> bytes:
    return image_bytes("TIFF")


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("facture.pdf", pdf_bytes())
    return buffer.getvalue()


HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def make_draft(session, email: str = "interprete@demo.test", *, lines: int = 1,
               date_prestation: date | None = None, juridiction_code: str = "tj75056",
               type_code: str = "TRAD_ORALE"):
    """A draft of the user's structure with `lines` lines of 1 × 150,00 at 5,5 % (158,25 TTC)."""
    from services import memoires

    owner = user(session, email)
    structure = session.scalar(select(Structure).where(Structure.gestionnaire_id == owner.id))
    account = session.scalar(select(BankAccount).where(BankAccount.structure_id == structure.id))
    juridiction = session.scalar(select(Juridiction).where(Juridiction.code == juridiction_code))
    memoire = memoires.create_draft(
        session, owner, structure_id=structure.id, service_id=structure.services[0].id,
        juridiction_id=juridiction.id, categorie_code=structure.categorie_code,
        bank_account_id=account.id, devise="EUR", texte_code="R92", vat_type="DEBITS",
    )
    day = date_prestation or date.today() - timedelta(days=2)
    for index in range(lines):
        memoires.add_line(session, owner, memoire, memoires.LineData(
            numero_affaire=f"20190XX-{index + 1}", date_requisition=day - timedelta(days=1),
            autorite_code="OPJ", type_code=type_code, date_prestation=day,
            quantite=Decimal("1"), tarif_ht=Decimal("150.00"), taux_tva=Decimal("5.5")))
    session.flush()
    return memoire
