"""« Valider et envoyer »: the full check before sending, then the sending itself.

Sending happens in ONE transaction (the caller commits):
1. conditional status change Brouillon → Envoyé through services.lifecycle (audit row); the ORM
   UPDATE carries `WHERE version = :expected` (version_id_col), so of two clicks only one
   passes and the other consumes nothing;
2. only then the gapless MJ number (services.numbering);
3. the RIB of the chosen bank account attached automatically;
4. numero_mj written last (from then on the database triggers freeze the mémoire);
5. the certificate (services.certificate) with the exact canonical bytes.

Attachments required per type de prestation are data, not code: data/pieces_requises.csv
(columns type_prestation;type_piece_jointe;bloquant, "*" = every type). A rule with
bloquant=oui stops the sending; bloquant=non only warns. Without a rule nothing is required.
"""
from __future__ import annotations

import calendar
import csv
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Attachment, Certificate, Memoire, TypePieceJointe, User
from models.organisation import VAT_TYPES
from models.types import utcnow
from services import attachments, certificate, lifecycle, numbering
from services.memoires import amounts

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REQUIRED_ATTACHMENTS_FILE = DATA_DIR / "pieces_requises.csv"

HONOUR_VERSION = "2019-07"
HONOUR_TITLE = "Confirmation d'envoi"
HONOUR_STATEMENT = (
    "Toute escroquerie vous expose à une peine d'emprisonnement pouvant aller jusqu'à 5 ans "
    "et à une peine d'amende de 375 000 €.",
    "Tout faux et usage de faux vous exposent à une peine d'emprisonnement pouvant aller "
    "jusqu'à 3 ans et à une peine d'amende de 45 000 €.",
    "En validant le présent mémoire vous en attestez sur l'honneur la sincérité en ce qui "
    "concerne les informations saisies.",
)
HONOUR_STATEMENTS = {HONOUR_VERSION: HONOUR_STATEMENT}

JUSTIFICATION_FIELD = "justification_forclusion"
JUSTIFICATION_MAX = 2000
FORCLOSED = "forclos"
FORCLUSION_NEAR = "forclusion-proche"


@dataclass(frozen=True)
class SendProblem:
    field_id: str  # id of the field on the saisie page (anchor), or of the justification field
    message: str
    blocking: bool
    code: str = ""  # FORCLOSED: a justification is needed; FORCLUSION_NEAR: only a warning


