"""Draft mémoires: header, prestation lines, bordereau des frais divers, duplicate, delete.

Pure services: the session is passed in, nothing reads the request. Domain errors are raised as
MemoireError(field, message) with French messages meant to be shown next to the field.
Only drafts (lifecycle.EDITABLE) change here; a sent mémoire is refused with NotEditableError.
Every amount comes from services.money.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import (
    AutoriteRequerante,
    BankAccount,
    CategoriePrestataire,
    Juridiction,
    Memoire,
    PrestationLine,
    Service,
    Structure,
    TexteReference,
    Transition,
    TypePrestation,
    User,
)
from models.memoire import FRAIS_NATURES, MODE_WEB, Attachment, FraisDiversItem
from models.organisation import VAT_TYPES
from models.types import utcnow
from services import lifecycle, money, numbering, permissions
from services.reference_data import active_vat_rates, tariff_for

log = logging.getLogger("portail.memoires")

DEVISES = {"EUR": "EUR - Euro européen"}
EXONERE = "EXONERE"
# Attachments that sending adds by itself (the RIB) are not copied by « Dupliquer ».
AUTOMATIC_ATTACHMENT_TYPES = frozenset({"RIB"})
MAX_QUANTITY = Decimal("99999.99")


class MemoireError(ValueError):
    """A domain rule refused the input; `errors` maps field names to French messages."""

    def __init__(self, field: str | None, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.errors = errors if errors is not None else ({field: message} if field else {})


class StaleMemoireError(MemoireError):
    """The draft changed since the form was loaded (another tab, another user)."""

    def __init__(self):
        super().__init__(None, "Ce mémoire a été modifié entre-temps (dans un autre onglet ou par "
                               "un autre utilisateur). Vos saisies sont conservées ci-dessous : "
                               "rechargez la page pour voir la version enregistrée avant "
                               "d'enregistrer à nouveau.")


class NotEditableError(MemoireError):
    """The mémoire is no longer a draft: it never changes again."""

    def __init__(self, memoire: Memoire):
        super().__init__(None, f"Le mémoire {memoire.numero} est à l'état "
                               f"« {lifecycle.label(memoire.status)} » : il ne peut plus être "
                               "modifié.")


@dataclass
class FraisData:
    """A row of the bordereau des frais de déplacement et d'affranchissement."""

    date: date
    nature: str
    quantite: Decimal
    montant: Decimal


@dataclass
class LineData:
    numero_affaire: str
    date_requisition: date
    autorite_code: str
    type_code: str
    date_prestation: date
    quantite: Decimal
    tarif_ht: Decimal
    taux_tva: Decimal
    frais_divers: Decimal = Decimal(0)
    debours: Decimal = Decimal(0)
    remise: Decimal = Decimal(0)
    frais: list[FraisData] = field(default_factory=list)


@dataclass(frozen=True)
class TariffHint:
    """The regulated tariff of a line's type at its date, and whether the typed price differs."""

    amount: Decimal
    reference: str
    unite: str
    differs: bool

    @property
    def message(self) -> str:
        from services.formatting import amount

        text = f"Tarif réglementé : {amount(self.amount)} € HT par {self.unite} ({self.reference})."
        if self.differs:
            return ("Tarif différent du tarif réglementé "
                    f"({amount(self.amount)} € HT par {self.unite}, {self.reference}) : "
                    "précisez la raison dans une pièce jointe si besoin.")
        return text


# ------------------------------------------------------------------------------ header


def create_draft(session: Session, user: User, *, structure_id: int, service_id: int | None,
                 juridiction_id: int, categorie_code: str, bank_account_id: int | None,
                 devise: str, texte_code: str, vat_type: str,
                 numero_facture: str | None = None) -> Memoire:
    """« Enregistrer » on a new mémoire: a draft with its TMP number, État « Brouillon »."""
    fields = _checked_header(session, user, structure_id=structure_id, service_id=service_id,
                             juridiction_id=juridiction_id, categorie_code=categorie_code,
                             bank_account_id=bank_account_id, devise=devise,
                             texte_code=texte_code, vat_type=vat_type,
                             numero_facture=numero_facture)
    now = utcnow()
    memoire = Memoire(numero_tmp=numbering.next_tmp(session, now.year), mode_depot=MODE_WEB,
                      created_by_id=user.id, created_at=now, updated_at=now,
                      total_ttc=money.ZERO, **fields)
    memoire.status = None
    session.add(memoire)
    lifecycle.record(session, memoire, lifecycle.BROUILLON, user)
    session.flush()
    return memoire


