"""The message thread of a sent mémoire, between the provider's structure and the juridiction.

Providers with « modification » and the agents of the juridiction write; « consultation »
reads. Attachments follow the pièces jointes rules (services.attachments.validate_upload).
Each decision of the lifecycle is posted automatically (post_decision). Every message
notifies the other side (services.notifications).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Memoire, Transition, User
from models.lifecycle import (
    SIDE_JURIDICTION,
    SIDE_PRESTATAIRE,
    SIDE_SYSTEME,
    Message,
    MessageAttachment,
)
from models.organisation import ROLE_AGENT
from services import attachments, lifecycle, notifications, permissions, storage

MAX_BODY = 5000
MAX_FILES = 5


class MessageError(ValueError):
    """Refused message; `field` names the form field (French message)."""

    def __init__(self, message: str, field: str = "body"):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def thread(session: Session, memoire: Memoire) -> list[Message]:
    return list(session.scalars(
        select(Message).where(Message.memoire_id == memoire.id)
        .order_by(Message.created_at, Message.id)
    ))


def can_post(session: Session, user: User, memoire: Memoire) -> bool:
    if memoire.status not in lifecycle.SENT:
        return False
    if user.role == ROLE_AGENT:
        return user.juridiction_id == memoire.juridiction_id
    return permissions.can(session, user, memoire.structure_id, permissions.WRITE)


def post(session: Session, user: User, memoire: Memoire, body: str, uploads: list[Upload], *,
         max_bytes: int, max_pixels: int = attachments.DEFAULT_MAX_PIXELS,
         settings: Mapping | None = None) -> Message:
    """A message from the user's side. Raises permissions.Forbidden or MessageError."""
    if not can_post(session, user, memoire):
        raise permissions.Forbidden(memoire.id)
    text = (body or "").strip()
    if not text:
        raise MessageError("Saisissez votre message.")
    if len(text) > MAX_BODY:
        raise MessageError(f"Le message ne doit pas dépasser {MAX_BODY} caractères.")
    uploads = [u for u in uploads if u.filename or u.data]
    if len(uploads) > MAX_FILES:
        raise MessageError(f"{MAX_FILES} fichiers au plus par message.", "fichiers")
    checked = []
    for upload in uploads:
        try:
            checked.append(attachments.validate_upload(upload.filename, upload.data, max_bytes,
                                                       max_pixels))
        except attachments.UploadError as exc:
            raise MessageError(f"{upload.filename or 'Fichier'} : {exc}", "fichiers") from None
    side = SIDE_JURIDICTION if user.role == ROLE_AGENT else SIDE_PRESTATAIRE
    message = Message(memoire=memoire, author_id=user.id, side=side, body=text)
    for valid in checked:
        stored = storage.store(session, valid.data, valid.mime)
        message.attachments.append(MessageAttachment(sha256=stored.sha256,
                                                     filename=valid.safe_name,
                                                     extension=valid.extension))
    session.add(message)
    who = memoire.juridiction.nom if side == SIDE_JURIDICTION else memoire.structure.raison_sociale
    notifications.notify_both_sides(
        session, memoire, notifications.KIND_MESSAGE,
        f"Nouveau message de {who} sur le mémoire {memoire.numero}.",
        author=user, settings=settings,
        provider=side == SIDE_JURIDICTION, juridiction=side == SIDE_PRESTATAIRE)
    session.flush()
    return message


def post_decision(session: Session, memoire: Memoire, transition: Transition, body: str,
                  author: User | None) -> Message:
    """The automatic message that records a decision in the thread."""
    session.flush()  # gives the transition its id
    message = Message(memoire=memoire, author_id=author.id if author else None,
                      side=SIDE_SYSTEME, body=body, transition_id=transition.id)
    session.add(message)
    return message


def get_attachment(session: Session, user: User, attachment_id: int) -> MessageAttachment:
    """A message attachment of a mémoire the user may read (else permissions.NotFound)."""
    found = session.get(MessageAttachment, attachment_id)
    if found is None:
        raise permissions.NotFound(attachment_id)
    permissions.get_memoire(session, user, found.message.memoire_id, permissions.READ)
    return found
