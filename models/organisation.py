"""Users, structures (providers), services, bank accounts and habilitations."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.types import utcnow

# Roles of a user account.
ROLE_PRESTATAIRE = "prestataire"
ROLE_AGENT = "agent"  # agent of a juridiction
ROLE_SUPPORT = "support"
ROLE_ADMIN = "admin"
ROLES = {
    ROLE_PRESTATAIRE: "Prestataire",
    ROLE_AGENT: "Agent de juridiction",
    ROLE_SUPPORT: "Agent du support",
    ROLE_ADMIN: "Administrateur",
}

PROFILE_CONSULTATION = "consultation"
PROFILE_MODIFICATION = "modification"
PROFILES = {
    PROFILE_CONSULTATION: "Frais de justice consultation",
    PROFILE_MODIFICATION: "Frais de justice modification",
}

HABILITATION_REQUESTED = "demandee"
HABILITATION_GRANTED = "accordee"
HABILITATION_REFUSED = "refusee"

IDENTIFIER_TYPES = {
    "SIRET": "SIRET",
    "PARTICULIER": "Particulier",
    "UE_HORS_FRANCE": "Union européenne hors France",
    "HORS_UE": "Hors Union européenne",
    "RIDET": "RIDET (Nouvelle-Calédonie)",
    "TAHITI": "Numéro Tahiti",
    "AUTRE": "Autre",
}

REGIMES = {"COSP": "COSP", "INDEPENDANT": "Indépendants"}

VAT_TYPES = {
    "DEBITS": "TVA sur les débits",
    "ENCAISSEMENTS": "TVA sur les encaissements",
    "EXONERE": "Exonéré",
}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default=ROLE_PRESTATAIRE)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    email_confirmed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout, password change or disabling: older sessions stop being accepted.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    juridiction_id: Mapped[int | None] = mapped_column(ForeignKey("juridictions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    juridiction: Mapped["Juridiction | None"] = relationship()  # noqa: F821
    habilitations: Mapped[list[Habilitation]] = relationship(
        back_populates="user", foreign_keys="Habilitation.user_id", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


class Structure(db.Model):
    __tablename__ = "structures"
    __table_args__ = (UniqueConstraint("identifier_type", "identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier_type: Mapped[str] = mapped_column(String(20), default="SIRET")
    identifier: Mapped[str] = mapped_column(String(40))
    raison_sociale: Mapped[str] = mapped_column(String(200))
    numero_rcs: Mapped[str | None] = mapped_column(String(60))
    tva_intracom: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    adresse: Mapped[str | None] = mapped_column(String(200))
    complement1: Mapped[str | None] = mapped_column(String(200))
    complement2: Mapped[str | None] = mapped_column(String(200))
    code_postal: Mapped[str | None] = mapped_column(String(20))
    ville: Mapped[str | None] = mapped_column(String(100))
    pays: Mapped[str] = mapped_column(String(2), default="FR")
    telephone: Mapped[str | None] = mapped_column(String(30))
    categorie_code: Mapped[str | None] = mapped_column(ForeignKey("categories_prestataire.code"))
    regime: Mapped[str | None] = mapped_column(String(20))
    droit_option: Mapped[bool] = mapped_column(Boolean, default=False)
    default_vat_type: Mapped[str | None] = mapped_column(String(20))
    gestionnaire_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    services: Mapped[list[Service]] = relationship(
        back_populates="structure", order_by="Service.code"
    )
    bank_accounts: Mapped[list[BankAccount]] = relationship(
        back_populates="structure", order_by="BankAccount.id"
    )
    categorie: Mapped["CategoriePrestataire | None"] = relationship()  # noqa: F821
    gestionnaire: Mapped[User | None] = relationship(foreign_keys=[gestionnaire_id])

    @property
    def label(self) -> str:
        return f"{self.identifier} - {self.raison_sociale}"

    @property
    def address_lines(self) -> list[str]:
        city = " ".join(p for p in (self.code_postal, self.ville) if p)
        return [p for p in (self.adresse, self.complement1, self.complement2, city, self.pays) if p]


class Service(db.Model):
    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("structure_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    libelle: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    structure: Mapped[Structure] = relationship(back_populates="services")

    @property
    def label(self) -> str:
        return f"{self.code} - {self.libelle}"


class BankAccount(db.Model):
    """Coordonnée bancaire of a structure; its RIB is attached to every mémoire at sending."""

    __tablename__ = "bank_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    nom: Mapped[str] = mapped_column(String(100))
    affactureur: Mapped[str | None] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20), default="IBAN")
    pays: Mapped[str] = mapped_column(String(2), default="FR")
    iban: Mapped[str] = mapped_column(String(34))
    bic: Mapped[str] = mapped_column(String(11))
    information: Mapped[str] = mapped_column(Text, default="")
    rib_sha256: Mapped[str | None] = mapped_column(ForeignKey("stored_files.sha256"))
    rib_filename: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    structure: Mapped[Structure] = relationship(back_populates="bank_accounts")

    @property
    def masked_iban(self) -> str:
        iban = self.iban.replace(" ", "")
        middle = " ".join("****" for _ in range(max(1, (len(iban) - 8 + 3) // 4)))
        return f"{iban[:4]} {middle} {iban[-4:]}"

    @property
    def label(self) -> str:
        return f"{self.nom} — {self.masked_iban}"


class Habilitation(db.Model):
    """A profile (consultation or modification) of a user on a structure, optionally a service."""

    __tablename__ = "habilitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    profile: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=HABILITATION_REQUESTED)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="habilitations", foreign_keys=[user_id])
    structure: Mapped[Structure] = relationship()
    service: Mapped[Service | None] = relationship()

    @property
    def profile_label(self) -> str:
        return PROFILES.get(self.profile, self.profile)