def update_header(session: Session, user: User, memoire: Memoire, expected_version: int,
                  **fields) -> Memoire:
    """« Enregistrer » on a draft. Refuses a stale form rather than overwrite silently."""
    _check_editable(session, user, memoire, expected_version)
    checked = _checked_header(session, user, **fields)
    for name, value in checked.items():
        setattr(memoire, name, value)
    if memoire.vat_type == EXONERE:
        for line in memoire.lines:
            line.taux_tva = money.ZERO
    _touch(memoire)
    refresh_total(memoire)
    session.flush()
    return memoire


def _checked_header(session: Session, user: User, *, structure_id, service_id, juridiction_id,
                    categorie_code, bank_account_id, devise, texte_code, vat_type,
                    numero_facture=None) -> dict:
    errors: dict[str, str] = {}
    structure = session.get(Structure, structure_id) if structure_id else None
    if structure is None or not structure.is_active or not permissions.can(
            session, user, structure.id, permissions.WRITE):
        errors["structure_id"] = ("Choisissez une structure sur laquelle vous avez le profil "
                                  "« Frais de justice modification ».")
        structure = None
    juridiction = session.get(Juridiction, juridiction_id) if juridiction_id else None
    if juridiction is None or not juridiction.is_active:
        errors["juridiction_id"] = "Choisissez la juridiction destinataire."
    service = session.get(Service, service_id) if service_id else None
    if structure is not None:
        active_services = [s for s in structure.services if s.is_active]
        if service is None and active_services:
            errors["service_id"] = "Choisissez un service de la structure."
        elif service is not None and (service.structure_id != structure.id or not service.is_active):
            errors["service_id"] = "Ce service n'appartient pas à la structure choisie."
    if not categorie_code or session.get(CategoriePrestataire, categorie_code) is None:
        errors["categorie_code"] = "Choisissez la catégorie de prestataire."
    account = session.get(BankAccount, bank_account_id) if bank_account_id else None
    if account is None:
        errors["bank_account_id"] = "Choisissez les références bancaires du paiement."
    elif structure is not None and (account.structure_id != structure.id or not account.is_active):
        errors["bank_account_id"] = "Ces références bancaires n'appartiennent pas à la structure."
    if devise not in DEVISES:
        errors["devise"] = "Le mémoire est saisi en euros (EUR - Euro européen)."
    if not texte_code or session.get(TexteReference, texte_code) is None:
        errors["texte_code"] = "Choisissez le texte de référence."
    if vat_type not in VAT_TYPES:
        errors["vat_type"] = "Choisissez le type de TVA."
    numero_facture = (numero_facture or "").strip() or None
    if numero_facture and len(numero_facture) > 50:
        errors["numero_facture"] = "50 caractères au plus."
    if errors:
        first = next(iter(errors))
        raise MemoireError(first, errors[first], errors)
    return {"structure_id": structure_id, "service_id": service.id if service else None,
            "juridiction_id": juridiction_id, "categorie_code": categorie_code,
            "bank_account_id": bank_account_id, "devise": devise, "texte_code": texte_code,
            "vat_type": vat_type, "numero_facture": numero_facture}


# ------------------------------------------------------------------------------ lines


def add_line(session: Session, user: User, memoire: Memoire, data: LineData, *,
             expected_version: int | None = None, today: date | None = None) -> PrestationLine:
    _check_editable(session, user, memoire, expected_version)
    line = PrestationLine(position=len(memoire.lines) + 1)
    with session.no_autoflush:
        _fill_line(session, memoire, line, data, today or date.today())
    memoire.lines.append(line)
    _touch(memoire)
    refresh_total(memoire)
    session.flush()
    return line


def update_line(session: Session, user: User, line: PrestationLine, data: LineData, *,
                expected_version: int | None = None, today: date | None = None) -> PrestationLine:
    memoire = line.memoire
    _check_editable(session, user, memoire, expected_version)
    _fill_line(session, memoire, line, data, today or date.today())
    _touch(memoire)
    refresh_total(memoire)
    session.flush()
    return line


