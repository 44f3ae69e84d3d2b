"""Juridictions: the recipients of mémoires. Their agents are users with the agent role."""
from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db

JURIDICTION_TYPES = {"TJ": "Tribunal judiciaire", "CA": "Cour d'appel", "AUTRE": "Autre"}

# French articles in running text: « du Tribunal judiciaire de Paris », « à la Cour d'appel d'Agen ».
FEMININE_FIRST_WORDS = {"Cour", "Chambre", "Maison"}
MASCULINE_FIRST_WORDS = {"Tribunal", "Conseil", "Parquet", "Service", "Pôle"}


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

    def _with(self, masculine: str, feminine: str, other: str) -> str:
        first_word = self.nom.split(" ", 1)[0]
        if first_word in FEMININE_FIRST_WORDS:
            return f"{feminine} {self.nom}"
        if first_word in MASCULINE_FIRST_WORDS:
            return f"{masculine} {self.nom}"
        return f"{other} {self.nom}"

    @property
    def du_nom(self) -> str:
        """« du Tribunal judiciaire de Paris », « de la Cour d'appel d'Agen »."""
        return self._with("du", "de la", "de")

    @property
    def au_nom(self) -> str:
        """« au Tribunal judiciaire de Paris », « à la Cour d'appel d'Agen »."""
        return self._with("au", "à la", "à")
