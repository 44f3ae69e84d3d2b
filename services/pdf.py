"""PDF documents (fpdf2, pure Python): the certificat de dépôt and the whole mémoire.

The core PDF fonts only know Latin-1: text goes through `_latin1` (French accents are kept,
typographic spaces and dashes become plain ones, the euro sign is written EUR).
"""
from __future__ import annotations

import io

import segno
from fpdf import FPDF

from models import Certificate, Memoire, PrestationLine
from models.organisation import VAT_TYPES
from services import formatting, lifecycle
from services.memoires import amounts as memoire_amounts
from services.money import LineAmounts

_REPLACEMENTS = {
    "\u202f": " ", "\u00a0": " ", "\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"',
    "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u0153": "oe", "\u0152": "OE", "€": "EUR",
}
CERTIFICATE_ADVICE = ("Nous vous invitons à télécharger et conserver ce certificat comme preuve "
                      "de dépôt à toutes fins utiles.")


def _latin1(text) -> str:
    text = "" if text is None else str(text)
    for source, target in _REPLACEMENTS.items():
        text = text.replace(source, target)
    return text.encode("latin-1", "replace").decode("latin-1")


def _money(value, devise: str = "EUR") -> str:
    return _latin1(formatting.money(value, devise))


class Document(FPDF):
    def __init__(self, title: str):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_title(_latin1(title))
        self.set_author("Portail FJ")
        self.set_creator("Portail FJ")
        self.set_auto_page_break(auto=True, margin=15)
        self.add_page()

    def heading(self, text: str, size: int = 14) -> None:
        self.set_font("Helvetica", "B", size)
        self.multi_cell(0, 8, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def paragraph(self, text: str, size: int = 10, style: str = "") -> None:
        self.set_font("Helvetica", style, size)
        self.multi_cell(0, 5.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    def pairs(self, rows: list[tuple[str, str]]) -> None:
        for label, value in rows:
            self.set_font("Helvetica", "B", 9)
            self.cell(60, 5.5, _latin1(label))
            self.set_font("Helvetica", "", 9)
            self.multi_cell(0, 5.5, _latin1(value), new_x="LMARGIN", new_y="NEXT")

    def line_table(self, headings: list[str], rows: list[tuple[list[str], list[str]]],
                   widths: list[float]) -> None:
        """A table whose rows each carry full-width sub-rows (the detail of the amounts)."""
        self.set_font("Helvetica", "", 8)
        with super().table(col_widths=widths, text_align="LEFT", line_height=4.5,
                           first_row_as_headings=True) as table:
            table.row([_latin1(h) for h in headings])
            for cells, details in rows:
                table.row([_latin1(cell) for cell in cells])
                for detail in details:
                    table.row().cell(_latin1(detail), colspan=len(widths))
        self.ln(2)

    def table(self, headings: list[str], rows: list[list[str]], widths: list[float]) -> None:
        self.set_font("Helvetica", "", 8)
        with super().table(col_widths=widths, text_align="LEFT", line_height=4.5,
                           first_row_as_headings=True) as table:
            table.row([_latin1(h) for h in headings])
            for row in rows:
                table.row([_latin1(cell) for cell in row])
        self.ln(2)


def line_detail_rows(line: PrestationLine, amounts: LineAmounts, devise: str) -> list[str]:
    """The sub-rows of a line: how its amounts are made (REFERENCE.md §3.1) and its bordereau."""
    def money(value) -> str:
        return formatting.money(value, devise)

    rows = [
        f"Montant de la prestation HT : {formatting.number(line.quantite)} × "
        f"{formatting.amount(line.tarif_ht)} = {money(amounts.montant_prestation_ht)} ; "
        f"Frais divers : {money(line.frais_divers)} ; Remise : {money(line.remise)} ; "
        f"Montant total HT : {money(amounts.montant_total_ht)} ; "
        f"Taux TVA : {formatting.number(line.taux_tva)} % (TVA {money(amounts.tva)}) ; "
        f"Débours (non soumis à la TVA) : {money(line.debours)} ; "
        f"Montant TTC : {money(amounts.ttc)}"
    ]
    rows += [f"Bordereau des frais divers - {formatting.day(item.date)}, "
             f"{item.nature_label}, quantité "
             f"{formatting.number(item.quantite)}, montant total {money(item.montant)}"
             for item in line.frais]
    return rows


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=4, border=2)
    return buffer.getvalue()


def certificate_pdf(memoire: Memoire, certificate: Certificate, verify_url: str) -> bytes:
    """« Certificat de dépôt du jj/mm/aaaa », its empreinte and a QR code to the public check."""
    _, totals = memoire_amounts(memoire)
    pdf = Document(f"Certificat de dépôt {memoire.numero_mj}")
    pdf.heading(f"Certificat de dépôt du {formatting.day(memoire.sent_at)}", 16)
    pdf.paragraph(f"Prestataire : {memoire.structure.label}")
    pdf.ln(2)
    pdf.paragraph("Empreinte :", 10, "B")
    pdf.set_font("Courier", "", 11)
    pdf.multi_cell(0, 6, certificate.empreinte, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.paragraph(
        f"Conformément à votre validation, le Mémoire de frais de justice n° {memoire.numero_mj} "
        f"d'un montant de {formatting.money(totals.ttc_total, memoire.devise)} est en cours de "
        f"transfert au {memoire.juridiction.label}."
    )
    pdf.ln(2)
    pdf.paragraph(CERTIFICATE_ADVICE)
    pdf.ln(4)
    pdf.paragraph("Vérifier ce certificat (numéro et empreinte) :", 9, "B")
    pdf.image(io.BytesIO(qr_png(verify_url)), w=40)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(0, 4.5, _latin1(verify_url), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def memoire_pdf(memoire: Memoire) -> bytes:
    """The whole mémoire: header, lines, VAT recap, totals, attachments."""
    per_line, totals = memoire_amounts(memoire)
    devise = memoire.devise
    pdf = Document(f"Mémoire de frais de justice {memoire.numero}")
    pdf.heading(f"Mémoire de frais de justice n° {memoire.numero}", 15)
    rows = [
        ("État", lifecycle.label(memoire.status)),
        ("Mode de dépôt", memoire.mode_depot_label),
    ]
    if memoire.sent_at:
        rows.append(("Envoyé le", formatting.moment(memoire.sent_at)))
    if memoire.montant_retenu is not None:
        rows.append(("Montant retenu", _money(memoire.montant_retenu, memoire.devise)))
        if memoire.montant_retenu != memoire.total_ttc and memoire.motif_montant_retenu:
            rows.append(("MT modifié", memoire.motif_montant_retenu))
    if memoire.paid_on:
        rows.append(("Mis en paiement le", f"{formatting.day(memoire.paid_on)} (référence "
                                           f"{memoire.payment_reference})"))
    pdf.pairs(rows)
    pdf.ln(2)
    pdf.heading("Destinataire", 11)
    pdf.pairs([("Juridiction", memoire.juridiction.label)])
    pdf.heading("Prestataire", 11)
    account = memoire.bank_account
    pdf.pairs([
        ("Structure", memoire.structure.label),
        ("Adresse", ", ".join(memoire.structure.address_lines)),
        ("Service", memoire.service.label if memoire.service else ""),
        ("Catégorie de prestataire", memoire.categorie.libelle if memoire.categorie else ""),
        ("Références bancaires", account.label if account else ""),
    ])
    pdf.heading("Références", 11)
    pdf.pairs([
        ("Devise du mémoire", devise),
        ("Texte de référence", memoire.texte.libelle if memoire.texte else ""),
        ("Type de TVA", VAT_TYPES.get(memoire.vat_type, memoire.vat_type)),
        ("Numéro de facture", memoire.numero_facture or ""),
    ])
    pdf.ln(2)
    pdf.heading("Lignes de prestation", 11)
    pdf.line_table(
        ["N°", "N° d'affaire", "Date de la réquisition", "Autorité requérante", "Type prestation",
         "Date de prestation", "Quantité", "Tarif HT", "TVA", "Montant TTC"],
        [([str(index), line.numero_affaire, formatting.day(line.date_requisition),
           line.autorite.libelle, line.type_prestation.libelle,
           formatting.day(line.date_prestation), formatting.number(line.quantite),
           formatting.amount(line.tarif_ht), f"{formatting.number(line.taux_tva)} %",
           formatting.amount(amounts.ttc)], line_detail_rows(line, amounts, devise))
         for index, (line, amounts) in enumerate(zip(memoire.lines, per_line), start=1)],
        [8, 26, 18, 24, 30, 18, 14, 16, 12, 18],
    )
    pdf.heading("Récapitulatif TVA", 11)
    pdf.table(["Taux", "Base HT", "Montant TVA"],
              [[f"{formatting.number(row.taux)} %", formatting.amount(row.base_ht),
                formatting.amount(row.tva)] for row in totals.vat_recap],
              [30, 50, 50])
    pdf.heading("Montants totaux", 11)
    pdf.pairs([
        ("Montant HT après remise globale", _money(totals.montant_ht, devise)),
        ("Montant TVA", _money(totals.montant_tva, devise)),
        ("Montant remise globale TTC", _money(totals.remise_globale_ttc, devise)),
        ("Montant TTC avant remise globale", _money(totals.ttc_avant_remise, devise)),
        ("Montant TTC total", _money(totals.ttc_total, devise)),
    ])
    pdf.ln(2)
    pdf.heading("Pièces jointes", 11)
    positions = {line.id: index for index, line in enumerate(memoire.lines, start=1)}
    if memoire.attachments:
        pdf.table(
            ["Type", "Désignation", "Extension", "Nom du fichier", "Ligne de prestation"],
            [[a.type_pj.libelle, a.designation, a.extension, a.filename,
              str(positions.get(a.line_id, ""))] for a in memoire.attachments],
            [40, 50, 18, 50, 22],
        )
    else:
        pdf.paragraph("Aucune pièce jointe.")
    if memoire.numero_mj and memoire.justification_forclusion:
        pdf.heading("Justification du dépôt tardif", 11)
        pdf.paragraph(memoire.justification_forclusion)
    return bytes(pdf.output())