def delete_line(session: Session, user: User, line: PrestationLine, *,
                expected_version: int | None = None) -> None:
    memoire = line.memoire
    _check_editable(session, user, memoire, expected_version)
    for attachment in list(line.attachments):
        attachment.line = None  # the pièce jointe stays on the mémoire
    session.delete(line)
    remaining = [other for other in memoire.lines if other is not line]
    for position, other in enumerate(remaining, start=1):
        other.position = position
    _touch(memoire)
    session.flush()
    session.expire(memoire, ["lines"])
    refresh_total(memoire)
    session.flush()


def validate_line(session: Session, memoire: Memoire, data: LineData,
                  today: date) -> dict[str, str]:
    """Field -> French message for every rule the line breaks (empty when it is fine)."""
    errors: dict[str, str] = {}
    numero = (data.numero_affaire or "").strip()
    if not numero:
        errors["numero_affaire"] = "Saisissez le numéro d'affaire figurant sur la réquisition."
    elif len(numero) > 50:
        errors["numero_affaire"] = "50 caractères au plus."
    if not data.autorite_code or session.get(AutoriteRequerante, data.autorite_code) is None:
        errors["autorite_code"] = "Choisissez l'autorité requérante."
    if not data.type_code or session.get(TypePrestation, data.type_code) is None:
        errors["type_code"] = "Choisissez le type de la prestation."
    required = {
        "date_requisition": "Saisissez la date de la réquisition.",
        "date_prestation": "Saisissez la date de la prestation.",
        "quantite": "Saisissez la quantité.",
        "tarif_ht": "Saisissez le tarif de la prestation HT.",
    }
    if memoire.vat_type != EXONERE:
        required["taux_tva"] = "Choisissez le taux de TVA."
    for name, message in required.items():
        if getattr(data, name) is None:
            errors[name] = message
    if data.date_prestation and data.date_prestation > today:
        errors["date_prestation"] = "La date de la prestation ne peut pas être dans le futur."
    if data.date_requisition and data.date_requisition > today:
        errors["date_requisition"] = "La date de la réquisition ne peut pas être dans le futur."
    elif (data.date_requisition and data.date_prestation
          and data.date_requisition > data.date_prestation):
        errors["date_requisition"] = ("La date de la réquisition doit précéder la date de la "
                                      "prestation.")
    if data.quantite is None:
        pass
    elif data.quantite <= 0:
        errors["quantite"] = "La quantité doit être supérieure à 0."
    elif data.quantite > MAX_QUANTITY:
        errors["quantite"] = "Quantité trop grande."
    for name in ("tarif_ht", "frais_divers", "debours", "remise"):
        value = getattr(data, name)
        if value is None:
            continue
        if value < 0:
            errors[name] = "Le montant doit être positif ou nul."
        elif value > money.MAX_AMOUNT:
            errors[name] = "Le montant ne peut dépasser 9 999 999,99."
    for index, row in enumerate(data.frais):
        prefix = f"frais-{index}-"
        if row.nature not in FRAIS_NATURES:
            errors[prefix + "nature"] = "Choisissez la nature du frais."
        if row.date is None:
            errors[prefix + "date"] = "Saisissez la date du frais."
        elif row.date > today:
            errors[prefix + "date"] = "La date ne peut pas être dans le futur."
        if row.quantite is None or row.quantite <= 0:
            errors[prefix + "quantite"] = "La quantité doit être supérieure à 0."
        if row.montant is None or row.montant < 0:
            errors[prefix + "montant"] = "Le montant doit être positif ou nul."
        elif row.montant > money.MAX_AMOUNT:
            errors[prefix + "montant"] = "Le montant ne peut dépasser 9 999 999,99."
    if memoire.vat_type != EXONERE and data.taux_tva is not None and data.date_prestation:
        rates = active_vat_rates(session, min(data.date_prestation, today))
        if data.taux_tva not in rates:
            errors["taux_tva"] = "Choisissez un taux de TVA en vigueur à la date de la prestation."
    if not errors and data.type_code and data.quantite is not None:
        amounts = money.line_amounts(_line_input(memoire, data))
        if amounts.montant_total_ht < 0:
            errors["remise"] = ("La remise ne peut dépasser le montant de la prestation et des "
                                "frais divers.")
        elif amounts.ttc > money.MAX_AMOUNT:
            errors["quantite"] = "Le montant de la ligne dépasse 9 999 999,99."
    return errors


def preview(memoire: Memoire, data: LineData) -> money.LineAmounts:
    """The amounts shown while typing: the same computation as the saved line."""
    return money.line_amounts(_line_input(memoire, data))


