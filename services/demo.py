"""Demo data for webinars and evaluation: `flask --app app demo`.

Every account has the password DEMO_PASSWORD. Later capabilities add their own demo objects
in create_demo_data (mémoires in every status, messages, tickets…).
"""
from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import BankAccount, Habilitation, Juridiction, Service, Structure, User
from models.organisation import (
    HABILITATION_GRANTED, PROFILE_CONSULTATION, PROFILE_MODIFICATION, ROLE_ADMIN, ROLE_AGENT,
    ROLE_PRESTATAIRE, ROLE_SUPPORT,
)
from services import accounts, storage

DEMO_PASSWORD = "demo-frais-de-justice"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: str
    description: str


DEMO_ACCOUNTS = [
    DemoAccount("interprete@demo.test", "Claire Lefèvre", ROLE_PRESTATAIRE,
                "Interprète, gestionnaire de « Cabinet Lefèvre Interprétariat » (modification)"),
    DemoAccount("expert@demo.test", "Dr Paul Aubert", ROLE_PRESTATAIRE,
                "Expert psychiatre, « Dr Aubert, expert psychiatre » (modification)"),
    DemoAccount("consultation@demo.test", "Marc Petit", ROLE_PRESTATAIRE,
                "Consultation seule sur « Cabinet Lefèvre Interprétariat »"),
    DemoAccount("greffe@demo.test", "Sophie Martin", ROLE_AGENT,
                "Agent du Tribunal judiciaire de Paris"),
    DemoAccount("support@demo.test", "Julien Bernard", ROLE_SUPPORT, "Agent du support"),
    DemoAccount("admin@demo.test", "Nadia Roux", ROLE_ADMIN, "Administrateur du portail"),
]


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(func.count(User.id))) == 0


def rib_pdf(holder: str, iban: str, bic: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, "Relevé d'identité bancaire", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in (f"Titulaire : {holder}", f"IBAN : {iban}", f"BIC : {bic}"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _user(session: Session, account: DemoAccount, **fields) -> User:
    return accounts.create_user(session, account.email, DEMO_PASSWORD, account.full_name,
                                account.role, **fields)


def _grant(session: Session, user: User, structure: Structure, profile: str) -> None:
    session.add(Habilitation(user=user, structure=structure, profile=profile,
                             status=HABILITATION_GRANTED))


def _bank_account(session: Session, structure: Structure, nom: str, iban: str,
                  bic: str) -> BankAccount:
    rib = storage.store(session, rib_pdf(structure.raison_sociale, iban, bic), "application/pdf")
    account = BankAccount(structure=structure, nom=nom, type="IBAN", pays=iban[:2], iban=iban,
                          bic=bic, information="Compte professionnel", rib_sha256=rib.sha256,
                          rib_filename="rib.pdf")
    session.add(account)
    return account


def create_demo_data(session: Session) -> str:
    """Create the demo accounts, structures and objects. Returns a short summary."""
    by_email = {a.email: a for a in DEMO_ACCOUNTS}
    paris = session.scalar(select(Juridiction).where(Juridiction.code == "tj75056"))

    interprete = _user(session, by_email["interprete@demo.test"])
    expert = _user(session, by_email["expert@demo.test"])
    consultation = _user(session, by_email["consultation@demo.test"])
    _user(session, by_email["greffe@demo.test"], juridiction=paris)
    _user(session, by_email["support@demo.test"])
    _user(session, by_email["admin@demo.test"])

    cabinet = Structure(
        identifier_type="SIRET", identifier="81234567600017",
        raison_sociale="Cabinet Lefèvre Interprétariat", numero_rcs="812 345 676 R.C.S. Paris",
        tva_intracom="FR19812345676", email="contact@lefevre-interpretariat.test",
        adresse="12 rue des Traducteurs", code_postal="75011", ville="Paris", pays="FR",
        telephone="01 23 45 67 89", categorie_code="INTERPRETE", regime="COSP",
        default_vat_type="ENCAISSEMENTS", gestionnaire=interprete,
    )
    cabinet.services = [Service(code="INTERP", libelle="Interprétariat"),
                        Service(code="TRAD", libelle="Traduction écrite")]
    aubert = Structure(
        identifier_type="SIRET", identifier="84256791900019",
        raison_sociale="Dr Aubert, expert psychiatre", email="cabinet@aubert-expert.test",
        adresse="3 place du Palais", code_postal="69002", ville="Lyon", pays="FR",
        categorie_code="PSYCHIATRE", regime="INDEPENDANT", default_vat_type="EXONERE",
        gestionnaire=expert,
    )
    aubert.services = [Service(code="EXPERT", libelle="Expertises psychiatriques")]
    session.add_all([cabinet, aubert])

    _bank_account(session, cabinet, "Compte principal", "FR7630006000011234567890189", "AGRIFRPP")
    _bank_account(session, aubert, "Compte du cabinet", "FR7630004000031234567890143", "BNPAFRPP")

    _grant(session, interprete, cabinet, PROFILE_MODIFICATION)
    _grant(session, consultation, cabinet, PROFILE_CONSULTATION)
    _grant(session, expert, aubert, PROFILE_MODIFICATION)
    session.flush()
    return f"{len(DEMO_ACCOUNTS)} comptes de démonstration créés (mot de passe : {DEMO_PASSWORD})."
