"""« Tableau de bord »: counts per structure and status (GROUP BY on an index), amounts per
month by status, the delay from sending to payment per juridiction (median and 90th
percentile), and for a juridiction the ageing of the mémoires it still has to handle.

Every query starts from the visibility query, so a count never includes a mémoire the user
may not see.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from models import Juridiction, Memoire, User
from models.organisation import ROLE_AGENT
from services import lifecycle, permissions
from services.search import months_before

# Mémoires still waiting for the juridiction, by age since sending (days, inclusive bounds).
AGE_BUCKETS = ((0, 7, "7 jours ou moins"), (8, 30, "8 à 30 jours"), (31, 60, "31 à 60 jours"),
               (61, None, "Plus de 60 jours"))
PENDING = frozenset({lifecycle.ENVOYE, lifecycle.MIS_A_DISPOSITION})
DELAY_JURIDICTIONS = 10  # the juridictions with the most payments


@dataclass
class StatusRow:
    """One row of the matrix: a structure (provider) or the juridiction (agent)."""

    label: str
    structure_id: int | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class MonthAmounts:
    month: date  # first day of the month
    amounts: dict[str, Decimal]


@dataclass
class Delay:
    juridiction: str
    count: int
    median: float
    p90: float


@dataclass
class AgeBucket:
    label: str
    count: int


def status_matrix(session: Session, user: User) -> list[StatusRow]:
    """Providers: one row per structure of the user (zeros included); agents: one row."""
    visible = permissions.visible_memoires(session, user)
    if user.role == ROLE_AGENT:
        counts = dict(session.execute(
            visible.with_only_columns(Memoire.status, func.count())
            .group_by(Memoire.status)).all())
        juridiction = session.get(Juridiction, user.juridiction_id)
        label = juridiction.label if juridiction else ""
        return [StatusRow(label, None, {s: counts.get(s, 0) for s in lifecycle.STATUSES})]
    found: dict[int, dict[str, int]] = {}
    for structure_id, status, count in session.execute(
            visible.with_only_columns(Memoire.structure_id, Memoire.status, func.count())
            .group_by(Memoire.structure_id, Memoire.status)):
        found.setdefault(structure_id, {})[status] = count
    return [
        StatusRow(structure.label, structure.id,
                  {s: found.get(structure.id, {}).get(s, 0) for s in lifecycle.STATUSES})
        for structure in permissions.structures(session, user)
    ]


def _month_expression(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _whole_days_between(session: Session, start, end):
    """Days from `start` to `end`, rounded to the nearest whole day."""
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", end - start) / 86400.0 + 0.5)
    return cast(func.julianday(end) - func.julianday(start) + 0.5, Integer)


def month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    return [months_before(datetime.combine(first, datetime.min.time()), n).date()
            for n in range(months - 1, -1, -1)]


def monthly_amounts(session: Session, user: User, today: date,
                    months: int = 12) -> list[MonthAmounts]:
    """Montant TTC per month of the current status's date, by status, over `months` months."""
    starts = month_starts(today, months)
    since = datetime.combine(starts[0], datetime.min.time())
    month = _month_expression(session, Memoire.status_changed_at)
    rows = session.execute(
        permissions.visible_memoires(session, user)
        .with_only_columns(month, Memoire.status, func.sum(Memoire.total_ttc))
        .where(Memoire.status_changed_at >= since)
        .group_by(month, Memoire.status))
    found: dict[str, dict[str, Decimal]] = {}
    for key, status, total in rows:
        found.setdefault(key, {})[status] = total or Decimal(0)
    return [MonthAmounts(start, {s: found.get(start.strftime("%Y-%m"), {}).get(s, Decimal(0))
                                 for s in lifecycle.STATUSES})
            for start in starts]


def percentile(values: list[int], fraction: float) -> float:
    """Linear interpolation between closest ranks (the spreadsheet's PERCENTILE.INC)."""
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def payment_delays(session: Session, user: User, today: date,
                   months: int = 12) -> list[Delay]:
    """Days from sending to « Mis en paiement » (rounded to the day), per juridiction, over the
    payments of the last `months` months: the database returns a histogram (juridiction, days,
    count), the percentiles are read from it here."""
    since = months_before(datetime.combine(today, datetime.min.time()), months)
    days = _whole_days_between(session, Memoire.sent_at, Memoire.status_changed_at)
    rows = session.execute(
        permissions.visible_memoires(session, user)
        .with_only_columns(Memoire.juridiction_id, days, func.count())
        .where(Memoire.status == lifecycle.MIS_EN_PAIEMENT,
               Memoire.status_changed_at >= since, Memoire.sent_at.is_not(None))
        .group_by(Memoire.juridiction_id, days))
    per_juridiction: dict[int, list[int]] = {}
    for juridiction_id, value, count in rows:
        per_juridiction.setdefault(juridiction_id, []).extend([int(value)] * count)
    if not per_juridiction:
        return []
    busiest = sorted(per_juridiction, key=lambda j: -len(per_juridiction[j]))
    per_juridiction = {j: per_juridiction[j] for j in busiest[:DELAY_JURIDICTIONS]}
    labels = {j.id: j.label for j in session.scalars(
        select(Juridiction).where(Juridiction.id.in_(per_juridiction)))}
    delays = []
    for juridiction_id, values in per_juridiction.items():
        values.sort()
        delays.append(Delay(labels.get(juridiction_id, ""), len(values),
                            percentile(values, 0.5), percentile(values, 0.9)))
    return sorted(delays, key=lambda d: (-d.count, d.juridiction))


def ageing(session: Session, user: User, now: datetime) -> list[AgeBucket]:
    """The mémoires still waiting (Envoyé, Mis à disposition) by age since sending."""
    bucket = case(
        *[(Memoire.sent_at > now - timedelta(days=high + 1), index)
          for index, (_, high, _) in enumerate(AGE_BUCKETS) if high is not None],
        else_=len(AGE_BUCKETS) - 1,
    )
    counts = dict(session.execute(
        permissions.visible_memoires(session, user)
        .with_only_columns(bucket, func.count())
        .where(Memoire.status.in_(sorted(PENDING)))
        .group_by(bucket)).all())
    return [AgeBucket(label, counts.get(index, 0))
            for index, (_, _, label) in enumerate(AGE_BUCKETS)]

