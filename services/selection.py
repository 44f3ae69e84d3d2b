"""Actions on several mémoires selected in « Synthèse » or « Rechercher »: « Abandonner » (refused
ones, services.decisions), « Supprimer » (drafts, services.memoires) and « Télécharger ».

The selection is read through the visibility query: one id the user may not see and nothing
is done (NotFound, 404). A mémoire in the wrong state is skipped and named in the outcome.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from models import Memoire, User
from models.organisation import ROLE_AGENT
from services import decisions, lifecycle, memoires, permissions

MAX_SELECTION = 100


class SelectionError(ValueError):
    """Nothing or too much selected (French message)."""


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def parse_ids(values: Iterable[str]) -> list[int]:
    ids = []
    for value in values:
        if str(value).isdigit() and int(value) not in ids:
            ids.append(int(value))
    return ids


def selected(session: Session, user: User, ids: list[int],
             right: str = permissions.READ) -> list[Memoire]:
    """The selected mémoires, in the order given; any foreign id → NotFound."""
    if not ids:
        raise SelectionError("Sélectionnez au moins un mémoire.")
    if len(ids) > MAX_SELECTION:
        raise SelectionError(f"Sélectionnez au plus {MAX_SELECTION} mémoires à la fois.")
    found = {m.id: m for m in session.scalars(
        permissions.visible_memoires(session, user).where(Memoire.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise permissions.NotFound(missing[0])
    rows = [found[i] for i in ids]
    if right == permissions.WRITE:
        if user.role == ROLE_AGENT:
            raise permissions.Forbidden(rows[0].id)
        for memoire in rows:
            if not permissions.can(session, user, memoire.structure_id, permissions.WRITE):
                raise permissions.Forbidden(memoire.id)
    return rows


def abandon(session: Session, user: User, rows: list[Memoire],
            settings: Mapping | None = None) -> Outcome:
    """« Abandonner » each refused mémoire of the selection (the caller commits)."""
    outcome = Outcome()
    for memoire in rows:
        if not lifecycle.can_fire(memoire, lifecycle.ABANDONNER, user.role):
            outcome.skipped.append((memoire.numero, "seul un mémoire refusé peut être abandonné"))
            continue
        decisions.abandon(session, user, memoire, None, settings)
        outcome.done.append(memoire.numero)
    return outcome


def delete(session: Session, user: User, rows: list[Memoire]) -> Outcome:
    """« Supprimer » each draft of the selection (the caller commits)."""
    outcome = Outcome()
    for memoire in rows:
        if memoire.status not in lifecycle.EDITABLE:
            outcome.skipped.append((memoire.numero, "seul un brouillon peut être supprimé"))
            continue
        outcome.done.append(memoires.delete_draft(session, user, memoire))
    return outcome