class SubmissionError(ValueError):
    """The mémoire cannot be sent as it is; `problems` says why (French messages)."""

    def __init__(self, problems: list[SendProblem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class SubmissionConflict(RuntimeError):
    """The mémoire changed (or was sent) since the user validated it; nothing was written."""


@dataclass(frozen=True)
class Rule:
    type_prestation: str
    type_piece_jointe: str
    blocking: bool


def load_rules(path: Path = REQUIRED_ATTACHMENTS_FILE) -> tuple[Rule, ...]:
    if not path.exists():
        return ()
    return _read_rules(str(path), path.stat().st_mtime)


@lru_cache(maxsize=4)
def _read_rules(path: str, mtime: float) -> tuple[Rule, ...]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return tuple(
            Rule(row["type_prestation"].strip(), row["type_piece_jointe"].strip(),
                 row.get("bloquant", "").strip().lower() in {"oui", "yes", "1", "true"})
            for row in csv.DictReader(handle, delimiter=";")
            if (row.get("type_prestation") or "").strip()
        )


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def mission_end(memoire: Memoire) -> date | None:
    dates = [line.date_prestation for line in memoire.lines if line.date_prestation]
    return max(dates) if dates else None


def check_before_sending(session: Session, memoire: Memoire, today: date, *,
                         justification: str | None = None,
                         warning_months: int = 11, forclusion_months: int = 12,
                         rules: tuple[Rule, ...] | None = None) -> list[SendProblem]:
    """Every reason not to send (blocking) or to think twice (warning), with the field id."""
    problems: list[SendProblem] = []

    def problem(field_id: str, message: str, blocking: bool = True, code: str = "") -> None:
        problems.append(SendProblem(field_id, message, blocking, code))

    if memoire.status not in lifecycle.EDITABLE or memoire.numero_mj:
        problem("envoi", "Ce mémoire a déjà été envoyé.")
        return problems
    structure = memoire.structure
    if not structure.is_active:
        problem("structure_id", "La structure du prestataire n'est plus active.")
    if memoire.juridiction is None or not memoire.juridiction.is_active:
        problem("juridiction_id", "Choisissez une juridiction destinataire active.")
    if memoire.service_id is None and any(s.is_active for s in structure.services):
        problem("service_id", "Choisissez le service du prestataire.")
    if not memoire.categorie_code:
        problem("categorie_code", "Choisissez la catégorie de prestataire.")
    account = memoire.bank_account
    if account is None:
        problem("bank_account_id", "Choisissez les références bancaires.")
    elif not account.is_active or account.structure_id != memoire.structure_id:
        problem("bank_account_id", "Ces références bancaires ne sont plus actives : "
                                   "choisissez-en d'autres.")
    elif not account.rib_sha256:
        problem("bank_account_id", "Ces références bancaires n'ont pas de RIB en pièce jointe : "
                                   "ajoutez-le dans la structure.")
    if not memoire.devise:
        problem("devise", "Choisissez la devise du mémoire.")
    if not memoire.texte_code:
        problem("texte_code", "Choisissez le texte de référence.")
    if memoire.vat_type not in VAT_TYPES:
        problem("vat_type", "Choisissez le type de TVA.")

    if not memoire.lines:
        problem("lines", "Ajoutez au moins une ligne de prestation.")
    for index, line in enumerate(memoire.lines, start=1):
        anchor = f"line-{line.id}"
        if line.date_prestation and line.date_prestation > today:
            problem(anchor, f"Ligne {index} : la date de la prestation ne peut pas être "
                            "dans le futur.")
        if line.date_requisition and line.date_requisition > today:
            problem(anchor, f"Ligne {index} : la date de la réquisition ne peut pas être "
                            "dans le futur.")
        if (line.date_requisition and line.date_prestation
                and line.date_requisition > line.date_prestation):
            problem(anchor, f"Ligne {index} : la date de la réquisition doit précéder "
                            "la date de la prestation.")
        if line.quantite is None or line.quantite <= 0:
            problem(anchor, f"Ligne {index} : la quantité doit être supérieure à 0.")
        if memoire.vat_type == "EXONERE" and line.taux_tva:
            problem(anchor, f"Ligne {index} : un mémoire exonéré de TVA n'a que des lignes à 0 %.")

    problems.extend(_missing_attachments(session, memoire,
                                         load_rules() if rules is None else rules))

    end = mission_end(memoire)
    if end is not None:
        if today > add_months(end, forclusion_months):
            typed = (justification or "").strip()
            problem(
                JUSTIFICATION_FIELD,
                f"La mission s'est terminée le {end.strftime('%d/%m/%Y')}, il y a plus "
                f"de {forclusion_months} mois : le mémoire est forclos (art. 800 du code de "
                "procédure pénale) sauf cause extérieure. Justifiez le dépôt tardif.",
                blocking=not typed or len(typed) > JUSTIFICATION_MAX, code=FORCLOSED,
            )
        elif today > add_months(end, warning_months):
            problem(
                JUSTIFICATION_FIELD,
                f"La mission s'est terminée le {end.strftime('%d/%m/%Y')}, il y a plus de "
                f"{warning_months} mois : envoyez ce mémoire rapidement. Au-delà d'un an, il "
                "sera forclos (art. 800 du code de procédure pénale).",
                blocking=False, code=FORCLUSION_NEAR,
            )
    return problems


def _missing_attachments(session: Session, memoire: Memoire,
                         rules: tuple[Rule, ...]) -> list[SendProblem]:
    if not rules:
        return []
    found = [(attachment.line_id, attachment.type_code) for attachment in memoire.attachments]
    problems = []
    for index, line in enumerate(memoire.lines, start=1):
        for rule in rules:
            if rule.type_prestation not in ("*", line.type_code):
                continue
            if any(type_code == rule.type_piece_jointe and line_id in (None, line.id)
                   for line_id, type_code in found):
                continue
            kind = session.get(TypePieceJointe, rule.type_piece_jointe)
            label = kind.libelle if kind else rule.type_piece_jointe
            verb = "demande" if rule.blocking else "devrait avoir"
            problems.append(SendProblem(
                "attachments", f"Ligne {index} : cette prestation {verb} une pièce jointe "
                               f"« {label} ».", rule.blocking))
    return problems


def blocking(problems: list[SendProblem], *, except_justification: bool = False) -> list[SendProblem]:
    return [p for p in problems if p.blocking
            and not (except_justification and p.field_id == JUSTIFICATION_FIELD)]


def needs_justification(problems: list[SendProblem]) -> bool:
    return any(p.code == FORCLOSED for p in problems)


def submit(session: Session, memoire: Memoire, user: User, ip: str | None,
           honour_version: str, justification: str | None = None, *,
           expected_version: int | None = None, now: datetime | None = None,
           warning_months: int = 11, forclusion_months: int = 12) -> Certificate:
    """Send a draft: see the module docstring. Raises SubmissionError or SubmissionConflict."""
    if honour_version not in HONOUR_STATEMENTS:
        raise SubmissionError([SendProblem("envoi", "Déclaration sur l'honneur inconnue.", True)])
    if memoire.status not in lifecycle.EDITABLE or memoire.numero_mj:
        raise SubmissionConflict(memoire.id)
    if expected_version is not None and memoire.version != expected_version:
        raise SubmissionConflict(memoire.id)
    now = (now or utcnow()).replace(microsecond=0, tzinfo=None)
    problems = check_before_sending(session, memoire, now.date(), justification=justification,
                                    warning_months=warning_months,
                                    forclusion_months=forclusion_months)
    refused = blocking(problems)
    if refused:
        raise SubmissionError(refused)

    _, totals = amounts(memoire)
    transition = lifecycle.record(session, memoire, lifecycle.ENVOYE, user)
    transition.at = memoire.status_changed_at = now
    memoire.total_ttc = totals.ttc_total
    memoire.sent_at = now
    memoire.sent_by_id = user.id
    memoire.sent_ip = (ip or "")[:45] or None
    memoire.honour_version = honour_version
    memoire.justification_forclusion = (
        (justification or "").strip() or None if needs_justification(problems) else None
    )
    try:
        session.flush()  # UPDATE … WHERE id = :id AND version = :expected
    except StaleDataError:
        session.rollback()
        raise SubmissionConflict(memoire.id) from None

    numero = numbering.next_mj(session)
    attachments.attach_rib(session, memoire, memoire.bank_account, user)
    memoire.numero_mj = numero
    session.flush()
    return certificate.issue(session, memoire)


def rib_attachment(memoire: Memoire) -> Attachment | None:
    return next((a for a in memoire.attachments if a.type_code == attachments.RIB_TYPE), None)
