"""The one lifecycle module: statuses, status groups, and every status change.

Provider-visible statuses are those of the Tableau de bord (REFERENCE.md §4.1).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from models import Memoire, Transition, User
from models.types import utcnow

BROUILLON = "BROUILLON"
ENVOYE = "ENVOYE"
MIS_A_DISPOSITION = "MIS_A_DISPOSITION"
REFUSE = "REFUSE"
DUPLIQUE_POST_REFUS = "DUPLIQUE_POST_REFUS"
ABANDONNE = "ABANDONNE"
MIS_EN_PAIEMENT = "MIS_EN_PAIEMENT"

STATUS_LABELS = {
    BROUILLON: "Brouillon",
    ENVOYE: "Envoyé",
    MIS_A_DISPOSITION: "Mis à disposition",
    REFUSE: "Refusé",
    DUPLIQUE_POST_REFUS: "Dupliqué post refus",
    ABANDONNE: "Abandonné",
    MIS_EN_PAIEMENT: "Mis en paiement",
}

# Named groups, read by screens, queries and permissions alike.
EDITABLE = frozenset({BROUILLON})
NEEDS_PROVIDER_ACTION = frozenset({BROUILLON, REFUSE})
SENT = frozenset(STATUS_LABELS) - EDITABLE
RECEIVED_BY_JURIDICTION = frozenset({
    ENVOYE, MIS_A_DISPOSITION, REFUSE, DUPLIQUE_POST_REFUS, ABANDONNE, MIS_EN_PAIEMENT,
})
FINAL = frozenset({MIS_EN_PAIEMENT, ABANDONNE, DUPLIQUE_POST_REFUS})

# (from, to) -> the roles that may fire the transition. None means creation.
ALLOWED = {
    (None, BROUILLON): {"prestataire"},
    (BROUILLON, ENVOYE): {"prestataire"},
}


class TransitionError(ValueError):
    """A status change that the lifecycle does not allow (message in French)."""


def label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def record(session: Session, memoire: Memoire, to_status: str, actor: User | None,
           reason: str | None = None, role: str | None = None) -> Transition:
    """Change the status and write its audit row, in the caller's transaction."""
    from_status = memoire.status
    roles = ALLOWED.get((from_status, to_status))
    actor_role = role or (actor.role if actor else "system")
    if roles is None or actor_role not in roles:
        raise TransitionError(
            f"Passage de « {label(from_status) if from_status else 'création'} » "
            f"à « {label(to_status)} » impossible."
        )
    now = utcnow()
    memoire.status = to_status
    memoire.status_changed_at = now
    transition = Transition(memoire=memoire, from_status=from_status, to_status=to_status,
                            actor_id=actor.id if actor else None, at=now, reason=reason)
    session.add(transition)
    return transition
