"""« Mes habilitations » and « Gérer mes habilitations »: requests, decisions, the gestionnaire.

A user asks for « Frais de justice consultation » or « Frais de justice modification » on a
structure (optionally one of its services); the structure's gestionnaire grants or refuses,
removes profiles and may hand the gestionnaire role over. What a profile allows is decided by
services.permissions, read from the database at every request: a removed profile stops working
at the user's next request.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload

from models import Habilitation, Service, Structure, User
from models.organisation import (
    HABILITATION_GRANTED,
    HABILITATION_REFUSED,
    HABILITATION_REQUESTED,
    PROFILE_MODIFICATION,
    PROFILES,
)
from models.types import utcnow
from services import mail
from services.organisation import find_structure

STATUS_LABELS = {
    HABILITATION_REQUESTED: "Demandée",
    HABILITATION_GRANTED: "Accordée",
    HABILITATION_REFUSED: "Refusée",
}
CSV_HEADER = ["Structure", "Raison sociale", "Code service", "Libellé service", "Profils"]


class HabilitationError(ValueError):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


class HabilitationNotFound(LookupError):
    pass


def _with_relations(query):
    return query.options(joinedload(Habilitation.structure), joinedload(Habilitation.service),
                         joinedload(Habilitation.user))


def my_habilitations(session: Session, user: User, search: str | None = None) -> list[Habilitation]:
    """The granted profiles of the user, optionally filtered by a search text."""
    query = (select(Habilitation).join(Habilitation.structure)
             .outerjoin(Habilitation.service)
             .where(Habilitation.user_id == user.id, Habilitation.status == HABILITATION_GRANTED))
    term = (search or "").strip()
    if term:
        like = f"%{_escape_like(term.lower())}%"
        matching_profiles = [code for code, label in PROFILES.items() if term.lower() in label.lower()]
        query = query.where(or_(
            Structure.identifier.ilike(like, escape="\\"),
            Structure.raison_sociale.ilike(like, escape="\\"),
            Service.code.ilike(like, escape="\\"),
            Service.libelle.ilike(like, escape="\\"),
            Habilitation.profile.in_(matching_profiles),
        ))
    query = query.order_by(Structure.raison_sociale, Service.code.nulls_first(),
                           Habilitation.profile)
    return list(session.scalars(_with_relations(query)).unique())


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def my_requests(session: Session, user: User) -> list[Habilitation]:
    """The user's requests still waiting, and those refused."""
    query = (select(Habilitation).where(Habilitation.user_id == user.id,
                                        Habilitation.status != HABILITATION_GRANTED)
             .order_by(Habilitation.requested_at.desc(), Habilitation.id.desc()))
    return list(session.scalars(_with_relations(query)).unique())


def csv_rows(habilitations: list[Habilitation]) -> list[list[str]]:
    return [[h.structure.identifier, h.structure.raison_sociale,
             h.service.code if h.service else "", h.service.libelle if h.service else "",
             h.profile_label] for h in habilitations]


# ------------------------------------------------------------------ requests

def request_profile_by_identifier(session: Session, settings: Mapping, user: User,
                                  identifier_type: str, identifier: str,
                                  service_code: str | None, profile: str,
                                  manage_url: Callable[[], str] | None = None) -> Habilitation:
    """Ask for a profile on the active structure that bears this identifier."""
    structure = find_structure(session, identifier_type, identifier)
    if structure is None:
        raise HabilitationError("identifier", "Aucune structure active ne porte cet identifiant.")
    return request_profile(session, settings, user, structure, service_code, profile, manage_url)


def request_profile(session: Session, settings: Mapping, user: User, structure: Structure,
                    service_code: str | None, profile: str,
                    manage_url: Callable[[], str] | None = None) -> Habilitation:
    """Ask the gestionnaire for a profile; the gestionnaire is told by e-mail."""
    if profile not in PROFILES:
        raise HabilitationError("profile", "Choisissez un profil.")
    if not structure.is_active:
        raise HabilitationError("identifier", "Cette structure n'est plus active.")
    service = None
    code = (service_code or "").strip().upper()
    if code:
        service = session.scalar(select(Service).where(Service.structure_id == structure.id,
                                                       Service.code == code,
                                                       Service.is_active.is_(True)))
        if service is None:
            raise HabilitationError("service_code", "Aucun service actif de ce code dans la "
                                                    "structure.")
    existing = session.scalar(select(Habilitation).where(
        Habilitation.user_id == user.id, Habilitation.structure_id == structure.id,
        Habilitation.profile == profile,
        Habilitation.service_id.is_(None) if service is None
        else Habilitation.service_id == service.id,
        Habilitation.status.in_((HABILITATION_GRANTED, HABILITATION_REQUESTED))))
    if existing is not None:
        already = "vous est déjà accordé" if existing.status == HABILITATION_GRANTED \
            else "est déjà demandé"
        raise HabilitationError("profile", f"Ce profil {already} pour cette structure.")
    habilitation = Habilitation(user_id=user.id, structure_id=structure.id,
                                service_id=service.id if service else None, profile=profile,
                                status=HABILITATION_REQUESTED)
    session.add(habilitation)
    session.flush()
    if structure.gestionnaire is not None:
        link = f"\n\nPour y répondre : {manage_url()}" if manage_url else ""
        mail.send(session, settings, structure.gestionnaire.email,
                  "Demande d'habilitation — Portail FJ",
                  f"Bonjour {structure.gestionnaire.full_name},\n\n{user.full_name} ({user.email}) "
                  f"demande le profil « {PROFILES[profile]} » sur la structure "
                  f"{structure.label}{' (service ' + service.code + ')' if service else ''}."
                  f"{link}\n")
    return habilitation


