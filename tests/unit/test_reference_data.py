"""Reference data: what the loader puts in the tables and the look-ups forms rely on."""
import shutil
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    AutoriteRequerante, Juridiction, Tariff, TauxTva, TexteReference, TypePieceJointe,
    TypePrestation,
)
from services.reference_data import (
    DATA_DIR, ReferenceDataError, active_vat_rates, choices, load_reference_data, tariff_for,
)

COUNTED = (Juridiction, TexteReference, AutoriteRequerante, TypePieceJointe, TypePrestation,
           Tariff, TauxTva)


def row_counts():
    return {model: db.session.scalar(select(func.count()).select_from(model)) for model in COUNTED}


@pytest.fixture
def data_copy(tmp_path):
    """A copy of data/ that a test may edit."""
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    return tmp_path


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_paris_and_the_36_cours_d_appel_are_offered(app):
    with app.app_context():
        juridictions = db.session.scalars(select(Juridiction)).all()
        assert len(juridictions) >= 25
        paris = next(j for j in juridictions if j.code == "tj75056")
        assert (paris.label, paris.type, paris.is_active) == (
            "75 - Tribunal judiciaire de Paris", "TJ", True)
        assert sum(j.type == "CA" for j in juridictions) == 36
        assert {"tj92050", "tj93008", "tj13055", "tj97209", "ca_paris", "ca_aix_provence"} <= {
            j.code for j in juridictions}


def test_loading_twice_changes_nothing(app):
    with app.app_context():
        before = row_counts()
        counts = load_reference_data(db.session)
        assert row_counts() == before
        assert counts["juridictions"] == before[Juridiction]
        assert counts["tariffs"] == before[Tariff]


def test_a_label_changed_in_the_file_is_updated_in_place(app, data_copy):
    edit(data_copy / "autorites_requerantes.csv", "Juge des enfants", "Juge des enfants (JE)")
    with app.app_context():
        before = row_counts()
        load_reference_data(db.session, data_copy)
        assert row_counts() == before
        assert db.session.get(AutoriteRequerante, "JUGE_ENFANTS").libelle == "Juge des enfants (JE)"


def test_a_juridiction_missing_from_the_file_is_kept_as_it_is(app):
    with app.app_context():
        closed = Juridiction(code="tj_ferme", nom="Tribunal fermé", departement="99", type="TJ",
                             is_active=False)
        db.session.add(closed)
        db.session.flush()
        load_reference_data(db.session)
        kept = db.session.scalars(select(Juridiction).where(Juridiction.code == "tj_ferme")).one()
        assert kept.is_active is False


def test_psychiatric_expertise_tariff_follows_the_2021_reform(app):
    with app.app_context():
        code = "EXPERTISE_PSYCHIATRIQUE_INSTRUCTION"
        assert tariff_for(db.session, code, date(2020, 12, 31)).amount == Decimal("429.00")
        after = tariff_for(db.session, code, date(2021, 1, 1))
        assert after.amount == Decimal("507.00")
        assert after.valid_to is None
        assert "(à vérifier)" in after.note  # an assumption, said so to the administrator
        assert tariff_for(db.session, code, date(1999, 1, 1)) is None


def test_translation_tariffs_per_page_and_per_hour(app):
    with app.app_context():
        page = tariff_for(db.session, "TRAD_ECRITE", date(2025, 6, 1))
        assert (page.amount, page.type_prestation.unite_label) == (Decimal("25.00"), "page")
        hour = tariff_for(db.session, "TRAD_ORALE", date(2019, 3, 2))
        assert (hour.amount, hour.valid_to) == (Decimal("30.00"), date(2020, 12, 31))
        assert tariff_for(db.session, "TRAD_ORALE", date(2021, 3, 2)).valid_from == date(2021, 1, 1)


def test_a_type_without_regulated_tariff_has_none(app):
    with app.app_context():
        assert tariff_for(db.session, "EXPERTISE_AUTRE", date(2024, 1, 1)) is None


def test_every_amount_is_an_exact_decimal(app):
    with app.app_context():
        amounts = db.session.scalars(select(Tariff.amount)).all()
        assert amounts and all(isinstance(amount, Decimal) for amount in amounts)
        civil = tariff_for(db.session, "ENQUETE_SOCIALE_CIVILE_PERSONNE_PHYSIQUE", date(2024, 1, 1))
        assert civil.amount == Decimal("600.00")


def test_the_five_french_vat_rates_are_in_force(app):
    with app.app_context():
        rates = active_vat_rates(db.session, date(2025, 1, 1))
        assert Decimal("5.5") in rates
        assert rates == [Decimal("0"), Decimal("2.1"), Decimal("5.5"), Decimal("10"), Decimal("20")]
        assert all(isinstance(rate, Decimal) for rate in rates)
        assert active_vat_rates(db.session, date(2013, 12, 31)) == []


def test_pick_lists_use_the_labels_of_the_webinar(app):
    with app.app_context():
        autorites = choices(db.session, AutoriteRequerante)
        assert autorites[0] == ("PROCUREUR_REPUBLIQUE", "Procureur de la République")
        labels = [label for _, label in autorites]
        seed_labels = {"Officier de Police Judiciaire", "Tribunal de police", "Juge des enfants"}
        assert seed_labels <= set(labels)
        assert labels[-1] == "Autre"
        assert ("R92", "Article R 92 CPP (procédure pénale)") in choices(db.session, TexteReference)
        pieces = dict(choices(db.session, TypePieceJointe))
        assert pieces["RIB"] == "Coordonnée bancaire"
        assert pieces["BORDEREAU_FRAIS"] == "Bordereau Frais"
        with pytest.raises(TypeError):
            choices(db.session, Juridiction)


def test_types_de_prestation_know_their_unit_text_and_categories(app):
    with app.app_context():
        oral = db.session.get(TypePrestation, "TRAD_ORALE")
        assert (oral.libelle, oral.unite, oral.texte.code) == (
            "Traduction orale (interprétariat)", "heure", "R92")
        assert db.session.get(TypePrestation, "AUDITION_ENFANT").categories.split(";") == [
            "ENQUETEUR", "ASSOCIATION", "AVOCAT"]


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("tariffs.csv", "25.00", "25,00", "tariffs.csv, ligne 2 : amount « 25,00 »"),
    ("tariffs.csv", "2021-01-01;;A. 43-7", "2020-06-01;;A. 43-7", "chevauche"),
    ("types_prestation.csv", ";heure;", ";minute;", "unite « minute » inconnue"),
    ("types_prestation.csv", ";INTERPRETE;", ";INTERPRETE|PLOMBIER;", "PLOMBIER"),
])
def test_a_malformed_file_is_refused_with_its_line(app, data_copy, file, old, new, message):
    edit(data_copy / file, old, new)
    with app.app_context():
        with pytest.raises(ReferenceDataError, match=message):
            load_reference_data(db.session, data_copy)
        db.session.rollback()
