"""« Paramétrer sa structure »: structures, services, coordonnées bancaires, documents.

Rights are checked by the caller through services.permissions (get_structure with READ or
WRITE); these functions enforce the domain rules and raise OrganisationError(field, message).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    Attachment,
    BankAccount,
    CategoriePrestataire,
    Habilitation,
    Memoire,
    Service,
    Structure,
    User,
)
from models.organisation import (
    HABILITATION_GRANTED,
    IDENTIFIER_TYPES,
    PROFILE_MODIFICATION,
    REGIMES,
    VAT_TYPES,
)
from services import attachments, identifiers, lifecycle, storage
from services.identifiers import IdentifierError

DROIT_OPTION_CATEGORIES = frozenset({"INTERPRETE"})
BANK_ACCOUNT_TYPES = {"IBAN": "IBAN (virement SEPA)"}


class OrganisationError(ValueError):
    """A domain rule refused the change; `field` names the form field to show it next to."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------ structures

_PARTICULIER = re.compile(r"^[12][0-9]{9}[A-Z]{2,}[0-9]*$")
_FREE = re.compile(r"^[A-Z0-9]{1,40}$")


def normalize_identifier(identifier_type: str, value: str) -> str:
    """The identifier to store, checked according to its type."""
    if identifier_type not in IDENTIFIER_TYPES:
        raise OrganisationError("identifier_type", "Choisissez un type d'identifiant.")
    text = _ascii_upper(value)
    try:
        if identifier_type == "SIRET":
            return identifiers.check_siret(text)
        if identifier_type == "UE_HORS_FRANCE":
            number = identifiers.check_vat(text)
            if number.startswith("FR"):
                raise OrganisationError(
                    "identifier", "Une structure française s'identifie par son SIRET.")
            return number
    except IdentifierError as exc:
        raise OrganisationError("identifier", str(exc)) from None
    compact = re.sub(r"[\s.\-/]", "", text)
    if not compact:
        raise OrganisationError("identifier", "Saisissez l'identifiant de la structure.")
    if identifier_type == "PARTICULIER":
        if not _PARTICULIER.match(compact):
            raise OrganisationError(
                "identifier",
                "Identifiant d'un particulier : les 10 premiers chiffres du numéro de sécurité "
                "sociale suivis du NOM et du PRÉNOM, sans espace (ex. 1980193161DUPONTMARIE).")
        return compact
    if not _FREE.match(compact):
        raise OrganisationError(
            "identifier", "L'identifiant ne contient que des lettres et des chiffres (40 au plus).")
    return compact


def _ascii_upper(value: str) -> str:
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    return text.strip().upper()


def find_structure(session: Session, identifier_type: str, identifier: str) -> Structure | None:
    """An active structure by its identifier (the identifier is checked first)."""
    value = normalize_identifier(identifier_type, identifier)
    return session.scalar(select(Structure).where(
        Structure.identifier_type == identifier_type, Structure.identifier == value,
        Structure.is_active.is_(True)))


def create_structure(session: Session, user: User, *, identifier_type: str, identifier: str,
                     raison_sociale: str, pays: str, categorie_code: str | None = None,
                     regime: str | None = None) -> Structure:
    """A new structure; its creator becomes its gestionnaire with « modification »."""
    value = normalize_identifier(identifier_type, identifier)
    raison_sociale = (raison_sociale or "").strip()
    if not raison_sociale:
        raise OrganisationError("raison_sociale", "Saisissez la raison sociale (ou vos nom et "
                                                  "prénom pour un particulier).")
    if _exists(session, identifier_type, value):
        raise _already_registered()
    _check_categorie(session, categorie_code)
    if regime and regime not in REGIMES:
        raise OrganisationError("regime", "Choisissez COSP ou Indépendants.")
    structure = Structure(identifier_type=identifier_type, identifier=value,
                          raison_sociale=raison_sociale, pays=(pays or "FR").upper(),
                          categorie_code=categorie_code or None, regime=regime or None,
                          gestionnaire_id=user.id)
    try:
        with session.begin_nested():
            session.add(structure)
            session.flush()
    except IntegrityError:
        raise _already_registered() from None  # registered meanwhile by someone else
    session.add(Habilitation(user_id=user.id, structure_id=structure.id,
                             profile=PROFILE_MODIFICATION, status=HABILITATION_GRANTED,
                             decided_by_id=user.id, decided_at=structure.created_at))
    session.flush()
    return structure