def withdraw(session: Session, user: User, habilitation_id: int) -> None:
    """The user gives up one of their own profiles or requests."""
    habilitation = session.get(Habilitation, habilitation_id)
    if habilitation is None or habilitation.user_id != user.id:
        raise HabilitationNotFound(habilitation_id)
    _refuse_if_gestionnaire_last_write(session, habilitation)
    session.delete(habilitation)
    session.flush()


# ------------------------------------------------------------------ the gestionnaire's side

def managed_structures(session: Session, user: User) -> list[Structure]:
    return list(session.scalars(select(Structure).where(
        Structure.gestionnaire_id == user.id, Structure.is_active.is_(True))
        .order_by(Structure.raison_sociale)))


def managed_habilitations(session: Session, user: User,
                          status: str | None = None) -> list[Habilitation]:
    """Profiles and requests on the structures the user manages."""
    query = (select(Habilitation).join(Habilitation.structure)
             .where(Structure.gestionnaire_id == user.id))
    if status:
        query = query.where(Habilitation.status == status)
    query = query.order_by(Structure.raison_sociale, Habilitation.requested_at, Habilitation.id)
    return list(session.scalars(_with_relations(query)).unique())


def get_managed(session: Session, user: User, habilitation_id: int) -> Habilitation:
    """A habilitation of a structure managed by the user; anything else is not found."""
    habilitation = session.get(Habilitation, habilitation_id)
    if habilitation is None or habilitation.structure.gestionnaire_id != user.id:
        raise HabilitationNotFound(habilitation_id)
    return habilitation


def decide(session: Session, settings: Mapping, manager: User, habilitation: Habilitation,
           grant: bool) -> None:
    if habilitation.status != HABILITATION_REQUESTED:
        raise HabilitationError(None, "Cette demande a déjà été traitée.")
    habilitation.status = HABILITATION_GRANTED if grant else HABILITATION_REFUSED
    habilitation.decided_at = utcnow()
    habilitation.decided_by_id = manager.id
    session.flush()
    verdict = "accordé" if grant else "refusé"
    mail.send(session, settings, habilitation.user.email, f"Habilitation {verdict}e — Portail FJ",
              f"Bonjour {habilitation.user.full_name},\n\nLe profil « {habilitation.profile_label} »"
              f" sur la structure {habilitation.structure.label} vous a été {verdict}.\n")


def remove(session: Session, manager: User, habilitation: Habilitation) -> None:
    """The gestionnaire removes a profile: it stops working at the user's next request."""
    _refuse_if_gestionnaire_last_write(session, habilitation)
    session.delete(habilitation)
    session.flush()


def _refuse_if_gestionnaire_last_write(session: Session, habilitation: Habilitation) -> None:
    structure = habilitation.structure
    if (habilitation.user_id == structure.gestionnaire_id
            and habilitation.status == HABILITATION_GRANTED
            and habilitation.profile == PROFILE_MODIFICATION
            and habilitation.service_id is None):
        raise HabilitationError(
            None, "Le gestionnaire garde le profil « Frais de justice modification » : "
                  "transmettez d'abord le rôle de gestionnaire.")


def gestionnaire_candidates(session: Session, structure: Structure) -> list[User]:
    """Users who may become gestionnaire: granted « modification » on the whole structure."""
    return list(session.scalars(
        select(User).join(Habilitation, Habilitation.user_id == User.id)
        .where(Habilitation.structure_id == structure.id,
               Habilitation.status == HABILITATION_GRANTED,
               Habilitation.profile == PROFILE_MODIFICATION,
               Habilitation.service_id.is_(None),
               User.id != structure.gestionnaire_id, User.is_enabled.is_(True))
        .order_by(User.full_name).distinct()))


def transfer_gestionnaire(session: Session, settings: Mapping, manager: User,
                          structure: Structure, new_user_id: int | None) -> User:
    if structure.gestionnaire_id != manager.id:
        raise HabilitationNotFound(structure.id)
    candidate = next((u for u in gestionnaire_candidates(session, structure)
                      if u.id == new_user_id), None)
    if candidate is None:
        raise HabilitationError(
            "user_id", "Choisissez un utilisateur qui a le profil « Frais de justice "
                       "modification » sur la structure.")
    structure.gestionnaire_id = candidate.id
    session.flush()
    mail.send(session, settings, candidate.email, "Vous êtes gestionnaire — Portail FJ",
              f"Bonjour {candidate.full_name},\n\n{manager.full_name} vous a transmis le rôle de "
              f"gestionnaire de la structure {structure.label}.\n")
    return candidate
