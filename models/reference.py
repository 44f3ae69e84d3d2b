"""Reference tables, loaded from data/ by `flask --app app reference`."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import Money, ScaledDecimal

UNITS = {"heure": "heure", "page": "page", "unite": "unité", "forfait": "forfait"}


class TexteReference(db.Model):
    __tablename__ = "textes_reference"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class CategoriePrestataire(db.Model):
    __tablename__ = "categories_prestataire"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class AutoriteRequerante(db.Model):
    __tablename__ = "autorites_requerantes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class TypePieceJointe(db.Model):
    __tablename__ = "types_piece_jointe"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class TauxTva(db.Model):
    """A VAT rate valid over a period (rates are data: they change by law)."""

    __tablename__ = "taux_tva"

    id: Mapped[int] = mapped_column(primary_key=True)
    rate: Mapped[Decimal] = mapped_column(ScaledDecimal(2))  # percent, e.g. 5.50
    libelle: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class TypePrestation(db.Model):
    __tablename__ = "types_prestation"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    libelle: Mapped[str] = mapped_column(String(200))
    unite: Mapped[str] = mapped_column(String(20), default="unite")
    texte_code: Mapped[str] = mapped_column(ForeignKey("textes_reference.code"))
    article: Mapped[str] = mapped_column(String(200), default="")
    # Categories that usually claim this type, ";"-separated codes (used to order the pick list).
    categories: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    texte: Mapped[TexteReference] = relationship()
    tariffs: Mapped[list[Tariff]] = relationship(
        back_populates="type_prestation", order_by="Tariff.valid_from"
    )

    @property
    def unite_label(self) -> str:
        return UNITS.get(self.unite, self.unite)


class Tariff(db.Model):
    """Regulated price of a type de prestation over a period of validity."""

    __tablename__ = "tariffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    type_code: Mapped[str] = mapped_column(ForeignKey("types_prestation.code"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")

    type_prestation: Mapped[TypePrestation] = relationship(back_populates="tariffs")