def _exists(session: Session, identifier_type: str, value: str) -> bool:
    return session.scalar(select(func.count(Structure.id)).where(
        Structure.identifier_type == identifier_type, Structure.identifier == value)) > 0


def _already_registered() -> OrganisationError:
    return OrganisationError(
        "identifier", "Une structure avec cet identifiant existe déjà : demandez à la rejoindre "
                      "(« Rejoindre une structure existante »).")


def _check_categorie(session: Session, code: str | None) -> None:
    if code and session.get(CategoriePrestataire, code) is None:
        raise OrganisationError("categorie_code", "Choisissez une catégorie de prestataire.")


@dataclass
class StructureData:
    raison_sociale: str
    numero_rcs: str | None
    tva_intracom: str | None
    email: str | None
    adresse: str | None
    complement1: str | None
    complement2: str | None
    code_postal: str | None
    ville: str | None
    pays: str
    telephone: str | None
    categorie_code: str | None
    regime: str | None
    droit_option: bool
    default_vat_type: str | None


def update_structure(session: Session, structure: Structure, data: StructureData) -> Structure:
    """« Gérer une structure » → Soumettre: general information and the FJ block."""
    if not (data.raison_sociale or "").strip():
        raise OrganisationError("raison_sociale", "Saisissez la raison sociale.")
    if not data.pays or identifiers.country_name(data.pays) == data.pays.upper():
        raise OrganisationError("pays", "Choisissez un pays.")
    tva = None
    if data.tva_intracom and data.tva_intracom.strip():
        siren = structure.identifier[:9] if structure.identifier_type == "SIRET" else None
        try:
            tva = identifiers.check_vat(data.tva_intracom, expected_siren=siren)
        except IdentifierError as exc:
            raise OrganisationError("tva_intracom", str(exc)) from None
    _check_categorie(session, data.categorie_code)
    if data.regime and data.regime not in REGIMES:
        raise OrganisationError("regime", "Choisissez COSP ou Indépendants.")
    if data.default_vat_type and data.default_vat_type not in VAT_TYPES:
        raise OrganisationError("default_vat_type", "Choisissez un type de TVA.")
    if data.droit_option and data.categorie_code not in DROIT_OPTION_CATEGORIES:
        raise OrganisationError(
            "droit_option", "Le droit d'option est réservé aux interprètes et traducteurs.")
    for name in ("numero_rcs", "email", "adresse", "complement1", "complement2", "code_postal",
                 "ville", "telephone"):
        value = getattr(data, name)
        setattr(structure, name, value.strip() if value and value.strip() else None)
    structure.raison_sociale = data.raison_sociale.strip()
    structure.tva_intracom = tva
    structure.pays = data.pays.upper()
    structure.categorie_code = data.categorie_code or None
    structure.regime = data.regime or None
    structure.droit_option = bool(data.droit_option)
    structure.default_vat_type = data.default_vat_type or None
    session.flush()
    return structure


# ------------------------------------------------------------------ services

def _used_by_memoires(session: Session, column, object_id: int, sent_only: bool = False) -> bool:
    query = select(func.count(Memoire.id)).where(column == object_id)
    if sent_only:
        query = query.where(Memoire.status.in_(lifecycle.SENT))
    return session.scalar(query) > 0


def get_service(session: Session, structure: Structure, service_id: int) -> Service | None:
    service = session.get(Service, service_id)
    return service if service is not None and service.structure_id == structure.id else None


def _check_service_fields(code: str, libelle: str) -> tuple[str, str]:
    code = (code or "").strip().upper()
    libelle = (libelle or "").strip()
    if not code:
        raise OrganisationError("code", "Saisissez le code du service.")
    if not re.fullmatch(r"[A-Z0-9_\-]{1,40}", code):
        raise OrganisationError("code", "Le code ne contient que des lettres, des chiffres, "
                                        "« - » et « _ » (40 au plus).")
    if not libelle:
        raise OrganisationError("libelle", "Saisissez le libellé du service.")
    if len(libelle) > 200:
        raise OrganisationError("libelle", "200 caractères au plus.")
    return code, libelle


