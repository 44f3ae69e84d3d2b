"""Builders for the lifecycle tests: mémoires sent with the real sending service (B's
services.submission) and delivered by services.transmission, then moved by the decisions."""
from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from extensions import db
from models import BankAccount, Juridiction, Memoire, Structure, User
from services import decisions, lifecycle, memoires, submission, transmission

_affaires = itertools.count(1)

INTERPRETE = "interprete@demo.test"
CONSULTATION = "consultation@demo.test"
EXPERT = "expert@demo.test"
GREFFE = "greffe@demo.test"
SUPPORT = "support@demo.test"
ADMIN = "admin@demo.test"


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def juridiction(code: str) -> Juridiction:
    return db.session.scalar(select(Juridiction).where(Juridiction.code == code))


def draft(email: str = INTERPRETE, juridiction_code: str = "tj75056", *,
          tarif: Decimal = Decimal("30.00"), type_code: str = "TRAD_ORALE",
          days_ago: int = 5, affaire: str | None = None) -> Memoire:
    owner = user(email)
    structure = db.session.scalar(select(Structure).where(Structure.gestionnaire_id == owner.id))
    account = db.session.scalar(select(BankAccount).where(BankAccount.structure_id == structure.id))
    memoire = memoires.create_draft(
        db.session, owner, structure_id=structure.id, service_id=structure.services[0].id,
        juridiction_id=juridiction(juridiction_code).id, categorie_code=structure.categorie_code,
        bank_account_id=account.id, devise="EUR", texte_code="R92",
        vat_type="DEBITS")
    today = date.today()
    memoires.add_line(db.session, owner, memoire, memoires.LineData(
        numero_affaire=affaire or f"2025/{next(_affaires):04d}",
        date_requisition=today - timedelta(days=days_ago + 1), autorite_code="OPJ",
        type_code=type_code, date_prestation=today - timedelta(days=days_ago),
        quantite=Decimal("2"), tarif_ht=tarif, taux_tva=Decimal("20")))
    db.session.flush()
    return memoire


def send(memoire: Memoire, email: str | None = None, *, transmit: bool = True) -> Memoire:
    sender = user(email) if email else memoire.created_by
    submission.submit(db.session, memoire, sender, "127.0.0.1", submission.HONOUR_VERSION)
    db.session.commit()
    if transmit:
        transmission.transmit(db.session, memoire)
    return memoire


def sent_with_other_amounts() -> Memoire:
    """REFERENCE.md §3.1's worked example with a bordereau, added as line 2 and sent: 3 × 30,00 =
    90,00 HT, frais divers 12,00 (24 km) + 0,90 (affranchissement), débours 5,00, remise 2,00,
    TVA 20 % — so the line is 100,90 HT and 126,08 TTC."""
    memoire = draft()
    day = date.today() - timedelta(days=3)
    memoires.add_line(db.session, user(INTERPRETE), memoire, memoires.LineData(
        numero_affaire="2025/FRAIS", date_requisition=day - timedelta(days=1),
        autorite_code="OPJ", type_code="TRAD_ORALE", date_prestation=day,
        quantite=Decimal("3"), tarif_ht=Decimal("30.00"), taux_tva=Decimal("20"),
        debours=Decimal("5.00"), remise=Decimal("2.00"), frais=[
            memoires.FraisData(day, "kilometres", Decimal("24"), Decimal("12.00")),
            memoires.FraisData(day, "affranchissement", Decimal("1"), Decimal("0.90"))]))
    db.session.commit()
    return send(memoire)


def received(email: str = INTERPRETE, **kwargs) -> Memoire:
    """A mémoire « Mis à disposition », à contrôler."""
    return send(draft(email, **kwargs), email)


def in_state(state: str, **kwargs) -> Memoire:
    """A mémoire in one of the states of the lifecycle (committed)."""
    greffe = user(GREFFE)
    provider = user(INTERPRETE)
    if state == "BROUILLON":
        memoire = draft(**kwargs)
        db.session.commit()
        return memoire
    if state == "ENVOYE":
        return send(draft(**kwargs), transmit=False)
    memoire = received(**kwargs)
    if state == "A_CONTROLER":
        return memoire
    if state in ("REFUSE", "ABANDONNE", "DUPLIQUE_POST_REFUS"):
        decisions.refuse(db.session, greffe, memoire, "PIECE_MANQUANTE", "Réquisition absente.",
                         None)
        db.session.commit()
        if state == "ABANDONNE":
            decisions.abandon(db.session, provider, memoire, None)
            db.session.commit()
        if state == "DUPLIQUE_POST_REFUS":
            decisions.duplicate_after_refusal(db.session, provider, memoire, None)
            db.session.commit()
        return memoire
    decisions.certify(db.session, greffe, memoire, memoire.total_ttc, None, lifecycle.CERTIFIE,
                      None)
    db.session.commit()
    if state == "CERTIFIE":
        return memoire
    decisions.pay(db.session, greffe, memoire, date.today(), "PAY-2025-001", None, date.today())
    db.session.commit()
    assert state == "MIS_EN_PAIEMENT"
    return memoire


STATES = ["BROUILLON", "ENVOYE", "A_CONTROLER", "CERTIFIE", "REFUSE", "ABANDONNE",
          "DUPLIQUE_POST_REFUS", "MIS_EN_PAIEMENT"]
