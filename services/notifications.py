"""In-app notifications (a counter in the header and a list) on every status change and message,
and an e-mail as well when SMTP is configured (services.mail).

Who is told: on the provider's side, every user holding a granted profile on the mémoire's
structure; on the juridiction's side, the agent the mémoire is assigned to, or every agent of
the juridiction while it is unassigned. The author of the event is never told of it.
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Habilitation, Memoire, User
from models.lifecycle import Notification
from models.organisation import HABILITATION_GRANTED, ROLE_AGENT
from models.types import utcnow

KIND_STATUS = "etat"
KIND_MESSAGE = "message"
LIST_LIMIT = 100


def provider_users(session: Session, memoire: Memoire) -> list[User]:
    return list(session.scalars(
        select(User).join(Habilitation, Habilitation.user_id == User.id)
        .where(Habilitation.structure_id == memoire.structure_id,
               Habilitation.status == HABILITATION_GRANTED, User.is_enabled.is_(True))
        .distinct().order_by(User.id)
    ))


def juridiction_users(session: Session, memoire: Memoire) -> list[User]:
    if memoire.assigned_to is not None and memoire.assigned_to.is_enabled:
        return [memoire.assigned_to]
    return list(session.scalars(
        select(User).where(User.role == ROLE_AGENT, User.juridiction_id == memoire.juridiction_id,
                           User.is_enabled.is_(True)).order_by(User.id)
    ))


def notify(session: Session, users: list[User], memoire: Memoire | None, kind: str, text: str,
           *, author: User | None = None, settings: Mapping | None = None) -> list[Notification]:
    """One notification per user (the author excepted), in the caller's transaction."""
    created = []
    seen: set[int] = set()
    for user in users:
        if user.id in seen or (author is not None and user.id == author.id):
            continue
        seen.add(user.id)
        notification = Notification(user_id=user.id, memoire=memoire, kind=kind, text=text[:500])
        session.add(notification)
        created.append(notification)
        if settings is not None and settings.get("SMTP_HOST"):
            from services import mail

            mail.send(session, settings, user.email, f"Portail FJ — {text[:150]}",
                      f"{text}\n\nConnectez-vous au portail des frais de justice pour le "
                      "consulter.")
    return created


def notify_both_sides(session: Session, memoire: Memoire, kind: str, text: str, *,
                      author: User | None = None, settings: Mapping | None = None,
                      provider: bool = True, juridiction: bool = True) -> list[Notification]:
    users: list[User] = []
    if provider:
        users += provider_users(session, memoire)
    if juridiction:
        users += juridiction_users(session, memoire)
    return notify(session, users, memoire, kind, text, author=author, settings=settings)


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def for_user(session: Session, user: User, limit: int = LIST_LIMIT) -> list[Notification]:
    return list(session.scalars(
        select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ))


def get(session: Session, user: User, notification_id: int) -> Notification | None:
    """A notification of this user (another user's is simply not found)."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        return None
    return notification


def mark_read(session: Session, user: User, notification: Notification | None = None) -> int:
    """Mark one notification, or all of them, as read. Returns how many changed."""
    query = update(Notification).where(Notification.user_id == user.id,
                                       Notification.read_at.is_(None))
    if notification is not None:
        query = query.where(Notification.id == notification.id)
    return session.execute(query.values(read_at=utcnow())).rowcount or 0
