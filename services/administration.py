"""Administration of the portal: juridictions and their agents, support agents, user accounts,
reference tariffs. The caller checks that the acting user is an administrator."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import Juridiction, Tariff, TypePrestation, User
from models.juridiction import JURIDICTION_TYPES
from models.organisation import ROLE_AGENT, ROLE_SUPPORT
from services import accounts, registration


class AdminError(ValueError):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------ juridictions

def search_juridictions(session: Session, search: str | None = None) -> list[Juridiction]:
    query = select(Juridiction).order_by(Juridiction.departement, Juridiction.nom)
    term = (search or "").strip()
    if term:
        like = f"%{term}%"
        query = query.where(or_(Juridiction.nom.ilike(like), Juridiction.code.ilike(like),
                                Juridiction.departement.ilike(like)))
    return list(session.scalars(query))


def _check_juridiction_fields(nom: str, departement: str, type_: str) -> tuple[str, str]:
    nom = (nom or "").strip()
    departement = (departement or "").strip().upper()
    if not nom:
        raise AdminError("nom", "Saisissez le nom de la juridiction.")
    if not re.fullmatch(r"[0-9]{2,3}|2A|2B", departement):
        raise AdminError("departement", "Département : 2 ou 3 chiffres (ou 2A, 2B).")
    if type_ not in JURIDICTION_TYPES:
        raise AdminError("type", "Choisissez le type de juridiction.")
    return nom, departement


def create_juridiction(session: Session, code: str, nom: str, departement: str,
                       type_: str) -> Juridiction:
    code = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9_]{2,40}", code):
        raise AdminError("code", "Le code ne contient que des lettres minuscules, des chiffres "
                                 "et « _ » (ex. tj75056).")
    nom, departement = _check_juridiction_fields(nom, departement, type_)
    if session.scalar(select(func.count(Juridiction.id)).where(Juridiction.code == code)):
        raise AdminError("code", "Une juridiction porte déjà ce code.")
    juridiction = Juridiction(code=code, nom=nom, departement=departement, type=type_)
    session.add(juridiction)
    session.flush()
    return juridiction


def rename_juridiction(session: Session, juridiction: Juridiction, nom: str) -> None:
    nom = (nom or "").strip()
    if not nom:
        raise AdminError("nom", "Saisissez le nom de la juridiction.")
    juridiction.nom = nom[:200]
    session.flush()


def set_juridiction_active(session: Session, juridiction: Juridiction, active: bool) -> None:
    """A deactivated juridiction is no longer offered to new mémoires; sent ones keep it."""
    juridiction.is_active = active
    session.flush()


# ------------------------------------------------------------------ accounts

def agents(session: Session, juridiction: Juridiction) -> list[User]:
    return list(session.scalars(select(User).where(
        User.role == ROLE_AGENT, User.juridiction_id == juridiction.id).order_by(User.full_name)))


def support_agents(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.role == ROLE_SUPPORT)
                                .order_by(User.full_name)))


def create_staff_account(session: Session, settings: Mapping, links: registration.Links,
                         email: str, full_name: str, role: str,
                         juridiction: Juridiction | None = None) -> User:
    """An agent (of a juridiction) or support account; its owner sets a password by link."""
    email = accounts.normalize_email(email or "")
    full_name = (full_name or "").strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise AdminError("email", "Adresse électronique invalide.")
    if not full_name:
        raise AdminError("full_name", "Saisissez le nom et le prénom.")
    if accounts.find_user(session, email) is not None:
        raise AdminError("email", "Un compte existe déjà avec cette adresse.")
    if role == ROLE_AGENT and juridiction is None:
        raise AdminError(None, "Un agent est rattaché à une juridiction.")
    user = accounts.create_user(session, email, registration.unusable_password(), full_name,
                                role, juridiction_id=juridiction.id if juridiction else None,
                                email_confirmed=False)
    context = (f"agent de la juridiction « {juridiction.label} »" if juridiction
               else "agent du support")
    registration.invite(session, settings, links, user, context)
    return user


def search_users(session: Session, search: str | None = None, limit: int = 200) -> list[User]:
    query = select(User).order_by(User.role, User.full_name).limit(limit)
    term = (search or "").strip()
    if term:
        like = f"%{term}%"
        query = query.where(or_(User.email.ilike(like), User.full_name.ilike(like)))
    return list(session.scalars(query))


def set_user_enabled(session: Session, admin: User, user: User, enabled: bool,
                     settings: Mapping | None = None) -> None:
    """Disabling an account ends every session it has open, at their next request."""
    if user.id == admin.id:
        raise AdminError(None, "Vous ne pouvez pas désactiver votre propre compte.")
    if not enabled and settings is not None and accounts.shared_demo_account(user, settings):
        raise AdminError(None, "Compte de démonstration partagé : il reste actif pendant la "
                               "démonstration.")
    user.is_enabled = enabled
    if not enabled:
        accounts.end_sessions(user)
    session.flush()


# ------------------------------------------------------------------ tariffs

def types_with_tariffs(session: Session) -> list[TypePrestation]:
    return list(session.scalars(select(TypePrestation).order_by(TypePrestation.position,
                                                                TypePrestation.libelle)))


def add_tariff(session: Session, type_code: str, amount: Decimal | None, valid_from: date | None,
               reference: str, note: str = "") -> Tariff:
    """A new tariff from valid_from on; the tariff in force the day before is closed then.

    Mémoires keep the amounts they were saved with: a new tariff changes none of them.
    """
    type_prestation = session.get(TypePrestation, type_code)
    if type_prestation is None:
        raise AdminError(None, "Type de prestation inconnu.")
    if amount is None or amount < 0:
        raise AdminError("amount", "Saisissez un montant positif ou nul.")
    if valid_from is None:
        raise AdminError("valid_from", "Saisissez la date de début de validité.")
    reference = (reference or "").strip()
    if not reference:
        raise AdminError("reference", "Saisissez le texte de référence (ex. A. 43-7 CPP).")
    latest = session.scalar(select(Tariff).where(Tariff.type_code == type_code)
                            .order_by(Tariff.valid_from.desc(), Tariff.id.desc()).limit(1))
    if latest is not None:
        if valid_from <= latest.valid_from:
            from services.formatting import day

            raise AdminError("valid_from", "La date de début doit être postérieure au "
                                           f"{day(latest.valid_from)} (début du tarif en vigueur).")
        if latest.valid_to is None or latest.valid_to >= valid_from:
            latest.valid_to = valid_from - timedelta(days=1)
    tariff = Tariff(type_code=type_code, amount=amount, valid_from=valid_from, valid_to=None,
                    reference=reference[:200], note=(note or "").strip())
    session.add(tariff)
    session.flush()
    return tariff


def edit_tariff(session: Session, tariff: Tariff, valid_to: date | None, reference: str,
                note: str) -> None:
    """Reference, note and end of validity; the amount and start of a tariff never change."""
    reference = (reference or "").strip()
    if not reference:
        raise AdminError("reference", "Saisissez le texte de référence.")
    if valid_to is not None and valid_to < tariff.valid_from:
        raise AdminError("valid_to", "La fin de validité ne peut précéder son début.")
    following = session.scalar(select(Tariff).where(
        Tariff.type_code == tariff.type_code, Tariff.valid_from > tariff.valid_from)
        .order_by(Tariff.valid_from).limit(1))
    if following is not None and (valid_to is None or valid_to >= following.valid_from):
        raise AdminError("valid_to", "La fin de validité doit précéder le début du tarif "
                                     "suivant.")
    tariff.valid_to = valid_to
    tariff.reference = reference[:200]
    tariff.note = (note or "").strip()
    session.flush()
