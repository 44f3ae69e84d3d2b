"""« Assistance »: what the helpdesk (support agents) needs to answer a provider's call.

A support agent finds an account by its e-mail address and sees its state (confirmed, disabled,
dates, structures and profiles, pending requests); they may send the account's owner a new
confirmation link or a password reset link — through the sign-up and « Mot de passe oublié »
services, so the link always goes to the owner's own address. They follow a mémoire by its
number: status, juridiction, structure and history, never its amounts, lines, attachments, bank
details or messages. They never see or set a password and never disable an account (the
administrator does). Every lookup and every action is written to the security log.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from models import Habilitation, Memoire, Structure, Transition, User
from models.organisation import (
    HABILITATION_GRANTED,
    HABILITATION_REQUESTED,
    ROLE_PRESTATAIRE,
    ROLES,
)
from services import lifecycle, registration

log = logging.getLogger("portail.security")

MAX_ACCOUNTS = 20
QUERY_MIN = 3
SYSTEM_LABEL = "Portail (transmission automatique)"
NUMERO_PATTERN = re.compile(r"(MJ|TMP)[0-9]{1,20}")


class AssistanceError(ValueError):
    """An action that does not apply to this account (French message for the agent)."""


class AccountNotFound(LookupError):
    pass


# ------------------------------------------------------------------ accounts

@dataclass
class StructureRights:
    """One structure of an account: gestionnaire or not, granted profiles, pending requests."""

    structure: Structure
    gestionnaire: bool = False
    granted: list[Habilitation] = field(default_factory=list)
    pending: list[Habilitation] = field(default_factory=list)


@dataclass(frozen=True)
class Account:
    user: User
    structures: list[StructureRights]

    @property
    def can_resend_confirmation(self) -> bool:
        return _confirmation_refusal(self.user) is None

    @property
    def can_send_reset(self) -> bool:
        return self.user.is_enabled


@dataclass(frozen=True)
class AccountSearch:
    accounts: list[Account]
    truncated: bool


def find_accounts(session: Session, query: str, limit: int = MAX_ACCOUNTS) -> AccountSearch:
    """Accounts whose e-mail is the query or starts with it (case-insensitive), exact first."""
    term = query.strip().lower()
    email = func.lower(User.email)
    users = list(session.scalars(
        select(User).where(email.startswith(term, autoescape=True))
        .order_by((email == term).desc(), email)
        .options(selectinload(User.habilitations).selectinload(Habilitation.structure),
                 selectinload(User.habilitations).selectinload(Habilitation.service))
        .limit(limit + 1)
    ))
    truncated = len(users) > limit
    users = users[:limit]
    managed = _managed_structures(session, [u.id for u in users])
    return AccountSearch([Account(u, _rights(u, managed.get(u.id, []))) for u in users],
                         truncated)


def _managed_structures(session: Session, user_ids: list[int]) -> dict[int, list[Structure]]:
    found: dict[int, list[Structure]] = {}
    if user_ids:
        for structure in session.scalars(select(Structure)
                                         .where(Structure.gestionnaire_id.in_(user_ids))):
            found.setdefault(structure.gestionnaire_id, []).append(structure)
    return found


def _rights(user: User, managed: list[Structure]) -> list[StructureRights]:
    by_structure: dict[int, StructureRights] = {}
    for structure in managed:
        by_structure[structure.id] = StructureRights(structure, gestionnaire=True)
    for habilitation in user.habilitations:
        if habilitation.status not in (HABILITATION_GRANTED, HABILITATION_REQUESTED):
            continue
        rights = by_structure.setdefault(habilitation.structure_id,
                                         StructureRights(habilitation.structure))
        target = rights.granted if habilitation.status == HABILITATION_GRANTED else rights.pending
        target.append(habilitation)
    for rights in by_structure.values():
        for items in (rights.granted, rights.pending):
            items.sort(key=lambda h: (h.service.code if h.service else "", h.profile))
    return sorted(by_structure.values(), key=lambda r: r.structure.raison_sociale.lower())


def _account(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AccountNotFound(user_id)
    return user


def _confirmation_refusal(user: User) -> str | None:
    if not user.is_enabled:
        return "Ce compte est désactivé : seul l'administrateur peut le réactiver."
    if user.email_confirmed:
        return "L'adresse de ce compte est déjà confirmée."
    if user.role != ROLE_PRESTATAIRE:
        # Staff accounts are created by the administrator and confirmed by choosing a password.
        return ("Ce compte a été créé par l'administrateur : envoyez plutôt un lien de "
                "réinitialisation du mot de passe, qui lui permet de choisir son mot de passe.")
    return None


def resend_confirmation(session: Session, settings: Mapping, links: registration.Links,
                        agent: User, user_id: int) -> User:
    """A new confirmation link to the account's own address (older links stop working)."""
    user = _account(session, user_id)
    refusal = _confirmation_refusal(user)
    if refusal:
        raise AssistanceError(refusal)
    registration.send_confirmation(session, settings, links, user)
    record(agent, "support.confirmation_sent", target=user.id)
    return user


