"""The one lifecycle module: statuses, court steps, status groups, and every status change.

Provider-visible statuses are those of the Tableau de bord (REFERENCE.md §4.1). Inside the
juridiction a mémoire « Mis à disposition » also goes through internal steps (REFERENCE.md §4.3):
« À contrôler », then « Certifié » (greffier, CPP R.224-1) or « Taxé » (magistrat taxateur),
then « Mis en paiement ». The provider sees the status only; the court sees both.

A state is the pair (status, court_step). ALLOWED lists every move (from state, to state) with
the roles that may fire it; `record` is the only place where a status is written. Each move
writes one audit row (Transition) in the caller's transaction, hash-chained to the previous row
of the same mémoire so that the history of a mémoire can be proved later.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import Memoire, Transition, User
from models.organisation import ROLE_AGENT, ROLE_PRESTATAIRE
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
STATUSES = tuple(STATUS_LABELS)  # in the order of the Tableau de bord

# Court-internal steps (Memoire.court_step), seen by the juridiction only.
A_CONTROLER = "A_CONTROLER"
CERTIFIE = "CERTIFIE"
TAXE = "TAXE"
PAYE = "MIS_EN_PAIEMENT"
STEP_LABELS = {
    A_CONTROLER: "À contrôler",
    CERTIFIE: "Certifié",
    TAXE: "Taxé",
    PAYE: "Mis en paiement",
}

SYSTEM = "systeme"  # the role of the portal itself (transmission)

# Named groups, read by screens, queries and permissions alike.
EDITABLE = frozenset({BROUILLON})
NEEDS_PROVIDER_ACTION = frozenset({BROUILLON, REFUSE})
SENT = frozenset(STATUS_LABELS) - EDITABLE
RECEIVED_BY_JURIDICTION = frozenset({
    ENVOYE, MIS_A_DISPOSITION, REFUSE, DUPLIQUE_POST_REFUS, ABANDONNE, MIS_EN_PAIEMENT,
})
FINAL = frozenset({MIS_EN_PAIEMENT, ABANDONNE, DUPLIQUE_POST_REFUS})
IN_TRANSMISSION = frozenset({ENVOYE})
# What the juridiction still has to handle (the « Mémoires reçus » queue by default).
TO_PROCESS = frozenset({MIS_A_DISPOSITION})
REFUSED = frozenset({REFUSE})
# Claims still alive: a line of one of these makes a new line a possible duplicate.
LIVE_CLAIMS = frozenset({ENVOYE, MIS_A_DISPOSITION, MIS_EN_PAIEMENT})
# The only status of the Liste fiscale.
FISCAL = frozenset({MIS_EN_PAIEMENT})
# Court steps after which the service fait is established and payment may be ordered.
PAYABLE_STEPS = frozenset({CERTIFIE, TAXE})
CERTIFICATION_ROUTES = {CERTIFIE: "Certification (greffe)", TAXE: "Taxation (magistrat taxateur)"}

# (from state, to state) -> the roles that may fire the move. A state is (status, court_step);
# (None, None) is the creation of a draft.
ALLOWED: dict[tuple[tuple[str | None, str | None], tuple[str, str | None]], frozenset[str]] = {
    ((None, None), (BROUILLON, None)): frozenset({ROLE_PRESTATAIRE}),
    ((BROUILLON, None), (ENVOYE, None)): frozenset({ROLE_PRESTATAIRE}),
    ((ENVOYE, None), (MIS_A_DISPOSITION, A_CONTROLER)): frozenset({SYSTEM}),
    ((MIS_A_DISPOSITION, A_CONTROLER), (REFUSE, None)): frozenset({ROLE_AGENT}),
    ((MIS_A_DISPOSITION, A_CONTROLER), (MIS_A_DISPOSITION, CERTIFIE)): frozenset({ROLE_AGENT}),
    ((MIS_A_DISPOSITION, A_CONTROLER), (MIS_A_DISPOSITION, TAXE)): frozenset({ROLE_AGENT}),
    ((MIS_A_DISPOSITION, CERTIFIE), (MIS_EN_PAIEMENT, PAYE)): frozenset({ROLE_AGENT}),
    ((MIS_A_DISPOSITION, TAXE), (MIS_EN_PAIEMENT, PAYE)): frozenset({ROLE_AGENT}),
    ((REFUSE, None), (ABANDONNE, None)): frozenset({ROLE_PRESTATAIRE}),
    ((REFUSE, None), (DUPLIQUE_POST_REFUS, None)): frozenset({ROLE_PRESTATAIRE}),
}

# The court step a status starts with when the caller does not name one.
DEFAULT_STEP = {MIS_A_DISPOSITION: A_CONTROLER, MIS_EN_PAIEMENT: PAYE}

# Named actions (what buttons fire), their target state and the states they start from.
REFUSER = "refuser"
CERTIFIER = "certifier"
METTRE_EN_PAIEMENT = "mettre_en_paiement"
ABANDONNER = "abandonner"
DUPLIQUER_POST_REFUS = "dupliquer_post_refus"
TRANSMETTRE = "transmettre"
ACTIONS = {
    TRANSMETTRE: (MIS_A_DISPOSITION, A_CONTROLER),
    REFUSER: (REFUSE, None),
    CERTIFIER: (MIS_A_DISPOSITION, CERTIFIE),
    METTRE_EN_PAIEMENT: (MIS_EN_PAIEMENT, PAYE),
    ABANDONNER: (ABANDONNE, None),
    DUPLIQUER_POST_REFUS: (DUPLIQUE_POST_REFUS, None),
}
ACTION_LABELS = {
    TRANSMETTRE: "Transmettre",
    REFUSER: "Refuser",
    CERTIFIER: "Certifier",
    METTRE_EN_PAIEMENT: "Mettre en paiement",
    ABANDONNER: "Abandonner",
    DUPLIQUER_POST_REFUS: "Dupliquer",
}


class TransitionError(ValueError):
    """A status change that the lifecycle does not allow (message in French)."""


class ConflictError(RuntimeError):
    """Someone else changed the mémoire first: nothing was written (message in French)."""

    def __init__(self, memoire: Memoire | None = None, message: str | None = None):
        numero = f" {memoire.numero}" if memoire is not None else ""
        super().__init__(message or (
            f"Le mémoire{numero} vient d'être modifié par quelqu'un d'autre : votre action n'a "
            "pas été enregistrée. Rechargez la page pour voir son état actuel."))


def label(status: str | None) -> str:
    return STATUS_LABELS.get(status, status) if status else ""


def step_label(step: str | None) -> str:
    return STEP_LABELS.get(step, step) if step else ""


def state_label(status: str | None, step: str | None) -> str:
    """« Mis à disposition — Certifié » for the court; the status alone otherwise."""
    if status == MIS_A_DISPOSITION and step:
        return f"{label(status)} — {step_label(step)}"
    return label(status)


def role_of(actor: User | None, role: str | None = None) -> str:
    return role or (actor.role if actor is not None else SYSTEM)


def target(memoire: Memoire, action: str) -> tuple[str, str | None]:
    return ACTIONS[action]


def allowed_roles(memoire: Memoire, action: str) -> frozenset[str]:
    """Roles that may fire `action` on the mémoire in its current state (empty: not now)."""
    to_state = ACTIONS[action]
    return ALLOWED.get(((memoire.status, memoire.court_step), to_state), frozenset())


def can_fire(memoire: Memoire, action: str, role: str) -> bool:
    return role in allowed_roles(memoire, action)


def record(session: Session, memoire: Memoire, to_status: str, actor: User | None,
           reason: str | None = None, role: str | None = None, *,
           to_step: str | None = None, reason_code: str | None = None,
           at: datetime | None = None) -> Transition:
    """Change the status (and court step) and write its audit row, in the caller's transaction.

    The caller flushes/commits; the mémoire's version column makes the UPDATE conditional
    (`WHERE version = :seen`), so of two concurrent moves only one is written — the other gets
    StaleDataError at flush, which services turn into ConflictError.
    """
    from_status = memoire.status
    from_step = memoire.court_step if from_status is not None else None
    step = to_step if to_step is not None else DEFAULT_STEP.get(to_status)
    actor_role = role_of(actor, role)
    roles = ALLOWED.get(((from_status, from_step), (to_status, step)))
    if roles is None or actor_role not in roles:
        raise TransitionError(
            f"Passage de « {state_label(from_status, from_step) if from_status else 'création'} » "
            f"à « {state_label(to_status, step)} » impossible."
        )
    now = at or utcnow()
    previous = memoire.transitions[-1] if memoire.transitions else None
    memoire.status = to_status
    memoire.court_step = step
    memoire.status_changed_at = now
    transition = Transition(
        memoire=memoire, from_status=from_status, to_status=to_status, from_step=from_step,
        to_step=step, actor_id=actor.id if actor else None, actor_role=actor_role, at=now,
        reason=reason, reason_code=reason_code,
    )
    # The hash is computed when the row is inserted (see _seal), so a caller may still adjust
    # the row (B's submit aligns `at` with the certificate) before the flush.
    transition._previous = previous
    session.add(transition)
    return transition


# ---------------------------------------------------------------- hash chain

def _canonical(memoire: Memoire, transition: Transition) -> bytes:
    payload = {
        "memoire": memoire.numero_tmp,
        "from_status": transition.from_status, "to_status": transition.to_status,
        "from_step": transition.from_step, "to_step": transition.to_step,
        "actor_id": transition.actor_id, "actor_role": transition.actor_role,
        "at": transition.at.isoformat(timespec="microseconds"),
        "reason": transition.reason, "reason_code": transition.reason_code,
        "prev_hash": transition.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def transition_hash(memoire: Memoire, transition: Transition) -> str:
    """SHA-256 (hex) of the row's content and of the previous row's hash."""
    return hashlib.sha256(_canonical(memoire, transition)).hexdigest()


@event.listens_for(Transition, "before_insert")
def _seal(mapper, connection, transition: Transition) -> None:
    """Chain the row to the previous row of the same mémoire and hash it, at INSERT time."""
    previous = getattr(transition, "_previous", None)
    if previous is not None:
        transition.prev_hash = previous.hash
    else:
        transition.prev_hash = connection.execute(
            select(Transition.hash).where(Transition.memoire_id == transition.memoire_id)
            .order_by(Transition.id.desc()).limit(1)
        ).scalar()
    memoire = transition.memoire
    if transition.at is None:
        transition.at = utcnow()
    transition.hash = transition_hash(memoire, transition)


def verify_chain(memoire: Memoire) -> bool:
    """Every row of the history recomputes to its hash and points at the previous row."""
    previous = None
    for transition in memoire.transitions:
        if transition.prev_hash != previous:
            return False
        if transition.hash != transition_hash(memoire, transition):
            return False
        previous = transition.hash
    return True


def last_transition(memoire: Memoire, to_status: str | None = None) -> Transition | None:
    for transition in reversed(memoire.transitions):
        if to_status is None or transition.to_status == to_status:
            return transition
    return None
