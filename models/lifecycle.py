"""Around the lifecycle of a sent mémoire: its message thread and in-app notifications.

The status, the court step, the assignment and the amounts retained live on Memoire; every
status change is a Transition (models.memoire). Refusal reasons are data (data/motifs_refus.csv).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import utcnow

SIDE_PRESTATAIRE = "prestataire"
SIDE_JURIDICTION = "juridiction"
SIDE_SYSTEME = "systeme"
SIDES = {
    SIDE_PRESTATAIRE: "Prestataire",
    SIDE_JURIDICTION: "Juridiction",
    SIDE_SYSTEME: "Message automatique",
}


class Message(db.Model):
    """A message of the thread of a mémoire, between the provider's structure and the juridiction."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    memoire_id: Mapped[int] = mapped_column(ForeignKey("memoires.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The transition a decision message was posted for (automatic messages).
    transition_id: Mapped[int | None] = mapped_column(ForeignKey("transitions.id"))

    memoire: Mapped["Memoire"] = relationship()  # noqa: F821
    author: Mapped["User | None"] = relationship()  # noqa: F821
    attachments: Mapped[list[MessageAttachment]] = relationship(
        back_populates="message", order_by="MessageAttachment.id", cascade="all, delete-orphan"
    )

    @property
    def side_label(self) -> str:
        return SIDES.get(self.side, self.side)


class MessageAttachment(db.Model):
    """A file sent with a message (same upload rules as the pièces jointes)."""

    __tablename__ = "message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    extension: Mapped[str] = mapped_column(String(10))

    message: Mapped[Message] = relationship(back_populates="attachments")
    file: Mapped["StoredFile"] = relationship()  # noqa: F821


class Notification(db.Model):
    """An in-app notification: a status change or a message on a mémoire the user follows."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    memoire_id: Mapped[int | None] = mapped_column(ForeignKey("memoires.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)

    memoire: Mapped["Memoire | None"] = relationship()  # noqa: F821
