"""Decisions on a sent mémoire: the juridiction's (« Refuser », « Certifier », « Mettre en
paiement », batch certification, assignment) and the provider's after a refusal (« Abandonner »,
« Dupliquer »).

Each decision is one transaction (the caller commits): a conditional status change through
services.lifecycle (audit row, hash chain; `UPDATE … WHERE version = :seen`), the decision's
own fields, an automatic message in the thread and the notifications. When someone else acted
first the version no longer matches: everything is rolled back and ConflictError says so.
Refusal reasons are data: data/motifs_refus.csv (code;libelle;comment_corriger).
"""
from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Memoire, Transition, User
from models.organisation import ROLE_AGENT
from services import control, lifecycle, messages, notifications, permissions
from services.formatting import amount, day
from services.money import MAX_AMOUNT, round_cents

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REASONS_FILE = DATA_DIR / "motifs_refus.csv"
MAX_TEXT = 2000
MAX_REFERENCE = 50

ConflictError = lifecycle.ConflictError


class DecisionError(ValueError):
    """Bad input for a decision; `field` names the form field (French message)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Reason:
    code: str
    libelle: str
    comment_corriger: str


def reasons(path: Path = REASONS_FILE) -> dict[str, Reason]:
    """The refusal reasons catalogue, in the file's order."""
    return _read_reasons(str(path), path.stat().st_mtime)


@lru_cache(maxsize=4)
def _read_reasons(path: str, mtime: float) -> dict[str, Reason]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return {
            row["code"].strip(): Reason(row["code"].strip(), row["libelle"].strip(),
                                        row["comment_corriger"].strip())
            for row in csv.DictReader(handle, delimiter=";") if (row.get("code") or "").strip()
        }


def reason(code: str | None) -> Reason | None:
    return reasons().get(code or "")


@dataclass(frozen=True)
class Refusal:
    """What the provider is told about a refused mémoire."""

    transition: Transition
    reason: Reason | None
    text: str | None

    @property
    def libelle(self) -> str:
        return self.reason.libelle if self.reason else (self.transition.reason_code or "")

    @property
    def comment_corriger(self) -> str:
        return self.reason.comment_corriger if self.reason else ""


def refusal(memoire: Memoire) -> Refusal | None:
    """The refusal of a mémoire (refused, or refused then duplicated/abandoned)."""
    transition = lifecycle.last_transition(memoire, lifecycle.REFUSE)
    if transition is None:
        return None
    return Refusal(transition, reason(transition.reason_code), transition.reason)


def amount_modified(memoire: Memoire) -> bool:
    """« MT modifié »: the amount retained differs from the amount claimed."""
    return memoire.montant_retenu is not None and memoire.montant_retenu != memoire.total_ttc


# ---------------------------------------------------------------- common steps

def _check_agent(agent: User, memoire: Memoire) -> None:
    """Only an agent of the mémoire's juridiction decides for it."""
    if agent.role != ROLE_AGENT:
        raise permissions.Forbidden(memoire.id)
    if agent.juridiction_id != memoire.juridiction_id:
        raise permissions.NotFound(memoire.id)


def _check_provider(session: Session, user: User, memoire: Memoire) -> None:
    """Only a user with « modification » on the mémoire's structure acts for the provider."""
    if user.role == ROLE_AGENT:
        raise permissions.Forbidden(memoire.id)
    if not permissions.can(session, user, memoire.structure_id, permissions.READ):
        raise permissions.NotFound(memoire.id)
    if not permissions.can(session, user, memoire.structure_id, permissions.WRITE):
        raise permissions.Forbidden(memoire.id)


def _check_state(memoire: Memoire, action: str, role: str, expected_version: int | None) -> None:
    if expected_version is not None and memoire.version != expected_version:
        raise ConflictError(memoire)
    if not lifecycle.can_fire(memoire, action, role):
        raise lifecycle.TransitionError(
            f"« {lifecycle.ACTION_LABELS[action]} » est impossible : le mémoire {memoire.numero} "
            f"est à l'état « {lifecycle.label(memoire.status)} ».")


def _move(session: Session, memoire: Memoire, action: str, actor: User, reason_text: str | None,
          reason_code: str | None = None, now: datetime | None = None, **fields) -> Transition:
    status, step = lifecycle.ACTIONS[action]
    transition = lifecycle.record(session, memoire, status, actor, reason_text, to_step=step,
                                  reason_code=reason_code, at=now)
    for name, value in fields.items():
        setattr(memoire, name, value)
    try:
        session.flush()  # UPDATE memoires … WHERE id = :id AND version = :seen
    except StaleDataError:
        session.rollback()
        raise ConflictError(memoire) from None
    return transition


def _announce(session: Session, memoire: Memoire, transition: Transition, actor: User,
              body: str, notice: str, settings: Mapping | None) -> None:
    message = messages.post_decision(session, memoire, transition, body, actor)
    message.created_at = transition.at
    for notification in notifications.notify_both_sides(
            session, memoire, notifications.KIND_STATUS, notice, author=actor, settings=settings):
        notification.created_at = transition.at
    session.flush()