def add_service(session: Session, structure: Structure, code: str, libelle: str) -> Service:
    code, libelle = _check_service_fields(code, libelle)
    if session.scalar(select(func.count(Service.id)).where(
            Service.structure_id == structure.id, Service.code == code)):
        raise OrganisationError("code", "Ce code de service existe déjà dans la structure.")
    service = Service(structure_id=structure.id, code=code, libelle=libelle)
    session.add(service)
    session.flush()
    return service


def rename_service(session: Session, service: Service, libelle: str) -> Service:
    _, libelle = _check_service_fields(service.code, libelle)
    service.libelle = libelle
    session.flush()
    return service


def set_service_active(session: Session, service: Service, active: bool) -> None:
    service.is_active = active
    session.flush()


def remove_service(session: Session, service: Service) -> str:
    """Delete an unused service; one used by a mémoire or a habilitation is deactivated.

    Returns "supprime" or "desactive".
    """
    used = _used_by_memoires(session, Memoire.service_id, service.id) or session.scalar(
        select(func.count(Habilitation.id)).where(Habilitation.service_id == service.id)) > 0
    if used:
        service.is_active = False
        session.flush()
        return "desactive"
    session.delete(service)
    session.flush()
    return "supprime"


# ------------------------------------------------------------------ coordonnées bancaires

@dataclass
class BankAccountData:
    nom: str
    affactureur: str | None
    type: str
    pays: str
    bban: str
    cle_iban: str
    bic: str
    information: str
    rib_filename: str
    rib_data: bytes


class BankAccountInvalid(OrganisationError):
    """Every refused field of « Créer une coordonnée bancaire » at once ({field: message});
    `rib` is the RIB file when it passed its checks, so the caller can keep it."""

    def __init__(self, errors: dict[str, str], rib: attachments.ValidatedFile | None):
        field, message = next(iter(errors.items()))
        super().__init__(field, message)
        self.errors = errors
        self.rib = rib


@dataclass(frozen=True)
class CheckedBankAccount:
    structure: Structure
    nom: str
    affactureur: str | None
    type: str
    parts: identifiers.IbanParts
    bic: str
    information: str
    rib: attachments.ValidatedFile


def check_bank_account(session: Session, structure: Structure | None, data: BankAccountData,
                       max_bytes: int) -> CheckedBankAccount:
    """Check every field in one pass (the user sees all the problems at once); `structure` is
    None when the chosen structure may not be modified. Raises BankAccountInvalid."""
    errors: dict[str, str] = {}
    if structure is None:
        errors["structure_id"] = "Choisissez une structure que vous pouvez modifier."
    nom = (data.nom or "").strip()
    if not nom:
        errors["nom"] = "Saisissez le nom de la coordonnée bancaire."
    if data.type not in BANK_ACCOUNT_TYPES:
        errors["type"] = "Choisissez le type."
    if not (data.information or "").strip():
        errors["information"] = ("Saisissez une information (ex. compte professionnel, banque "
                                 "et agence).")
    parts = bic = rib = None
    try:
        parts = identifiers.check_iban_parts(data.pays, data.cle_iban, data.bban)
    except IdentifierError as exc:
        errors[{"pays": "pays", "cle": "cle_iban"}.get(exc.part, "bban")] = str(exc)
    try:
        bic = identifiers.check_bic(data.bic)
        if parts is not None:
            identifiers.check_bic_country(bic, parts.country)
    except IdentifierError as exc:
        errors["bic"] = str(exc)
    if not data.rib_data:
        errors["piece_jointe"] = "Joignez le RIB (pièce jointe obligatoire)."
    else:
        try:
            rib = attachments.validate_upload(data.rib_filename, data.rib_data, max_bytes)
        except attachments.UploadError as exc:
            errors["piece_jointe"] = str(exc)
    if parts is not None and structure is not None:
        twin = _active_account_with_iban(session, structure, parts.iban)
        if twin is not None:
            errors["bban"] = (f"Cet IBAN est déjà celui de la coordonnée bancaire active "
                              f"« {twin.nom} » de la structure : utilisez-la, ou désactivez-la "
                              "avant d'en créer une nouvelle.")
    if errors:
        raise BankAccountInvalid(errors, rib)
    return CheckedBankAccount(
        structure=structure, nom=nom[:100], affactureur=(data.affactureur or "").strip() or None,
        type=data.type, parts=parts, bic=bic, information=data.information.strip(), rib=rib)