def tariff_hint(session: Session, type_code: str | None, on: date | None,
                tarif_ht: Decimal | None) -> TariffHint | None:
    if not type_code or on is None:
        return None
    tariff = tariff_for(session, type_code, on)
    if tariff is None:
        return None
    return TariffHint(amount=tariff.amount, reference=tariff.reference,
                      unite=tariff.type_prestation.unite_label,
                      differs=tarif_ht is not None and tarif_ht != tariff.amount)


def frais_total(rows: list[FraisData]) -> Decimal:
    return sum((row.montant for row in rows if row.montant is not None), money.ZERO)


def effective_taux(memoire: Memoire, taux: Decimal | None) -> Decimal | None:
    """« Exonéré » forces 0 %."""
    return money.ZERO if memoire.vat_type == EXONERE else taux


def _line_input(memoire: Memoire, data: LineData) -> money.LineInput:
    frais = frais_total(data.frais) if data.frais else (data.frais_divers or money.ZERO)
    return money.LineInput(
        quantite=data.quantite or money.ZERO, tarif_ht=data.tarif_ht or money.ZERO,
        taux_tva=effective_taux(memoire, data.taux_tva) or money.ZERO, frais_divers=frais,
        debours=data.debours or money.ZERO, remise=data.remise or money.ZERO,
    )


def _fill_line(session: Session, memoire: Memoire, line: PrestationLine, data: LineData,
               today: date) -> None:
    errors = validate_line(session, memoire, data, today)
    if errors:
        first = next(iter(errors))
        raise MemoireError(first, errors[first], errors)
    tariff = tariff_for(session, data.type_code, data.date_prestation)
    line.numero_affaire = data.numero_affaire.strip()
    line.date_requisition = data.date_requisition
    line.autorite_code = data.autorite_code
    line.type_code = data.type_code
    line.date_prestation = data.date_prestation
    line.quantite = data.quantite
    line.tarif_ht = data.tarif_ht
    line.taux_tva = effective_taux(memoire, data.taux_tva)
    line.debours = data.debours or money.ZERO
    line.remise = data.remise or money.ZERO
    line.tariff_id = tariff.id if tariff else None
    # The bordereau's total is Frais divers: never typed twice.
    line.frais = [FraisDiversItem(date=row.date, nature=row.nature, quantite=row.quantite,
                                  montant=row.montant) for row in data.frais]
    line.frais_divers = frais_total(data.frais) if data.frais else (data.frais_divers or money.ZERO)


def line_data(line: PrestationLine) -> LineData:
    """The saved line as form data (to edit it)."""
    return LineData(
        numero_affaire=line.numero_affaire, date_requisition=line.date_requisition,
        autorite_code=line.autorite_code, type_code=line.type_code,
        date_prestation=line.date_prestation, quantite=line.quantite, tarif_ht=line.tarif_ht,
        taux_tva=line.taux_tva, frais_divers=line.frais_divers, debours=line.debours,
        remise=line.remise,
        frais=[FraisData(r.date, r.nature, r.quantite, r.montant) for r in line.frais],
    )


# ------------------------------------------------------------------------------ amounts


def line_input(line: PrestationLine) -> money.LineInput:
    return money.LineInput(quantite=line.quantite, tarif_ht=line.tarif_ht,
                           taux_tva=line.taux_tva, frais_divers=line.frais_divers,
                           debours=line.debours, remise=line.remise)


def amounts(memoire: Memoire) -> tuple[list[money.LineAmounts], money.Totals]:
    per_line = [money.line_amounts(line_input(line)) for line in memoire.lines]
    return per_line, money.totals(per_line, memoire.remise_globale_ttc or money.ZERO)


def refresh_total(memoire: Memoire) -> Decimal:
    """Keep Memoire.total_ttc (used by lists and searches) equal to the computed total."""
    _, totals = amounts(memoire)
    if memoire.total_ttc != totals.ttc_total:
        memoire.total_ttc = totals.ttc_total
    return totals.ttc_total


# ------------------------------------------------------------------------------ draft actions


