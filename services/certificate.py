"""Certificat de dépôt: the canonical JSON of what was sent and its empreinte.

empreinte = base64(SHA-256(canonical bytes)). The canonical bytes are JSON with sorted keys,
no spaces, UTF-8; amounts are strings with two decimals ("120.00"), quantities and rates too,
dates ISO (yyyy-mm-dd), the sending time UTC ISO-8601 with a trailing Z. They hold the header,
the lines with their amounts, the totals (services.money), the SHA-256 of every attachment, the
MJ number, the sending time and the honour statement's version. The exact bytes are stored next
to the empreinte, so the proof never depends on re-serialising.

Verification (public page) checks three things: the empreinte typed matches the one stored;
the stored bytes still hash to it; and the mémoire as it is in the database today still gives
the same bytes (a tampered amount, line or attachment is detected).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Certificate, Memoire
from services import money, storage
from services.memoires import amounts

FORMAT_VERSION = 1


def canonical_bytes(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      allow_nan=False).encode("utf-8")


def empreinte(canonical: bytes) -> str:
    return base64.b64encode(hashlib.sha256(canonical).digest()).decode("ascii")


def _amount(value: Decimal) -> str:
    return str(money.round_cents(Decimal(value)))


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def utc_iso(value: datetime) -> str:
    return value.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def payload(memoire: Memoire) -> dict:
    """What was sent, as plain JSON values. Needs numero_mj, sent_at and honour_version set."""
    per_line, totals = amounts(memoire)
    structure = memoire.structure
    account = memoire.bank_account
    line_numbers = {line.id: index for index, line in enumerate(memoire.lines, start=1)}
    return {
        "format": FORMAT_VERSION,
        "numero": memoire.numero_mj,
        "numero_brouillon": memoire.numero_tmp,
        "envoye_le": utc_iso(memoire.sent_at),
        "declaration_sur_l_honneur": memoire.honour_version,
        "justification_forclusion": memoire.justification_forclusion,
        "mode_depot": memoire.mode_depot,
        "destinataire": {"code": memoire.juridiction.code, "nom": memoire.juridiction.nom},
        "prestataire": {
            "type_identifiant": structure.identifier_type,
            "identifiant": structure.identifier,
            "raison_sociale": structure.raison_sociale,
            "service": memoire.service.code if memoire.service else None,
            "categorie": memoire.categorie_code,
            "coordonnee_bancaire": {"iban": account.iban, "bic": account.bic} if account else None,
        },
        "references": {
            "devise": memoire.devise,
            "texte": memoire.texte_code,
            "type_tva": memoire.vat_type,
            "numero_facture": memoire.numero_facture,
        },
        "lignes": [
            {
                "numero": index,
                "numero_affaire": line.numero_affaire,
                "date_requisition": _day(line.date_requisition),
                "autorite": line.autorite_code,
                "type_prestation": line.type_code,
                "date_prestation": _day(line.date_prestation),
                "quantite": _amount(line.quantite),
                "tarif_ht": _amount(line.tarif_ht),
                "taux_tva": _amount(line.taux_tva),
                "frais_divers": _amount(line.frais_divers),
                "debours": _amount(line.debours),
                "remise": _amount(line.remise),
                "frais": [
                    {"date": _day(item.date), "nature": item.nature,
                     "quantite": _amount(item.quantite), "montant": _amount(item.montant)}
                    for item in line.frais
                ],
                "montant_prestation_ht": _amount(computed.montant_prestation_ht),
                "montant_total_ht": _amount(computed.montant_total_ht),
                "montant_tva": _amount(computed.tva),
                "montant_ttc": _amount(computed.ttc),
            }
            for index, (line, computed) in enumerate(zip(memoire.lines, per_line), start=1)
        ],
        "totaux": {
            "montant_ht_apres_remise_globale": _amount(totals.montant_ht),
            "montant_tva": _amount(totals.montant_tva),
            "debours": _amount(totals.debours),
            "montant_remise_globale_ttc": _amount(totals.remise_globale_ttc),
            "montant_ttc_avant_remise_globale": _amount(totals.ttc_avant_remise),
            "montant_ttc_total": _amount(totals.ttc_total),
            "recapitulatif_tva": [
                {"taux": _amount(row.taux), "base_ht": _amount(row.base_ht),
                 "tva": _amount(row.tva)}
                for row in totals.vat_recap
            ],
        },
        "pieces_jointes": [
            {"sha256": attachment.sha256, "type": attachment.type_code,
             "designation": attachment.designation, "nom_du_fichier": attachment.filename,
             "ligne": line_numbers.get(attachment.line_id)}
            for attachment in memoire.attachments
        ],
    }


def issue(session: Session, memoire: Memoire) -> Certificate:
    """Compute and store the certificate of a mémoire being sent (caller's transaction)."""
    data = canonical_bytes(payload(memoire))
    certificate = Certificate(memoire_id=memoire.id, numero_mj=memoire.numero_mj,
                              canonical=data, empreinte=empreinte(data),
                              created_at=memoire.sent_at)
    session.add(certificate)
    session.flush()
    return certificate


@dataclass(frozen=True)
class Verification:
    """Answer of the public page: `matches`, and only then the date, juridiction and amount."""

    matches: bool
    numero: str
    sent_at: datetime | None = None
    juridiction: str | None = None
    amount: Decimal | None = None
    devise: str | None = None
    intact: bool = True


def normalize_empreinte(text: str) -> str:
    return "".join((text or "").split())


def verify(session: Session, numero: str, typed_empreinte: str) -> Verification:
    numero = (numero or "").strip().upper()
    typed = normalize_empreinte(typed_empreinte)
    certificate = session.scalar(select(Certificate).where(Certificate.numero_mj == numero))
    if certificate is None or not hmac.compare_digest(typed.encode(),
                                                      certificate.empreinte.encode()):
        return Verification(matches=False, numero=numero)
    memoire = certificate.memoire
    filed = json.loads(certificate.canonical.decode("utf-8"))
    intact = (
        empreinte(certificate.canonical) == certificate.empreinte
        and memoire.numero_mj == certificate.numero_mj
        and canonical_bytes(payload(memoire)) == certificate.canonical
        and all(storage.verify(attachment.file) for attachment in memoire.attachments)
    )
    return Verification(
        matches=intact, intact=intact, numero=numero,
        sent_at=memoire.sent_at,
        juridiction=memoire.juridiction.label,
        amount=Decimal(filed["totaux"]["montant_ttc_total"]),
        devise=filed["references"]["devise"],
    )
