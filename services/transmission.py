"""Transmission: a sent mémoire reaches its juridiction (« Envoyé » → « Mis à disposition »)
without anyone acting. The portal itself fires the move (role « systeme »), right after the
sending is committed, and `transmit_pending` catches up any mémoire left « Envoyé » (e.g. the
process stopped between the two commits): `flask --app app juridiction transmettre`.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Memoire
from services import lifecycle, notifications


def deliver(session: Session, memoire: Memoire, settings: Mapping | None = None, *,
            now: datetime | None = None) -> None:
    """The move itself and its notifications, in the caller's transaction (no commit)."""
    transition = lifecycle.record(
        session, memoire, lifecycle.MIS_A_DISPOSITION, None,
        reason=f"Transmis {memoire.juridiction.au_nom}",
        role=lifecycle.SYSTEM, at=now)
    session.flush()
    created = notifications.notify(
        session, notifications.juridiction_users(session, memoire), memoire,
        notifications.KIND_STATUS,
        f"Mémoire {memoire.numero} reçu de {memoire.structure.raison_sociale}.",
        settings=settings)
    created += notifications.notify(
        session, notifications.provider_users(session, memoire), memoire,
        notifications.KIND_STATUS,
        f"Le mémoire {memoire.numero} est mis à disposition {memoire.juridiction.du_nom}.",
        settings=settings)
    for notification in created:
        notification.created_at = transition.at


def transmit(session: Session, memoire: Memoire, settings: Mapping | None = None) -> bool:
    """Deliver one sent mémoire to its juridiction and commit. False when there was nothing to
    do (not « Envoyé » any more, or another process delivered it first)."""
    if memoire.status != lifecycle.ENVOYE:
        return False
    try:
        deliver(session, memoire, settings)
    except StaleDataError:
        session.rollback()
        return False
    session.commit()
    return True


def transmit_pending(session: Session, settings: Mapping | None = None) -> int:
    """Deliver every mémoire still « Envoyé ». Returns how many were delivered."""
    ids = session.scalars(select(Memoire.id).where(Memoire.status.in_(lifecycle.IN_TRANSMISSION))
                          .order_by(Memoire.sent_at, Memoire.id)).all()
    delivered = 0
    for memoire_id in ids:
        memoire = session.get(Memoire, memoire_id)
        if memoire is not None and transmit(session, memoire, settings):
            delivered += 1
    return delivered