def _text(value: str | None, field: str, required: bool, missing: str) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise DecisionError(field, missing)
    if len(text) > MAX_TEXT:
        raise DecisionError(field, f"{MAX_TEXT} caractères au plus.")
    return text or None


# ---------------------------------------------------------------- juridiction

def refuse(session: Session, agent: User, memoire: Memoire, reason_code: str,
           text: str | None, expected_version: int | None,
           settings: Mapping | None = None, *, now: datetime | None = None) -> Transition:
    """« Refuser » with a reason of the catalogue and a free text."""
    _check_agent(agent, memoire)
    _check_state(memoire, lifecycle.REFUSER, agent.role, expected_version)
    chosen = reason(reason_code)
    if chosen is None:
        raise DecisionError("reason_code", "Choisissez un motif de refus.")
    detail = _text(text, "text", chosen.code == "AUTRE",
                   "Précisez le motif du refus (obligatoire pour « Autre motif »).")
    transition = _move(session, memoire, lifecycle.REFUSER, agent, detail, chosen.code, now)
    body = f"Mémoire refusé. Motif : {chosen.libelle}."
    if detail:
        body += f"\n{detail}"
    body += f"\nComment corriger : {chosen.comment_corriger}"
    _announce(session, memoire, transition, agent, body,
              f"Le mémoire {memoire.numero} a été refusé : {chosen.libelle}.", settings)
    return transition


def certify(session: Session, agent: User, memoire: Memoire, montant_retenu: Decimal | None,
            motif: str | None, route: str, expected_version: int | None,
            settings: Mapping | None = None, *, now: datetime | None = None) -> Transition:
    """« Certifier » the service fait (or record its taxation) with the amount retained."""
    _check_agent(agent, memoire)
    _check_state(memoire, lifecycle.CERTIFIER, agent.role, expected_version)
    if route not in lifecycle.CERTIFICATION_ROUTES:
        raise DecisionError("route", "Choisissez la voie : certification ou taxation.")
    if montant_retenu is None:
        raise DecisionError("montant_retenu", "Saisissez le montant retenu.")
    retained = round_cents(montant_retenu)
    if retained < 0 or retained > MAX_AMOUNT:
        raise DecisionError("montant_retenu", "Le montant retenu doit être compris entre 0 et "
                                              f"{amount(MAX_AMOUNT)} €.")
    modified = retained != memoire.total_ttc
    why = _text(motif, "motif", modified,
                "Le montant retenu diffère du montant demandé : indiquez le motif.")
    if not modified:
        why = None
    status, _ = lifecycle.ACTIONS[lifecycle.CERTIFIER]
    transition = lifecycle.record(session, memoire, status, agent, why, to_step=route, at=now)
    memoire.montant_retenu = retained
    memoire.motif_montant_retenu = why
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise ConflictError(memoire) from None
    verb = "Service fait certifié" if route == lifecycle.CERTIFIE else "Mémoire taxé"
    body = f"{verb}. Montant retenu : {amount(retained)} € (montant demandé : " \
           f"{amount(memoire.total_ttc)} €)."
    if modified:
        body += f"\nMT modifié — motif : {why}"
    _announce(session, memoire, transition, agent, body,
              f"Le mémoire {memoire.numero} : {verb.lower()}, montant retenu "
              f"{amount(retained)} €.", settings)
    return transition


def pay(session: Session, agent: User, memoire: Memoire, paid_on: date | None,
        reference: str | None, expected_version: int | None, today: date,
        settings: Mapping | None = None, *, now: datetime | None = None) -> Transition:
    """« Mettre en paiement » with the date and the payment reference."""
    _check_agent(agent, memoire)
    _check_state(memoire, lifecycle.METTRE_EN_PAIEMENT, agent.role, expected_version)
    if paid_on is None:
        raise DecisionError("paid_on", "Saisissez la date de mise en paiement.")
    if paid_on > today:
        raise DecisionError("paid_on", "La date de mise en paiement ne peut pas être dans le futur.")
    if memoire.sent_at is not None and paid_on < memoire.sent_at.date():
        raise DecisionError("paid_on", "La date de mise en paiement ne peut pas précéder l'envoi "
                                       f"du mémoire ({day(memoire.sent_at)}).")
    ref = (reference or "").strip()
    if not ref:
        raise DecisionError("reference", "Saisissez la référence du paiement.")
    if len(ref) > MAX_REFERENCE:
        raise DecisionError("reference", f"{MAX_REFERENCE} caractères au plus.")
    transition = _move(session, memoire, lifecycle.METTRE_EN_PAIEMENT, agent,
                       f"Référence de paiement {ref} du {day(paid_on)}", None, now,
                       paid_on=paid_on, payment_reference=ref)
    paid = memoire.montant_retenu if memoire.montant_retenu is not None else memoire.total_ttc
    _announce(session, memoire, transition, agent,
              f"Mémoire mis en paiement le {day(paid_on)} (référence {ref}) pour "
              f"{amount(paid)} €.",
              f"Le mémoire {memoire.numero} est mis en paiement ({amount(paid)} €).", settings)
    return transition