def duplicate(session: Session, user: User, memoire: Memoire) -> Memoire:
    """« Dupliquer »: a new draft with the same header, lines, frais divers and attachments."""
    if not permissions.can(session, user, memoire.structure_id, permissions.WRITE):
        raise permissions.Forbidden(memoire.id)
    account = memoire.bank_account
    now = utcnow()
    copy = Memoire(
        numero_tmp=numbering.next_tmp(session, now.year), mode_depot=MODE_WEB,
        structure_id=memoire.structure_id, service_id=memoire.service_id,
        juridiction_id=memoire.juridiction_id, categorie_code=memoire.categorie_code,
        bank_account_id=account.id if account is not None and account.is_active else None,
        devise=memoire.devise, texte_code=memoire.texte_code, vat_type=memoire.vat_type,
        numero_facture=memoire.numero_facture, remise_globale_ttc=memoire.remise_globale_ttc,
        motif_remise_globale=memoire.motif_remise_globale, total_ttc=memoire.total_ttc,
        created_by_id=user.id, created_at=now, updated_at=now,
        # A draft may be deleted later: only a sent mémoire is remembered as the source.
        duplicated_from_id=None if memoire.status in lifecycle.EDITABLE else memoire.id,
    )
    copy.status = None
    session.add(copy)
    lifecycle.record(session, copy, lifecycle.BROUILLON, user,
                     reason=f"Duplication du mémoire {memoire.numero}")
    new_lines: dict[int, PrestationLine] = {}
    for line in memoire.lines:
        new_line = PrestationLine(
            position=line.position, numero_affaire=line.numero_affaire,
            date_requisition=line.date_requisition, autorite_code=line.autorite_code,
            type_code=line.type_code, date_prestation=line.date_prestation,
            quantite=line.quantite, tarif_ht=line.tarif_ht, taux_tva=line.taux_tva,
            frais_divers=line.frais_divers, debours=line.debours, remise=line.remise,
            tariff_id=line.tariff_id,
            frais=[FraisDiversItem(date=r.date, nature=r.nature, quantite=r.quantite,
                                   montant=r.montant) for r in line.frais],
        )
        copy.lines.append(new_line)
        new_lines[line.id] = new_line
    for attachment in memoire.attachments:
        if attachment.type_code in AUTOMATIC_ATTACHMENT_TYPES:
            continue
        # Same stored bytes (content-addressed), a new row on the new draft.
        copy.attachments.append(Attachment(
            line=new_lines.get(attachment.line_id), sha256=attachment.sha256,
            filename=attachment.filename, designation=attachment.designation,
            type_code=attachment.type_code, extension=attachment.extension,
            uploaded_by_id=attachment.uploaded_by_id, uploaded_at=attachment.uploaded_at,
        ))
    refresh_total(copy)
    session.flush()
    return copy


def delete_draft(session: Session, user: User, memoire: Memoire) -> str:
    """« Supprimer »: drafts only. Returns the number of the deleted draft."""
    _check_editable(session, user, memoire, None)
    numero = memoire.numero
    log.info("event=memoire.deleted memoire=%s numero=%s user=%s", memoire.id, numero, user.id)
    # A deleted draft keeps no audit trail of its own (REFERENCE §4.2: Brouillon → supprimé).
    session.execute(delete(Transition).where(Transition.memoire_id == memoire.id),
                    execution_options={"synchronize_session": False})
    session.expire(memoire, ["transitions"])
    session.delete(memoire)
    session.flush()
    return numero


# ------------------------------------------------------------------------------ helpers


def _check_editable(session: Session, user: User, memoire: Memoire,
                    expected_version: int | None) -> None:
    if not permissions.can(session, user, memoire.structure_id, permissions.WRITE):
        raise permissions.Forbidden(memoire.id)
    if memoire.status not in lifecycle.EDITABLE:
        raise NotEditableError(memoire)
    if expected_version is not None and expected_version != memoire.version:
        raise StaleMemoireError()


def _touch(memoire: Memoire) -> None:
    """Every change of a draft bumps its version, so a stale form elsewhere is refused."""
    memoire.updated_at = utcnow()


def structure_defaults(structure: Structure) -> dict:
    """What the header pre-fills from the chosen structure."""
    accounts = [a for a in structure.bank_accounts if a.is_active]
    services = [s for s in structure.services if s.is_active]
    return {
        "categorie_code": structure.categorie_code,
        "vat_type": structure.default_vat_type or "ENCAISSEMENTS",
        "service_id": services[0].id if len(services) == 1 else None,
        "bank_account_id": accounts[0].id if len(accounts) == 1 else None,
    }


def juridictions(session: Session) -> list[Juridiction]:
    return list(session.scalars(
        select(Juridiction).where(Juridiction.is_active.is_(True))
        .order_by(Juridiction.departement, Juridiction.nom)
    ))
