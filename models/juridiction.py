"""Juridictions: the recipients of mémoires. Their agents are users with the agent role."""
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db

JURIDICTION_TYPES = {"TJ": "Tribunal judiciaire", "CA": "Cour d'appel", "AUTRE": "Autre"}


class Juridiction(db.Model):
    __tablename__ = "juridictions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    nom: Mapped[str] = mapped_column(String(200))
    departement: Mapped[str] = mapped_column(String(3))
    type: Mapped[str] = mapped_column(String(10), default="TJ")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def label(self) -> str:
        return f"{self.departement} - {self.nom}"
