"""Suivre ses mémoires over HTTP: Synthèse, Rechercher (criteria, sorting, pages, CSV, actions on
a selection), Tableau de bord, Liste fiscale and Archives — for providers and juridiction agents,
with JavaScript off (full pages, 303) and on (fragments), and never a foreign mémoire."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Memoire, Structure
from services import lifecycle
from tests.lifecycle_support import CONSULTATION, EXPERT, GREFFE, INTERPRETE, in_state

HX = {"HX-Request": "true"}


def _memoire(**criteria) -> Memoire:
    return db.session.scalar(select(Memoire).filter_by(**criteria).order_by(Memoire.id))


def _cabinet_id() -> int:
    return db.session.scalar(select(Structure.id).where(
        Structure.raison_sociale == "Cabinet Lefèvre Interprétariat"))


def _csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


# ---------------------------------------------------------------- Synthèse

def test_synthese_lists_drafts_and_refused_of_my_structures_only(app, client, login_as):
    login_as(INTERPRETE)
    response = client.get("/memoires/synthese")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.app_context():
        mine = db.session.scalars(select(Memoire).where(
            Memoire.structure_id == _cabinet_id(),
            Memoire.status.in_(lifecycle.NEEDS_PROVIDER_ACTION))).all()
        paid = _memoire(status=lifecycle.MIS_EN_PAIEMENT, structure_id=_cabinet_id())
        foreign = db.session.scalars(select(Memoire).where(
            Memoire.structure_id != _cabinet_id())).all()
        assert mine and foreign
        for m in mine:
            assert m.numero in html
        assert paid.numero not in html
        for m in foreign:
            assert m.numero not in html
    assert "Mémoires à traiter" in html


def test_synthese_is_for_providers(client, login_as):
    login_as(GREFFE)
    assert client.get("/memoires/synthese").status_code == 403


def test_synthese_deletes_selected_drafts_without_js(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        draft = _memoire(status=lifecycle.BROUILLON, structure_id=_cabinet_id())
        refused = _memoire(status=lifecycle.REFUSE, structure_id=_cabinet_id())
        draft_id, draft_numero, refused_id = draft.id, draft.numero, refused.id
    response = client.post("/memoires/synthese", data={
        "action": "supprimer", "ids": [str(draft_id), str(refused_id)]})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"1 mémoire(s) supprimé(s) : {draft_numero}" in page
    assert "non traité : seul un brouillon peut être supprimé" in page
    with app.app_context():
        assert db.session.get(Memoire, draft_id) is None
        assert db.session.get(Memoire, refused_id).status == lifecycle.REFUSE


def test_synthese_abandons_refused_with_htmx(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        refused = _memoire(status=lifecycle.REFUSE, structure_id=_cabinet_id())
        refused_id, numero = refused.id, refused.numero
    response = client.post("/memoires/synthese", data={"action": "abandonner",
                                                       "ids": [str(refused_id)]}, headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="synthese-liste"')
    assert numero not in html
    import json
    assert json.loads(response.headers["HX-Trigger"])["toast"]["message"] == (
        "1 mémoire(s) abandonné(s).")
    with app.app_context():
        memoire = db.session.get(Memoire, refused_id)
        assert memoire.status == lifecycle.ABANDONNE
        assert memoire.transitions[-1].to_status == lifecycle.ABANDONNE


def test_selection_downloads_a_zip_of_pdfs(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        ids = db.session.scalars(select(Memoire.id).where(
            Memoire.structure_id == _cabinet_id(),
            Memoire.status.in_(lifecycle.NEEDS_PROVIDER_ACTION)).order_by(Memoire.id)).all()
        numeros = [db.session.get(Memoire, i).numero for i in ids]
    response = client.post("/memoires/synthese", data={"action": "telecharger",
                                                       "ids": [str(i) for i in ids]})
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert sorted(archive.namelist()) == sorted(f"memoire-{n}.pdf" for n in numeros)
    for name in archive.namelist():
        assert archive.read(name).startswith(b"%PDF")


def test_selection_with_a_foreign_id_is_not_found_and_changes_nothing(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        mine = _memoire(status=lifecycle.BROUILLON, structure_id=_cabinet_id())
        foreign = db.session.scalar(select(Memoire).where(Memoire.structure_id != _cabinet_id()))
        mine_id, foreign_id = mine.id, foreign.id
    for action in ("supprimer", "telecharger"):
        response = client.post("/memoires/synthese", data={
            "action": action, "ids": [str(mine_id), str(foreign_id)]})
        assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Memoire, mine_id) is not None


def test_consultation_profile_reads_but_cannot_delete(app, client, login_as):
    login_as(CONSULTATION)
    html = client.get("/memoires/synthese").get_data(as_text=True)
    assert 'value="supprimer"' not in html and 'value="telecharger"' in html
    with app.app_context():
        draft_id = _memoire(status=lifecycle.BROUILLON, structure_id=_cabinet_id()).id
    response = client.post("/memoires/synthese", data={"action": "supprimer",
                                                       "ids": [str(draft_id)]})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Memoire, draft_id) is not None


def test_selection_needs_csrf(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        draft_id = _memoire(status=lifecycle.BROUILLON, structure_id=_cabinet_id()).id
    response = client.post("/memoires/synthese", data={"action": "supprimer",
                                                       "ids": [str(draft_id)]}, csrf=False)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Memoire, draft_id) is not None


# ---------------------------------------------------------------- Rechercher

def test_search_page_has_the_seed_criteria_and_columns(client, login_as):
    login_as(INTERPRETE)
    html = client.get("/memoires/recherche").get_data(as_text=True)
    for label in ("Numéro de mémoire", "Juridiction", "Numéro d&#39;engagement juridique",
                  "Date de dépôt du", "Date de dépôt au", "État courant",
                  "Catégorie de prestataire", "Prestataire", "Service prestataire",
                  "Texte de référence", "Critères avancés", "N° d&#39;affaire", "Type de prestation",
                  "Date de prestation du", "Montant TTC minimum", "Montant TTC maximum",
                  "Inclure les archives", "Lignes par page", "Réinitialiser", "Rechercher"):
        assert label in html, label
    for column in ("Numéro de facture", "Date prestataire", "Date de l&#39;état courant",
                   "Engagement juridique", "Montant TTC", "MT modifié", "Autres montants Oui/Non",
                   "Actions", "Exporter les résultats", "Visualiser", "Télécharger"):
        assert column in html, column


def test_search_defaults_to_five_lines_and_pages(client, login_as):
    login_as(INTERPRETE)
    html = client.get("/memoires/recherche").get_data(as_text=True)
    assert html.count('name="ids"') == 5
    assert "Résultats 1 à 5 sur" in html and "Page suivante" in html
    html = client.get("/memoires/recherche?lignes=20&page=2").get_data(as_text=True)
    assert "Résultats 21 à" in html


def test_search_by_number_prefix_and_fragment(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        memoire = db.session.scalar(select(Memoire).where(
            Memoire.structure_id == _cabinet_id(), Memoire.status == lifecycle.MIS_A_DISPOSITION))
        numero = memoire.numero
    response = client.get(f"/memoires/recherche?numero={numero.lower()}", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="resultats"')
    assert "<html" not in html
    assert html.count('name="ids"') == 1 and numero in html
    assert response.headers["Vary"] == "HX-Request" or "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("criterion", [
    "juridiction", "engagement", "depot", "status", "categorie", "structure", "service", "texte",
    "affaire", "type", "prestation", "montant"])
def test_each_criterion_filters(app, client, login_as, criterion):
    """Every criterion keeps exactly the mémoires that match it (compared with the database)."""
    login_as(INTERPRETE)
    with app.app_context():
        cabinet = _cabinet_id()
        target = db.session.scalar(select(Memoire).where(
            Memoire.structure_id == cabinet, Memoire.status == lifecycle.MIS_EN_PAIEMENT,
            Memoire.engagement_juridique.is_not(None)).order_by(Memoire.status_changed_at.desc()))
        line = target.lines[0]
        sent = target.sent_at.date()
        args = {
            "juridiction": {"juridiction_id": target.juridiction_id},
            "engagement": {"engagement": target.engagement_juridique},
            "depot": {"depot_du": sent.isoformat(), "depot_au": sent.strftime("%d/%m/%Y")},
            "status": {"status": target.status},
            "categorie": {"categorie_code": target.categorie_code},
            "structure": {"structure_id": cabinet},
            "service": {"service_id": target.service_id},
            "texte": {"texte_code": target.texte_code},
            "affaire": {"affaire": line.numero_affaire},
            "type": {"type_code": line.type_code},
            "prestation": {"prestation_du": line.date_prestation.isoformat(),
                           "prestation_au": line.date_prestation.isoformat()},
            "montant": {"montant_min": f"{target.total_ttc}".replace(".", ","),
                        "montant_max": f"{target.total_ttc}".replace(".", ",")},
        }[criterion]
        args.update({"archives": "y", "lignes": "100"})
        expected = _expected(criterion, target, line)
        assert target.numero in expected
    html = client.get("/memoires/recherche", query_string=args).get_data(as_text=True)
    shown = _numbers(html)
    assert set(shown) == set(expected) or (len(expected) > 100 and len(shown) == 100)


def _expected(criterion, target, line) -> list[str]:
    from models import PrestationLine

    query = select(Memoire).where(Memoire.structure_id.in_([_cabinet_id()]))
    query = {
        "juridiction": query.where(Memoire.juridiction_id == target.juridiction_id),
        "engagement": query.where(Memoire.engagement_juridique == target.engagement_juridique),
        "depot": query.where(func.date(Memoire.sent_at) == target.sent_at.date()),
        "status": query.where(Memoire.status == target.status),
        "categorie": query.where(Memoire.categorie_code == target.categorie_code),
        "structure": query,
        "service": query.where(Memoire.service_id == target.service_id),
        "texte": query.where(Memoire.texte_code == target.texte_code),
        "affaire": query.where(Memoire.lines.any(PrestationLine.numero_affaire
                                                 == line.numero_affaire)),
        "type": query.where(Memoire.lines.any(PrestationLine.type_code == line.type_code)),
        "prestation": query.where(Memoire.lines.any(PrestationLine.date_prestation
                                                    == line.date_prestation)),
        "montant": query.where(Memoire.total_ttc == target.total_ttc),
    }[criterion]
    return [m.numero for m in db.session.scalars(query)]


def _numbers(html: str) -> list[str]:
    import re

    return re.findall(r'aria-label="Sélectionner le mémoire ([A-Z0-9]+)"', html)


def test_criteria_combine(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        target = db.session.scalar(select(Memoire).where(
            Memoire.structure_id == _cabinet_id(), Memoire.status == lifecycle.MIS_EN_PAIEMENT)
            .order_by(Memoire.status_changed_at.desc()))
        numero, juridiction_id = target.numero, target.juridiction_id
        amount = f"{target.total_ttc}".replace(".", ",")
    html = client.get("/memoires/recherche", query_string={
        "status": "MIS_EN_PAIEMENT", "juridiction_id": juridiction_id, "montant_min": amount,
        "montant_max": amount, "numero": numero[:8], "archives": "y", "lignes": "100",
    }).get_data(as_text=True)
    assert numero in _numbers(html)
    html = client.get("/memoires/recherche", query_string={
        "status": "BROUILLON", "numero": numero, "archives": "y"}).get_data(as_text=True)
    assert _numbers(html) == []
    assert "Aucun mémoire" in html


def test_archives_are_left_out_unless_asked(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        old = db.session.scalar(select(Memoire).where(
            Memoire.structure_id == _cabinet_id(), Memoire.status == lifecycle.MIS_EN_PAIEMENT)
            .order_by(Memoire.status_changed_at))
        assert old.status_changed_at.date() < date.today() - timedelta(days=400)
        numero = old.numero
    assert _numbers(client.get(f"/memoires/recherche?numero={numero}").get_data(as_text=True)) == []
    assert numero in client.get(
        f"/memoires/recherche?numero={numero}&archives=y").get_data(as_text=True)
    archives = client.get(f"/memoires/archives?numero={numero}").get_data(as_text=True)
    assert numero in _numbers(archives)
    assert 'value="supprimer"' not in archives and "Dupliquer" not in archives
    recent = client.get("/memoires/archives?status=BROUILLON").get_data(as_text=True)
    assert _numbers(recent) == []


def test_archive_delay_is_configurable(app, client, login_as):
    app.config["ARCHIVE_AFTER_MONTHS"] = 100
    login_as(INTERPRETE)
    assert _numbers(client.get("/memoires/archives").get_data(as_text=True)) == []


def test_search_sorts_by_amount(app, client, login_as):
    login_as(INTERPRETE)
    html = client.get("/memoires/recherche?tri=montant&ordre=asc&lignes=100&archives=y"
                      ).get_data(as_text=True)
    shown = _numbers(html)
    with app.app_context():
        amounts = [db.session.scalar(select(Memoire.total_ttc).where(
            (Memoire.numero_mj == n) | (Memoire.numero_tmp == n))) for n in shown]
    assert amounts == sorted(amounts) and len(amounts) == 100
    assert 'aria-sort="ascending"' in html


def test_bad_criteria_answer_422_with_the_message_next_to_the_field(client, login_as):
    login_as(INTERPRETE)
    response = client.get("/memoires/recherche?montant_min=abc&depot_du=2025-03-01"
                          "&depot_au=2025-02-01")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="montant_min-erreur"' in html and 'value="abc"' in html
    assert "La date de fin doit être postérieure" in html
    fragment = client.get("/memoires/recherche?montant_min=abc", headers=HX)
    assert fragment.status_code == 422
    assert "Corrigez les critères" in fragment.get_data(as_text=True)


def test_search_bulk_delete_keeps_the_criteria(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        draft = _memoire(status=lifecycle.BROUILLON, structure_id=_cabinet_id())
        draft_id = draft.id
    response = client.post("/memoires/recherche?status=BROUILLON&lignes=10",
                           data={"action": "supprimer", "ids": [str(draft_id)]})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/memoires/recherche?status=BROUILLON&lignes=10")
    with app.app_context():
        assert db.session.get(Memoire, draft_id) is None


# ---------------------------------------------------------------- CSV

def test_csv_export_french_amounts_accents_and_no_formula(app, client, login_as):
    login_as(INTERPRETE)
    with app.app_context():
        memoire = _memoire(status=lifecycle.BROUILLON, structure_id=_cabinet_id())
        # A draft is still editable: its invoice number is what the provider typed.
        memoire.numero_facture = "=HYPERLINK(\"http://x\")"
        memoire.total_ttc = Decimal("1200.50")
        db.session.commit()
        numero = memoire.numero
    response = client.get(f"/memoires/recherche/export.csv?numero={numero}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0][:3] == ["Numéro de mémoire", "Numéro de facture", "Prestataire"]
    assert rows[1][0] == numero
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"
    assert rows[1][2] == "Cabinet Lefèvre Interprétariat"
    assert rows[1][8] == "1\u202f200,50"
    assert rows[1][11] == "Brouillon"
    assert len(rows) == 2


def test_csv_export_has_every_result_not_just_a_page(app, client, login_as):
    login_as(INTERPRETE)
    rows = _csv_rows(client.get("/memoires/recherche/export.csv?archives=y"))
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Memoire).where(
            Memoire.structure_id == _cabinet_id()))
    assert len(rows) - 1 == count > 100


# ---------------------------------------------------------------- rights

def test_expert_never_sees_the_interpreter_mémoires(app, client, login_as):
    login_as(EXPERT)
    html = client.get("/memoires/recherche?archives=y&lignes=100").get_data(as_text=True)
    rows = _csv_rows(client.get("/memoires/recherche/export.csv?archives=y"))
    with app.app_context():
        cabinet_numbers = set(db.session.scalars(select(
            func.coalesce(Memoire.numero_mj, Memoire.numero_tmp)).where(
            Memoire.structure_id == _cabinet_id())))
        expert_count = db.session.scalar(select(func.count()).select_from(Memoire).where(
            Memoire.structure_id != _cabinet_id()))
    assert not cabinet_numbers & set(_numbers(html))
    assert not cabinet_numbers & {r[0] for r in rows[1:]}
    assert len(rows) - 1 == expert_count
    dashboard = client.get("/memoires/tableau-de-bord").get_data(as_text=True)
    assert "Cabinet Lefèvre" not in dashboard
    assert client.get(f"/memoires/liste-fiscale?structure_id={_cabinet_id_in(app)}"
                      "&du=2025-01-01&au=2025-12-31").status_code == 422


def _cabinet_id_in(app) -> int:
    with app.app_context():
        return _cabinet_id()


def test_agent_searches_what_the_juridiction_received(app, client, login_as):
    login_as(GREFFE)
    html = client.get("/memoires/recherche?archives=y&lignes=100").get_data(as_text=True)
    shown = set(_numbers(html))
    with app.app_context():
        from models import Juridiction
        paris = db.session.scalar(select(Juridiction.id).where(Juridiction.code == "tj75056"))
        received = set(db.session.scalars(select(Memoire.numero_mj).where(
            Memoire.juridiction_id == paris,
            Memoire.status.in_(lifecycle.RECEIVED_BY_JURIDICTION))))
        others = set(db.session.scalars(select(
            func.coalesce(Memoire.numero_mj, Memoire.numero_tmp)).where(
            (Memoire.juridiction_id != paris) | (Memoire.status == lifecycle.BROUILLON))))
    assert shown and shown <= received and not shown & others
    assert len(shown) == min(100, len(received))
    assert 'value="supprimer"' not in html
    rows = _csv_rows(client.get("/memoires/recherche/export.csv?archives=y"))
    assert {r[0] for r in rows[1:]} == received


def test_agent_dashboard_counts_and_ageing(app, client, login_as):
    with app.app_context():
        in_state("A_CONTROLER")
    login_as(GREFFE)
    response = client.get("/memoires/tableau-de-bord")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ancienneté des mémoires en attente" in html
    assert "Brouillon" not in html.split("Mémoires par état")[1].split("</thead>")[0]
    with app.app_context():
        from models import Juridiction
        paris = db.session.scalar(select(Juridiction.id).where(Juridiction.code == "tj75056"))
        paid = db.session.scalar(select(func.count()).select_from(Memoire).where(
            Memoire.juridiction_id == paris, Memoire.status == lifecycle.MIS_EN_PAIEMENT))
    assert f'aria-label="{paid} mémoires « Mis en paiement »"' in html


# ---------------------------------------------------------------- Tableau de bord

def test_dashboard_counts_per_structure_and_status_link_to_search(app, client, login_as):
    login_as(INTERPRETE)
    response = client.get("/memoires/tableau-de-bord")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.app_context():
        cabinet = _cabinet_id()
        counts = dict(db.session.execute(select(Memoire.status, func.count()).where(
            Memoire.structure_id == cabinet).group_by(Memoire.status)).all())
    for status in lifecycle.STATUSES:
        label = lifecycle.label(status)
        assert f">{label}</th>" in html
        count = counts.get(status, 0)
        assert (f'aria-label="{count} mémoire{"s" if count > 1 else ""} « {label} » de '
                f'81234567600017 - Cabinet Lefèvre Interprétariat">') in html
        assert (f"/memoires/recherche?status={status}&amp;archives=y&amp;structure_id={cabinet}"
                in html)
    # The link shows the same number of mémoires as the count.
    paid = counts[lifecycle.MIS_EN_PAIEMENT]
    listing = client.get(f"/memoires/recherche?status=MIS_EN_PAIEMENT&archives=y"
                         f"&structure_id={cabinet}").get_data(as_text=True)
    assert f"sur {paid}" in listing


def test_dashboard_draws_accessible_svg_charts(client, login_as):
    login_as(INTERPRETE)
    html = client.get("/memoires/tableau-de-bord").get_data(as_text=True)
    assert html.count('<svg role="img"') == 2
    assert "<title id=\"montants-titre\">Montants TTC par mois et par état</title>" in html
    assert "Délai de paiement par juridiction" in html
    assert "Médiane" in html and "90e centile" in html
    assert "75 - Tribunal judiciaire de Paris" in html
    assert "<script" not in html.split("<main")[1]


# ---------------------------------------------------------------- Liste fiscale

def test_fiscal_list_needs_a_period_of_at_most_one_year(app, client, login_as):
    login_as(INTERPRETE)
    cabinet = _cabinet_id_in(app)
    page = client.get("/memoires/liste-fiscale")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mis en paiement" in html and "Date de l&#39;état courant du" in html
    response = client.get(f"/memoires/liste-fiscale?structure_id={cabinet}&du=2024-01-01"
                          "&au=2025-06-30")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="au-erreur" class="field-error">La période ne peut pas dépasser un an.' in html
    assert 'value="2025-06-30"' in html
    response = client.get(f"/memoires/liste-fiscale?structure_id={cabinet}&au=2025-06-30")
    assert response.status_code == 422
    assert "Indiquez la date de début de la période." in response.get_data(as_text=True)


def test_fiscal_list_shows_paid_mémoires_csv_and_pdf(app, client, login_as):
    login_as(INTERPRETE)
    today = date.today()
    du = today - timedelta(days=364)
    with app.app_context():
        cabinet = _cabinet_id()
        paid = db.session.scalars(select(Memoire).where(
            Memoire.structure_id == cabinet, Memoire.status == lifecycle.MIS_EN_PAIEMENT,
            Memoire.status_changed_at >= du)).all()
        numbers = {m.numero for m in paid}
        total = sum((m.montant_retenu if m.montant_retenu is not None else m.total_ttc
                     for m in paid), Decimal(0))
        other = _memoire(status=lifecycle.ABANDONNE, structure_id=cabinet).numero
    query = f"structure_id={cabinet}&du={du.isoformat()}&au={today.isoformat()}"
    html = client.get(f"/memoires/liste-fiscale?{query}").get_data(as_text=True)
    from services.formatting import amount
    assert f"{amount(total)} €" in html
    assert other not in html
    rows = _csv_rows(client.get(f"/memoires/liste-fiscale.csv?{query}"))
    assert {r[0] for r in rows[1:]} == numbers
    assert {r[6] for r in rows[1:]} == {"Mis en paiement"}
    pdf = client.get(f"/memoires/liste-fiscale.pdf?{query}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF")


def test_fiscal_list_is_for_providers(client, login_as):
    login_as(GREFFE)
    assert client.get("/memoires/liste-fiscale").status_code == 403


def test_navigation_shows_the_tracking_tabs(client, login_as):
    login_as(INTERPRETE)
    html = client.get("/memoires/synthese").get_data(as_text=True)
    for tab in ("Synthèse", "Rechercher", "Liste fiscale", "Tableau de bord", "Archives"):
        assert f">{tab}</a>" in html
    assert '<a href="/memoires/synthese" aria-current="page">Synthèse</a>' in html


def _current_tabs(html: str) -> list[str]:
    tabs = html.split('aria-label="Frais de justice"', 1)[1].split("</nav>", 1)[0]
    return [part.split(">", 1)[1].split("<", 1)[0]
            for part in tabs.split("<a ")[1:] if 'aria-current="page"' in part.split(">", 1)[0]]


def test_one_tab_only_is_current_and_none_on_a_memoire(app, client, login_as):
    with app.app_context():
        sent = in_state("ENVOYE").id
    login_as(INTERPRETE)
    assert _current_tabs(client.get("/structure").get_data(as_text=True)) == ["Ma structure"]
    assert _current_tabs(client.get("/habilitations").get_data(as_text=True)) == [
        "Mes habilitations"]
    assert _current_tabs(client.get("/memoires/nouveau").get_data(as_text=True)) == [
        "Saisir mémoire"]
    assert _current_tabs(client.get(f"/memoires/{sent}").get_data(as_text=True)) == []
    login_as(GREFFE)
    with app.app_context():
        received = in_state("A_CONTROLER").id
    assert _current_tabs(client.get(f"/juridiction/memoires/{received}").get_data(
        as_text=True)) == ["Mémoires reçus"]


def test_read_only_provider_has_no_saisir_tab_and_a_provider_without_structure_no_tracking(
        client, login_as, factory):
    login_as(CONSULTATION)
    html = client.get("/memoires/synthese").get_data(as_text=True)
    assert ">Synthèse</a>" in html and ">Rechercher</a>" in html
    assert ">Saisir mémoire</a>" not in html
    login_as(INTERPRETE)
    assert ">Saisir mémoire</a>" in client.get("/").get_data(as_text=True)
    factory.user("sans-structure@demo.test")
    login_as("sans-structure@demo.test")
    html = client.get("/").get_data(as_text=True)
    for tab in ("Ma structure", "Mes habilitations", "Mon compte"):
        assert f">{tab}</a>" in html, tab
    for tab in ("Synthèse", "Saisir mémoire", "Liste fiscale", "Tableau de bord", "Archives"):
        assert f">{tab}</a>" not in html, tab


def test_queue_says_today_and_lists_amounts_in_euros_from_the_header(app, client, login_as):
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        numero, amount_ttc = memoire.numero, memoire.total_ttc
    login_as(GREFFE)
    html = client.get("/juridiction/memoires?statut=").get_data(as_text=True)
    from services.formatting import amount
    row = html.split(numero, 1)[1].split("</tr>", 1)[0]
    assert "aujourd'hui" in row and "0 jour" not in row
    assert f">{amount(amount_ttc)}</td>" in row
    assert "Montant TTC (€)" in html


def test_delay_chart_abbreviates_juridictions_and_keeps_the_full_name(client, login_as):
    login_as(INTERPRETE)
    html = client.get("/memoires/tableau-de-bord").get_data(as_text=True)
    assert "<title>75 - Tribunal judiciaire de Paris</title>TJ Paris</text>" in html
    assert "…" not in html.split('id="delais-titre"', 1)[1].split("</svg>", 1)[0]
    assert ",00 €</text>" not in html  # axes in whole euros: « 6 000 € »