@dataclass
class BatchResult:
    certified: list[Memoire]
    skipped: list[tuple[Memoire, str]]


def batch_certify(session: Session, agent: User, memoire_ids: Iterable[int], *,
                  forclusion_months: int = 12, settings: Mapping | None = None) -> BatchResult:
    """Certify at the claimed amount every chosen mémoire whose checklist is all green.

    One transaction: if any of them changed meanwhile, nothing is certified (ConflictError).
    """
    if agent.role != ROLE_AGENT:
        raise permissions.Forbidden(0)
    ids = sorted({int(i) for i in memoire_ids})
    if not ids:
        raise DecisionError("ids", "Cochez au moins un mémoire.")
    found = {m.id: m for m in session.scalars(
        permissions.visible_memoires(session, agent).where(Memoire.id.in_(ids)))}
    if len(found) != len(ids):
        raise permissions.NotFound(0)
    result = BatchResult([], [])
    for memoire_id in ids:
        memoire = found[memoire_id]
        if not lifecycle.can_fire(memoire, lifecycle.CERTIFIER, agent.role):
            result.skipped.append((memoire, f"état « {lifecycle.label(memoire.status)} »"))
            continue
        if not control.is_green(session, memoire, forclusion_months=forclusion_months):
            result.skipped.append((memoire, "contrôles non conformes"))
            continue
        certify(session, agent, memoire, memoire.total_ttc, None, lifecycle.CERTIFIE, None,
                settings)
        result.certified.append(memoire)
    return result


def agents(session: Session, juridiction_id: int) -> list[User]:
    return list(session.scalars(
        select(User).where(User.role == ROLE_AGENT, User.juridiction_id == juridiction_id,
                           User.is_enabled.is_(True)).order_by(User.full_name)))


def assign(session: Session, agent: User, memoire: Memoire, assignee_id: int | None,
           expected_version: int | None) -> User | None:
    """Assign the mémoire to an agent of its juridiction (None: nobody)."""
    _check_agent(agent, memoire)
    if memoire.status not in lifecycle.RECEIVED_BY_JURIDICTION:
        raise permissions.NotFound(memoire.id)
    if expected_version is not None and memoire.version != expected_version:
        raise ConflictError(memoire)
    assignee = None
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or assignee.role != ROLE_AGENT or \
                assignee.juridiction_id != memoire.juridiction_id or not assignee.is_enabled:
            raise DecisionError("assignee_id", "Choisissez un agent de la juridiction.")
    memoire.assigned_to_id = assignee.id if assignee else None
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise ConflictError(memoire) from None
    if assignee is not None and assignee.id != agent.id:
        notifications.notify(session, [assignee], memoire, notifications.KIND_STATUS,
                             f"Le mémoire {memoire.numero} vous a été attribué.", author=agent)
    return assignee


# ---------------------------------------------------------------- provider

def abandon(session: Session, user: User, memoire: Memoire, expected_version: int | None,
            settings: Mapping | None = None, *, now: datetime | None = None) -> Transition:
    """« Abandonner » a refused mémoire."""
    _check_provider(session, user, memoire)
    _check_state(memoire, lifecycle.ABANDONNER, user.role, expected_version)
    transition = _move(session, memoire, lifecycle.ABANDONNER, user, "Abandon par le prestataire",
                       None, now)
    _announce(session, memoire, transition, user, "Mémoire abandonné par le prestataire.",
              f"Le mémoire {memoire.numero} a été abandonné par le prestataire.", settings)
    return transition


def duplicate_after_refusal(session: Session, user: User, memoire: Memoire,
                            expected_version: int | None,
                            settings: Mapping | None = None, *,
                            now: datetime | None = None) -> Memoire:
    """« Dupliquer » a refused mémoire: it becomes « Dupliqué post refus » and a new draft
    carries everything over (services.memoires.duplicate), linked back to it."""
    from services import memoires

    _check_provider(session, user, memoire)
    _check_state(memoire, lifecycle.DUPLIQUER_POST_REFUS, user.role, expected_version)
    copy = memoires.duplicate(session, user, memoire)
    transition = _move(session, memoire, lifecycle.DUPLIQUER_POST_REFUS, user,
                       f"Dupliqué dans le mémoire {copy.numero}", None, now)
    _announce(session, memoire, transition, user,
              f"Mémoire dupliqué après refus : le prestataire le corrige dans un nouveau "
              f"mémoire, le brouillon {copy.numero}, qui recevra son numéro MJ à l'envoi.",
              f"Le mémoire {memoire.numero} a été dupliqué après refus ({copy.numero}).",
              settings)
    return copy
