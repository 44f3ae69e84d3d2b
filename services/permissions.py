"""Who may read or write what. Every object a user may see goes through these queries.

Providers act through habilitations granted on a structure: « consultation » reads,
« modification » reads and writes. Juridiction agents read the mémoires sent to their
juridiction. A foreign object is simply not found (404), never « forbidden ».
"""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import Habilitation, Memoire, Structure, User
from models.memoire import Attachment
from models.organisation import (
    HABILITATION_GRANTED,
    PROFILE_CONSULTATION,
    PROFILE_MODIFICATION,
    ROLE_AGENT,
)

READ = "read"
WRITE = "write"
PROFILES_FOR = {READ: (PROFILE_CONSULTATION, PROFILE_MODIFICATION), WRITE: (PROFILE_MODIFICATION,)}


class NotFound(LookupError):
    """The object does not exist for this user (whether it exists at all is not told)."""


class Forbidden(PermissionError):
    """The user may see the object but not do this to it."""


def structure_ids(session: Session, user: User, right: str = READ) -> Select:
    """Ids of the structures where the user holds a granted profile giving `right`."""
    return select(Habilitation.structure_id).where(
        Habilitation.user_id == user.id,
        Habilitation.status == HABILITATION_GRANTED,
        Habilitation.profile.in_(PROFILES_FOR[right]),
    )


def structures(session: Session, user: User, right: str = READ) -> list[Structure]:
    return list(session.scalars(
        select(Structure).where(Structure.id.in_(structure_ids(session, user, right)),
                                Structure.is_active.is_(True))
        .order_by(Structure.raison_sociale)
    ))


def can(session: Session, user: User, structure_id: int, right: str) -> bool:
    query = structure_ids(session, user, right).where(Habilitation.structure_id == structure_id)
    return session.scalar(query.limit(1)) is not None


def visible_memoires(session: Session, user: User) -> Select:
    """The one visibility query for mémoires."""
    from services.lifecycle import RECEIVED_BY_JURIDICTION

    query = select(Memoire)
    if user.role == ROLE_AGENT:
        return query.where(Memoire.juridiction_id == user.juridiction_id,
                           Memoire.status.in_(RECEIVED_BY_JURIDICTION))
    return query.where(Memoire.structure_id.in_(structure_ids(session, user, READ)))


def get_memoire(session: Session, user: User, memoire_id: int, right: str = READ) -> Memoire:
    memoire = session.scalar(visible_memoires(session, user).where(Memoire.id == memoire_id))
    if memoire is None:
        raise NotFound(memoire_id)
    if right == WRITE and not can(session, user, memoire.structure_id, WRITE):
        raise Forbidden(memoire_id)
    return memoire


def get_attachment(session: Session, user: User, attachment_id: int,
                   right: str = READ) -> Attachment:
    """An attachment of a visible mémoire, or of the library of a structure of the user."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(attachment_id)
    if attachment.memoire_id is not None:
        get_memoire(session, user, attachment.memoire_id, right)
    elif attachment.structure_id is None or not can(session, user, attachment.structure_id, READ):
        raise NotFound(attachment_id)
    elif right == WRITE and not can(session, user, attachment.structure_id, WRITE):
        raise Forbidden(attachment_id)
    return attachment


def get_structure(session: Session, user: User, structure_id: int,
                  right: str = READ) -> Structure:
    """A structure where the user holds a profile; writing needs « modification »."""
    structure = session.get(Structure, structure_id)
    if structure is None or not can(session, user, structure_id, READ):
        raise NotFound(structure_id)
    if right == WRITE and not can(session, user, structure_id, WRITE):
        raise Forbidden(structure_id)
    return structure


def is_gestionnaire(user: User, structure: Structure) -> bool:
    """The structure's gestionnaire grants and removes the profiles of its users."""
    return structure.gestionnaire_id is not None and structure.gestionnaire_id == user.id
