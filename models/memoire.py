"""The mémoire aggregate: header, prestation lines, frais divers, attachments, audit, certificate."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import Money, ScaledDecimal, utcnow

MODE_WEB = "WEB"
MODES_DEPOT = {MODE_WEB: "Saisie Web", "FLUX": "Dépôt flux", "API": "API"}


class StoredFile(db.Model):
    """Content-addressed file bytes, in the database so every app server sees them."""

    __tablename__ = "stored_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Counter(db.Model):
    """Gapless counters (MJ numbers, TMP numbers per year), taken inside the caller's transaction."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Memoire(db.Model):
    __tablename__ = "memoires"

    id: Mapped[int] = mapped_column(primary_key=True)
    numero_tmp: Mapped[str] = mapped_column(String(20), unique=True)
    numero_mj: Mapped[str | None] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    mode_depot: Mapped[str] = mapped_column(String(10), default=MODE_WEB)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    juridiction_id: Mapped[int] = mapped_column(ForeignKey("juridictions.id"), index=True)
    categorie_code: Mapped[str] = mapped_column(ForeignKey("categories_prestataire.code"))
    bank_account_id: Mapped[int | None] = mapped_column(ForeignKey("bank_accounts.id"))
    devise: Mapped[str] = mapped_column(String(3), default="EUR")
    texte_code: Mapped[str] = mapped_column(ForeignKey("textes_reference.code"))
    vat_type: Mapped[str] = mapped_column(String(20))
    numero_facture: Mapped[str | None] = mapped_column(String(50))
    remise_globale_ttc: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    motif_remise_globale: Mapped[str | None] = mapped_column(String(200))
    justification_forclusion: Mapped[str | None] = mapped_column(Text)
    # Totals kept on the row for lists and searches; always written by services.amounts.
    total_ttc: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_ip: Mapped[str | None] = mapped_column(String(45))
    honour_version: Mapped[str | None] = mapped_column(String(20))
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    duplicated_from_id: Mapped[int | None] = mapped_column(ForeignKey("memoires.id"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Processing by the juridiction (services.lifecycle / services.decisions): never frozen.
    court_step: Mapped[str | None] = mapped_column(String(30), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    montant_retenu: Mapped[Decimal | None] = mapped_column(Money())
    motif_montant_retenu: Mapped[str | None] = mapped_column(Text)
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_reference: Mapped[str | None] = mapped_column(String(50))
    # Numéro d'engagement juridique (the State's commitment number), a search criterion.
    engagement_juridique: Mapped[str | None] = mapped_column(String(30), index=True)

    # Tracking screens at a million rows (services.search / services.dashboard): counts by
    # GROUP BY, Synthèse and Liste fiscale read (structure, status, date) and the default
    # search sorts by the date of the current status, for providers and juridictions alike.
    __table_args__ = (
        # Synthèse, counts, Liste fiscale, delays (sent_at, juridiction_id: read from the index).
        Index("ix_memoires_structure_status_changed", "structure_id", "status",
              "status_changed_at", "sent_at", "juridiction_id"),
        # Default order (date of the current status), amounts per month, and the usual
        # criteria (état, date de dépôt, montant) answered from the index alone.
        Index("ix_memoires_structure_changed", "structure_id", "status_changed_at", "status",
              "total_ttc", "sent_at"),
        Index("ix_memoires_structure_sent", "structure_id", "sent_at", "status", "total_ttc"),
        Index("ix_memoires_structure_amount", "structure_id", "total_ttc"),
        Index("ix_memoires_juridiction_status_changed", "juridiction_id", "status",
              "status_changed_at", "sent_at"),
        Index("ix_memoires_juridiction_changed", "juridiction_id", "status_changed_at",
              "status", "total_ttc", "sent_at"),
        Index("ix_memoires_juridiction_sent", "juridiction_id", "sent_at", "status",
              "total_ttc"),
        Index("ix_memoires_juridiction_amount", "juridiction_id", "total_ttc"),
    )
    __mapper_args__ = {"version_id_col": version}

    structure: Mapped["Structure"] = relationship()  # noqa: F821
    service: Mapped["Service | None"] = relationship()  # noqa: F821
    juridiction: Mapped["Juridiction"] = relationship()  # noqa: F821
    categorie: Mapped["CategoriePrestataire"] = relationship()  # noqa: F821
    bank_account: Mapped["BankAccount | None"] = relationship()  # noqa: F821
    texte: Mapped["TexteReference"] = relationship()  # noqa: F821
    created_by: Mapped["User"] = relationship(foreign_keys=[created_by_id])  # noqa: F821
    sent_by: Mapped["User | None"] = relationship(foreign_keys=[sent_by_id])  # noqa: F821
    assigned_to: Mapped["User | None"] = relationship(foreign_keys=[assigned_to_id])  # noqa: F821
    lines: Mapped[list[PrestationLine]] = relationship(
        back_populates="memoire", order_by="PrestationLine.position", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="memoire", order_by="Attachment.id", cascade="all, delete-orphan",
        foreign_keys="Attachment.memoire_id",
    )
    transitions: Mapped[list[Transition]] = relationship(
        back_populates="memoire", order_by="Transition.id"
    )

    @property
    def numero(self) -> str:
        return self.numero_mj or self.numero_tmp

    @property
    def mode_depot_label(self) -> str:
        return MODES_DEPOT.get(self.mode_depot, self.mode_depot)


class PrestationLine(db.Model):
    __tablename__ = "prestation_lines"
    # « N° d'affaire » is a search criterion (services.search).
    __table_args__ = (Index("ix_prestation_lines_affaire", "numero_affaire"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    memoire_id: Mapped[int] = mapped_column(ForeignKey("memoires.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    numero_affaire: Mapped[str] = mapped_column(String(50))
    date_requisition: Mapped[date] = mapped_column(Date)
    autorite_code: Mapped[str] = mapped_column(ForeignKey("autorites_requerantes.code"))
    type_code: Mapped[str] = mapped_column(ForeignKey("types_prestation.code"))
    date_prestation: Mapped[date] = mapped_column(Date)
    quantite: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    tarif_ht: Mapped[Decimal] = mapped_column(Money())
    taux_tva: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    frais_divers: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    debours: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    remise: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    # The regulated tariff in force at date_prestation when the line was saved, if any.
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariffs.id"))

    memoire: Mapped[Memoire] = relationship(back_populates="lines")
    autorite: Mapped["AutoriteRequerante"] = relationship()  # noqa: F821
    type_prestation: Mapped["TypePrestation"] = relationship()  # noqa: F821
    tariff: Mapped["Tariff | None"] = relationship()  # noqa: F821
    frais: Mapped[list[FraisDiversItem]] = relationship(
        back_populates="line", order_by="FraisDiversItem.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="line", foreign_keys="Attachment.line_id"
    )


FRAIS_NATURES = {
    "transport": "Transport",
    "kilometres": "Kilomètres",
    "hebergement": "Hébergement",
    "repas": "Repas",
    "affranchissement": "Affranchissement",
}


class FraisDiversItem(db.Model):
    """A row of the bordereau des frais de déplacement et d'affranchissement of a line."""

    __tablename__ = "frais_divers_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("prestation_lines.id"), index=True)
    date: Mapped[date] = mapped_column(Date)
    nature: Mapped[str] = mapped_column(String(30))
    quantite: Mapped[Decimal] = mapped_column(ScaledDecimal(2))
    montant: Mapped[Decimal] = mapped_column(Money())

    line: Mapped[PrestationLine] = relationship(back_populates="frais")

    @property
    def nature_label(self) -> str:
        return FRAIS_NATURES.get(self.nature, self.nature)


class Attachment(db.Model):
    """A pièce jointe: on a mémoire (optionally one of its lines) or in a structure's library."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    memoire_id: Mapped[int | None] = mapped_column(ForeignKey("memoires.id"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("prestation_lines.id"), index=True)
    structure_id: Mapped[int | None] = mapped_column(ForeignKey("structures.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    designation: Mapped[str] = mapped_column(String(100))
    type_code: Mapped[str] = mapped_column(ForeignKey("types_piece_jointe.code"))
    extension: Mapped[str] = mapped_column(String(10))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    memoire: Mapped[Memoire | None] = relationship(
        back_populates="attachments", foreign_keys=[memoire_id]
    )
    line: Mapped[PrestationLine | None] = relationship(
        back_populates="attachments", foreign_keys=[line_id]
    )
    file: Mapped[StoredFile] = relationship()
    type_pj: Mapped["TypePieceJointe"] = relationship()  # noqa: F821


class Transition(db.Model):
    """Append-only audit row of a status change (the database refuses UPDATE and DELETE)."""

    __tablename__ = "transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    memoire_id: Mapped[int] = mapped_column(ForeignKey("memoires.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)
    # Court-internal step before/after (à contrôler, certifié, taxé…), the role that acted,
    # the code of a catalogued reason (data/motifs_refus.csv), and the hash chain: each row
    # carries the hash of the previous row of the same mémoire (services.lifecycle).
    from_step: Mapped[str | None] = mapped_column(String(30))
    to_step: Mapped[str | None] = mapped_column(String(30))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))

    memoire: Mapped[Memoire] = relationship(back_populates="transitions")
    actor: Mapped["User | None"] = relationship()  # noqa: F821


class Certificate(db.Model):
    """Certificat de dépôt: the exact canonical bytes that were hashed and their empreinte."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("numero_mj"),)

    memoire_id: Mapped[int] = mapped_column(ForeignKey("memoires.id"), primary_key=True)
    numero_mj: Mapped[str] = mapped_column(String(20))
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    empreinte: Mapped[str] = mapped_column(String(44))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    memoire: Mapped[Memoire] = relationship()