def _active_account_with_iban(session: Session, structure: Structure,
                              iban: str) -> BankAccount | None:
    return session.scalar(select(BankAccount).where(
        BankAccount.structure_id == structure.id, BankAccount.iban == iban,
        BankAccount.is_active.is_(True)).limit(1))


def keep_rib(session: Session, rib: attachments.ValidatedFile) -> str:
    """Store a checked RIB not yet used by an account (the rest of the form was refused), so the
    user need not choose it again. Returns its sha256; the caller binds it to the user."""
    return storage.store(session, rib.data, rib.mime).sha256


def create_bank_account(session: Session, structure: Structure | None, data: BankAccountData,
                        max_bytes: int) -> BankAccount:
    """« Créer une coordonnée bancaire »: IBAN parts, BIC and the RIB file, all checked."""
    return add_bank_account(session, check_bank_account(session, structure, data, max_bytes))


def add_bank_account(session: Session, checked: CheckedBankAccount) -> BankAccount:
    stored = storage.store(session, checked.rib.data, checked.rib.mime)
    account = BankAccount(
        structure_id=checked.structure.id, nom=checked.nom, affactureur=checked.affactureur,
        type=checked.type, pays=checked.parts.country, iban=checked.parts.iban, bic=checked.bic,
        information=checked.information, rib_sha256=stored.sha256,
        rib_filename=checked.rib.safe_name,
    )
    session.add(account)
    session.flush()
    return account


def get_bank_account(session: Session, structure: Structure, account_id: int) -> BankAccount | None:
    account = session.get(BankAccount, account_id)
    return account if account is not None and account.structure_id == structure.id else None


def set_bank_account_active(session: Session, account: BankAccount, active: bool) -> None:
    account.is_active = active
    session.flush()


def remove_bank_account(session: Session, account: BankAccount) -> str:
    """Delete an unused account; one chosen by a mémoire is deactivated (never deleted).

    Returns "supprime" or "desactive".
    """
    if _used_by_memoires(session, Memoire.bank_account_id, account.id):
        account.is_active = False
        session.flush()
        return "desactive"
    digest = account.rib_sha256
    session.delete(account)
    session.flush()
    _drop_unused_file(session, digest)
    return "supprime"


def _drop_unused_file(session: Session, digest: str | None) -> None:
    from models import StoredFile

    if not digest:
        return
    used = session.scalar(select(func.count(Attachment.id)).where(Attachment.sha256 == digest))
    used = used or session.scalar(select(func.count(BankAccount.id)).where(
        BankAccount.rib_sha256 == digest))
    if not used:
        stored = session.get(StoredFile, digest)
        if stored is not None:
            session.delete(stored)
            session.flush()


# ------------------------------------------------------------------ documents de la structure

def documents(session: Session, structure: Structure) -> list[Attachment]:
    return attachments.library(session, structure.id)


def get_document(session: Session, structure: Structure, document_id: int) -> Attachment | None:
    document = session.get(Attachment, document_id)
    if document is None or document.structure_id != structure.id or document.memoire_id:
        return None
    return document


def add_document(session: Session, user: User, structure: Structure, filename: str,
                 data: bytes, designation: str, type_code: str, max_bytes: int) -> Attachment:
    try:
        return attachments.add_structure_document(session, user, structure, filename, data,
                                                  designation, type_code, max_bytes)
    except attachments.UploadError as exc:
        raise OrganisationError(exc.field, str(exc)) from None


def delete_document(session: Session, user: User, document: Attachment) -> None:
    attachments.delete_attachment(session, user, document)
