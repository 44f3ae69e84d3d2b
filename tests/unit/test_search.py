"""services.search: criteria on top of the visibility query, archives, bounded counts, the
Liste fiscale period."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from extensions import db
from models import Memoire, User
from models.types import utcnow
from services import lifecycle, search


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield search.Context(utcnow(), 12)


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def test_months_before_keeps_the_end_of_month():
    assert search.months_before(datetime(2025, 3, 31, 10), 1) == datetime(2025, 2, 28, 10)
    assert search.months_before(datetime(2025, 1, 15), 12) == datetime(2024, 1, 15)
    assert search.months_before(datetime(2025, 1, 15), 13) == datetime(2023, 12, 15)


def test_fiscal_period_rules():
    assert search.fiscal_period_error(date(2025, 1, 1), date(2025, 12, 31)) is None
    assert search.fiscal_period_error(date(2024, 2, 29), date(2025, 2, 28)) is None
    assert search.fiscal_period_error(date(2025, 1, 1), date(2026, 1, 1)) == (
        "au", "La période ne peut pas dépasser un an.")
    assert search.fiscal_period_error(None, date(2025, 1, 1))[0] == "du"
    assert search.fiscal_period_error(date(2025, 2, 1), date(2025, 1, 1))[0] == "au"
    with pytest.raises(ValueError):
        search.fiscal(1, date(2024, 1, 1), date(2025, 6, 1))


def test_count_is_bounded(ctx):
    user = _user("interprete@demo.test")
    query = search.filtered(db.session, user, search.Criteria(archives=search.ALL), ctx)
    assert search.count_bounded(db.session, query, cap=10) == (10, True)
    total, capped = search.count_bounded(db.session, query)
    assert not capped and total > 150


def test_pages_are_capped(ctx):
    user = _user("interprete@demo.test")
    page = search.search(db.session, user, search.Criteria(archives=search.ALL), ctx,
                         page=10_000, per_page=5)
    assert page.offset_capped and page.page == search.MAX_OFFSET // 5 + 1
    assert page.rows == [] and not page.has_next


def test_unknown_per_page_falls_back_to_five(ctx):
    page = search.search(db.session, _user("interprete@demo.test"), search.Criteria(), ctx,
                         per_page=7)
    assert page.per_page == 5 and len(page.rows) == 5


def test_archived_is_final_and_older_than_the_delay(ctx):
    user = _user("interprete@demo.test")
    archived = search.search(db.session, user, search.Criteria(archives=search.ARCHIVED), ctx,
                             per_page=100).rows
    assert archived
    cutoff = search.archive_cutoff(ctx.now, 12)
    for row in archived:
        assert row.status in lifecycle.FINAL and row.status_changed_at < cutoff
    current = {r.id for r in search.search(db.session, user, search.Criteria(), ctx,
                                           per_page=100).rows}
    assert not current & {r.id for r in archived}


def test_synthese_holds_drafts_and_refused_only(ctx):
    user = _user("interprete@demo.test")
    rows = search.search(db.session, user, search.needing_action(), ctx, per_page=100).rows
    assert rows and {r.status for r in rows} <= lifecycle.NEEDS_PROVIDER_ACTION


def test_agent_never_sees_drafts_or_other_juridictions(ctx):
    agent = _user("greffe@demo.test")
    rows = search.search(db.session, agent, search.Criteria(archives=search.ALL), ctx,
                         per_page=100).rows
    assert rows
    for row in rows:
        memoire = db.session.get(Memoire, row.id)
        assert memoire.juridiction_id == agent.juridiction_id
        assert memoire.status != lifecycle.BROUILLON


def test_agent_prestataire_text_criterion(ctx):
    agent = _user("greffe@demo.test")
    found = search.search(db.session, agent, search.Criteria(prestataire="lefèvre",
                                                             archives=search.ALL), ctx).rows
    assert found and {r.prestataire for r in found} == {"Cabinet Lefèvre Interprétariat"}
    by_siret = search.search(db.session, agent, search.Criteria(prestataire="812345",
                                                                archives=search.ALL), ctx).rows
    assert by_siret
    none = search.search(db.session, agent, search.Criteria(prestataire="100%_",
                                                            archives=search.ALL), ctx).rows
    assert none == []


def test_rows_carry_amount_modified_and_other_amounts(ctx):
    user = _user("interprete@demo.test")
    rows = list(search.iter_rows(db.session, user, search.Criteria(archives=search.ALL), ctx))
    modified = [r for r in rows if r.amount_modified]
    assert modified and all(r.montant_retenu != r.total_ttc for r in modified)
    for row in rows[:40]:
        memoire = db.session.get(Memoire, row.id)
        expected = any(line.frais_divers or line.debours for line in memoire.lines)
        assert row.autres_montants == expected


def test_fiscal_total_is_what_was_put_in_payment(ctx):
    """The Liste fiscale sums the montant retenu where the court changed it, else the claim."""
    provider = _user("interprete@demo.test")
    paid = db.session.scalars(select(Memoire).where(
        Memoire.structure_id == provider.habilitations[0].structure_id,
        Memoire.status == lifecycle.MIS_EN_PAIEMENT)).all()
    modified = [m for m in paid if m.montant_retenu is not None and m.montant_retenu != m.total_ttc]
    assert modified
    au = modified[0].status_changed_at.date()
    criteria = search.fiscal(modified[0].structure_id, au - timedelta(days=364), au)
    expected = sum((m.montant_retenu if m.montant_retenu is not None else m.total_ttc)
                   for m in paid if criteria.etat_du <= m.status_changed_at.date() <= au)
    assert search.fiscal_total(db.session, provider, criteria, ctx) == expected