def send_reset(session: Session, settings: Mapping, links: registration.Links, agent: User,
               user_id: int) -> User:
    """The « Mot de passe oublié » link, sent to the account's own address."""
    user = _account(session, user_id)
    if not user.is_enabled:
        raise AssistanceError("Ce compte est désactivé : seul l'administrateur peut le "
                              "réactiver.")
    registration.request_reset(session, settings, links, user.email)
    record(agent, "support.reset_sent", target=user.id)
    return user


# ------------------------------------------------------------------ mémoires

@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    from_label: str
    to_label: str
    by: str


@dataclass(frozen=True)
class MemoireSummary:
    """What the helpdesk may tell about a mémoire: no amount, line, file, bank data, message."""

    numero: str
    numero_tmp: str
    status_label: str
    juridiction: str
    raison_sociale: str
    structure_identifier: str
    created_at: datetime
    sent_at: datetime | None
    status_changed_at: datetime
    history: list[HistoryRow]


def normalize_numero(text: str) -> str:
    return re.sub(r"\s+", "", text or "").upper()


def is_numero(text: str) -> bool:
    return NUMERO_PATTERN.fullmatch(normalize_numero(text)) is not None


def find_memoire(session: Session, numero: str) -> MemoireSummary | None:
    """The mémoire bearing this MJ or TMP number, as the helpdesk sees it."""
    numero = normalize_numero(numero)
    memoire = session.scalar(select(Memoire).where(
        or_(Memoire.numero_mj == numero, Memoire.numero_tmp == numero)))
    if memoire is None:
        return None
    transitions = session.scalars(select(Transition).where(Transition.memoire_id == memoire.id)
                                  .order_by(Transition.id)).all()
    return MemoireSummary(
        numero=memoire.numero, numero_tmp=memoire.numero_tmp,
        status_label=lifecycle.label(memoire.status), juridiction=memoire.juridiction.label,
        raison_sociale=memoire.structure.raison_sociale,
        structure_identifier=memoire.structure.identifier, created_at=memoire.created_at,
        sent_at=memoire.sent_at, status_changed_at=memoire.status_changed_at,
        history=provider_history(transitions),
    )


def provider_history(transitions) -> list[HistoryRow]:
    """Every row of the history, labelled as on the provider's « Suivi du mémoire » panel;
    only the role of who acted is told, never their name."""
    rows = []
    for t in transitions:
        by = SYSTEM_LABEL if t.actor_role in (None, lifecycle.SYSTEM) \
            else ROLES.get(t.actor_role, t.actor_role)
        rows.append(HistoryRow(
            at=t.at, by=by, to_label=lifecycle.state_label(t.to_status, t.to_step),
            from_label=(lifecycle.state_label(t.from_status, t.from_step) if t.from_status
                        else "Création")))
    return rows


# ------------------------------------------------------------------ security log

def record(agent: User, event: str, **fields) -> None:
    """One line of the security log: who, what, and the escaped values (no log injection)."""
    details = " ".join(f"{key}={_escape(value)}" for key, value in fields.items())
    log.info("event=%s user=%s %s", event, agent.id, details)


def _escape(value) -> str:
    text = str(value)[:300].encode("unicode_escape").decode("ascii")
    return text.replace(" ", "\\x20").replace("=", "\\x3d") or '""'
