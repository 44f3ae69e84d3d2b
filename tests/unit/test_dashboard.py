"""services.dashboard and services.charts: counts by GROUP BY, amounts per month, payment
delays (median, 90th percentile), ageing, and the SVG geometry."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import func, select

from extensions import db
from models import Memoire, User
from models.types import utcnow
from services import charts, dashboard, lifecycle
from services.dashboard import Delay, MonthAmounts
from services.search import months_before


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_percentile_interpolates():
    assert dashboard.percentile([], 0.5) == 0.0
    assert dashboard.percentile([10.0], 0.9) == 10.0
    assert dashboard.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert dashboard.percentile([float(n) for n in range(1, 11)], 0.9) == 9.1


def test_matrix_counts_match_the_database(app):
    with app.app_context():
        user = _user("interprete@demo.test")
        [row] = dashboard.status_matrix(db.session, user)
        expected = dict(db.session.execute(select(Memoire.status, func.count()).where(
            Memoire.structure_id == row.structure_id).group_by(Memoire.status)).all())
        assert row.counts == {s: expected.get(s, 0) for s in lifecycle.STATUSES}
        assert row.label == "81234567600017 - Cabinet Lefèvre Interprétariat"


def test_agent_matrix_and_ageing(app):
    with app.app_context():
        agent = _user("greffe@demo.test")
        [row] = dashboard.status_matrix(db.session, agent)
        assert row.counts[lifecycle.BROUILLON] == 0
        pending = db.session.scalar(select(func.count()).select_from(Memoire).where(
            Memoire.juridiction_id == agent.juridiction_id,
            Memoire.status.in_(dashboard.PENDING)))
        buckets = dashboard.ageing(db.session, agent, utcnow())
        assert buckets[0].label == "7 jours ou moins"
        assert sum(b.count for b in buckets) == pending


def test_monthly_amounts_sum_to_the_total(app):
    with app.app_context():
        user = _user("interprete@demo.test")
        today = date.today()
        months = dashboard.monthly_amounts(db.session, user, today)
        assert len(months) == 12 and months[-1].month == today.replace(day=1)
        since = datetime.combine(months[0].month, datetime.min.time())
        total = db.session.scalar(select(func.sum(Memoire.total_ttc)).where(
            Memoire.structure_id == dashboard.status_matrix(db.session, user)[0].structure_id,
            Memoire.status_changed_at >= since))
        assert sum((sum(m.amounts.values(), Decimal(0)) for m in months), Decimal(0)) == total


def test_payment_delays_per_juridiction(app):
    with app.app_context():
        user = _user("interprete@demo.test")
        delays = dashboard.payment_delays(db.session, user, date.today())
        assert delays and delays[0].juridiction == "75 - Tribunal judiciaire de Paris"
        paid = db.session.scalars(select(Memoire).where(
            Memoire.status == lifecycle.MIS_EN_PAIEMENT,
            Memoire.structure_id == dashboard.status_matrix(db.session, user)[0].structure_id,
            Memoire.juridiction_id == db.session.scalar(select(Memoire.juridiction_id).where(
                Memoire.numero_mj.is_not(None)).order_by(Memoire.id).limit(1)),
            Memoire.status_changed_at >= months_before(
                datetime.combine(date.today(), time.min), 12))).all()
        values = sorted(float(int((m.status_changed_at - m.sent_at).total_seconds() / 86400 + 0.5))
                        for m in paid)
        paris = delays[0]
        assert paris.count == len(values)
        assert abs(paris.median - dashboard.percentile(values, 0.5)) < 0.01
        assert paris.median <= paris.p90


def test_expert_dashboard_shows_nothing_of_the_interpreter(app):
    with app.app_context():
        user = _user("expert@demo.test")
        rows = dashboard.status_matrix(db.session, user)
        assert [r.label for r in rows] == ["84256791900019 - Dr Aubert, expert psychiatre"]
        own = db.session.scalar(select(func.count(Memoire.id)).where(
            Memoire.structure_id == rows[0].structure_id,
            Memoire.status == lifecycle.MIS_EN_PAIEMENT))
        delays = dashboard.payment_delays(db.session, user, date.today())
        assert sum(d.count for d in delays) == own  # his own paid mémoires only


def test_nice_steps():
    assert charts.nice_step(0) == 1.0
    assert charts.nice_step(95) == 50
    assert charts.nice_step(1234) == 500
    assert charts.nice_step(7) == 2


def test_stacked_bars_fit_the_plot_and_carry_labels():
    months = [MonthAmounts(date(2025, m, 1), {lifecycle.MIS_EN_PAIEMENT: Decimal("1200.50"),
                                              lifecycle.ENVOYE: Decimal(m * 10)})
              for m in range(1, 13)]
    chart = charts.monthly_amounts_chart(months)
    assert len(chart.bars) == 24
    assert all(0 <= bar.y and bar.y + bar.height <= chart.height for bar in chart.bars)
    assert "janv. 25 — Mis en paiement : 1\u202f200,50 €" in [b.label for b in chart.bars]
    assert [label for _, label in chart.legend] == ["Envoyé", "Mis en paiement"]


def test_delay_bars_scale_to_the_longest():
    chart = charts.delays_chart([Delay("75 - Paris", 10, 30.0, 60.0),
                                 Delay("93 - Bobigny", 5, 45.5, 90.0)])
    widths = [bar.width for bar in chart.bars]
    assert widths[3] == max(widths)
    assert chart.bars[2].label == "93 - Bobigny — médiane : 45,5 jours"
