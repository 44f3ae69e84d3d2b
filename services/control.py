"""The control checklist of a received mémoire, computed by the portal (REFERENCE.md §4.3):
required attachments present, tariff respected, arithmetic, possible duplicate, forclusion.

Each check is green (ok), orange (warning: to look at) or red (error). A mémoire whose checks
are all green may be certified in a batch (services.decisions.batch_certify).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Memoire, PrestationLine
from services import lifecycle, submission
from services.formatting import amount, day
from services.memoires import amounts
from services.reference_data import tariff_for

OK = "ok"
WARNING = "avertissement"
ERROR = "anomalie"
LEVEL_LABELS = {OK: "Conforme", WARNING: "À vérifier", ERROR: "Anomalie"}

ATTACHMENTS = "pieces"
TARIFF = "tarif"
ARITHMETIC = "calcul"
DUPLICATE = "doublon"
FORCLUSION = "forclusion"
CHECK_LABELS = {
    ATTACHMENTS: "Pièces justificatives requises",
    TARIFF: "Tarif réglementé respecté",
    ARITHMETIC: "Calcul des montants",
    DUPLICATE: "Doublon possible",
    FORCLUSION: "Forclusion (art. 800 du code de procédure pénale)",
}


@dataclass(frozen=True)
class Check:
    code: str
    level: str
    details: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return CHECK_LABELS[self.code]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]

    @property
    def ok(self) -> bool:
        return self.level == OK


@dataclass(frozen=True)
class Checklist:
    checks: tuple[Check, ...]

    @property
    def all_green(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def problems(self) -> int:
        return sum(1 for check in self.checks if not check.ok)

    def __iter__(self):
        return iter(self.checks)


def checklist(session: Session, memoire: Memoire, *, forclusion_months: int = 12) -> Checklist:
    return Checklist((
        _attachments(session, memoire),
        _tariff(session, memoire),
        _arithmetic(memoire),
        _duplicate(session, memoire),
        _forclusion(memoire, forclusion_months),
    ))


def _attachments(session: Session, memoire: Memoire) -> Check:
    # The same rules (data/pieces_requises.csv) that the sending checks.
    problems = submission._missing_attachments(session, memoire, submission.load_rules())
    if not problems:
        return Check(ATTACHMENTS, OK)
    level = ERROR if any(p.blocking for p in problems) else WARNING
    return Check(ATTACHMENTS, level, tuple(p.message for p in problems))


def _tariff(session: Session, memoire: Memoire) -> Check:
    details = []
    for index, line in enumerate(memoire.lines, start=1):
        tariff = tariff_for(session, line.type_code, line.date_prestation)
        if tariff is not None and line.tarif_ht != tariff.amount:
            details.append(f"Ligne {index} : {amount(line.tarif_ht)} € HT au lieu du tarif "
                           f"réglementé de {amount(tariff.amount)} € HT ({tariff.reference}).")
    return Check(TARIFF, WARNING if details else OK, tuple(details))


def _arithmetic(memoire: Memoire) -> Check:
    _, totals = amounts(memoire)
    if totals.ttc_total == memoire.total_ttc:
        return Check(ARITHMETIC, OK)
    return Check(ARITHMETIC, ERROR, (
        f"Montant TTC du mémoire {amount(memoire.total_ttc)} € ; montant recalculé "
        f"{amount(totals.ttc_total)} €.",))


def _duplicate(session: Session, memoire: Memoire) -> Check:
    details = []
    for index, line in enumerate(memoire.lines, start=1):
        others = session.scalars(
            select(Memoire.numero_mj).join(PrestationLine, PrestationLine.memoire_id == Memoire.id)
            .where(Memoire.id != memoire.id, Memoire.structure_id == memoire.structure_id,
                   Memoire.status.in_(lifecycle.LIVE_CLAIMS),
                   PrestationLine.numero_affaire == line.numero_affaire,
                   PrestationLine.date_prestation == line.date_prestation,
                   PrestationLine.type_code == line.type_code)
            .distinct().order_by(Memoire.numero_mj)
        ).all()
        if others:
            details.append(f"Ligne {index} (n° d'affaire {line.numero_affaire}, "
                           f"{day(line.date_prestation)}) figure aussi dans le mémoire "
                           f"{', '.join(n for n in others if n)}.")
    return Check(DUPLICATE, ERROR if details else OK, tuple(details))


def _forclusion(memoire: Memoire, forclusion_months: int) -> Check:
    end = submission.mission_end(memoire)
    filed = (memoire.sent_at or memoire.created_at).date()
    if end is None or filed <= submission.add_months(end, forclusion_months):
        return Check(FORCLUSION, OK)
    detail = (f"Mission terminée le {day(end)}, mémoire envoyé le {day(filed)} : plus de "
              f"{forclusion_months} mois.")
    if memoire.justification_forclusion:
        return Check(FORCLUSION, WARNING,
                     (detail, f"Justification du prestataire : {memoire.justification_forclusion}"))
    return Check(FORCLUSION, ERROR, (detail,))


def is_green(session: Session, memoire: Memoire, *, forclusion_months: int = 12) -> bool:
    return checklist(session, memoire, forclusion_months=forclusion_months).all_green
