"""« Saisir mémoire » over HTTP: page vs htmx fragment, PRG without JS, 422 in French, rights."""
import re
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from extensions import db
from models import Juridiction, Memoire, PrestationLine, Structure
from services import lifecycle

HX = {"HX-Request": "true"}
GZIP = {"Accept-Encoding": "gzip"}
TODAY = date.today()


def _text(response) -> str:
    """The body with French number spacing (narrow no-break spaces) as plain spaces."""
    return response.get_data(as_text=True).replace("\u202f", " ").replace("\u00a0", " ")


def _ids(app, raison_sociale="Cabinet Lefèvre Interprétariat"):
    with app.app_context():
        structure = db.session.scalar(select(Structure).where(
            Structure.raison_sociale == raison_sociale))
        paris = db.session.scalar(select(Juridiction).where(Juridiction.code == "tj75056"))
        drafts = db.session.scalars(select(Memoire.id).where(
            Memoire.structure_id == structure.id).order_by(Memoire.id)).all()
        return {"structure": structure.id, "service": structure.services[0].id,
                "account": structure.bank_accounts[0].id, "paris": paris.id, "drafts": drafts}


def _header(ids, **changes):
    data = {"juridiction_id": ids["paris"], "structure_id": ids["structure"],
            "service_id": ids["service"], "categorie_code": "INTERPRETE",
            "bank_account_id": ids["account"], "devise": "EUR", "texte_code": "R92",
            "vat_type": "DEBITS", "numero_facture": ""}
    data.update(changes)
    return data


def _line(**changes):
    data = {"numero_affaire": "20190XX",
            "date_requisition": (TODAY - timedelta(days=16)).strftime("%d/%m/%Y"),
            "autorite_code": "OPJ", "type_code": "AUTRE",
            "date_prestation": (TODAY - timedelta(days=2)).isoformat(),
            "quantite": "1", "tarif_ht": "150,00", "taux_tva": "5.5", "frais_divers": "",
            "debours": "", "remise": "", "action": "fermer"}
    data.update(changes)
    return data


@pytest.fixture
def ids(app):
    return _ids(app)


@pytest.fixture
def provider(login_as):
    login_as("interprete@demo.test")


# ------------------------------------------------------------------ header

def test_new_page_has_the_webinar_header_labels(client, provider):
    response = client.get("/memoires/nouveau")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in page
    for label in ("Juridiction", "Structure", "Adresse", "Service", "Catégorie de prestataire",
                  "Références bancaires", "Devise du mémoire", "EUR - Euro européen",
                  "Texte de référence", "TVA sur les débits", "TVA sur les encaissements",
                  "Exonéré", "Numéro de facture", "Enregistrer", "Saisie Web"):
        assert label in page
    assert "12 rue des Traducteurs" in page
    assert "FR76 **** " in page and "FR7630006000011234567890189" not in page
    assert 'value="ENCAISSEMENTS" checked' in page or 'checked id="vat_type-1"' in page


def test_structure_change_returns_its_details_as_a_fragment(client, provider, ids):
    response = client.get(f"/memoires/nouveau?structure_id={ids['structure']}", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert 'id="prestataire-details"' in body and "12 rue des Traducteurs" in body
    assert 'id="vat-type" hx-swap-oob="true"' in body
    assert response.headers["Vary"].count("HX-Request")


def test_enregistrer_without_js_creates_the_draft_and_redirects(client, provider, ids, app):
    response = client.post("/memoires/nouveau", data=_header(ids, numero_facture="F-12"))
    assert response.status_code == 303
    memoire_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        memoire = db.session.get(Memoire, memoire_id)
        assert memoire.status == lifecycle.BROUILLON and memoire.numero_facture == "F-12"
        numero = memoire.numero_tmp
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert numero in page and "Brouillon" in page and "Ajouter ligne de prestation" in page
    assert "Lignes de prestation" in page and "Montants totaux" in page


def test_enregistrer_with_htmx_swaps_the_page_in_place(client, provider, ids):
    response = client.post("/memoires/nouveau", data=_header(ids), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="saisie">')
    assert "Ajouter ligne de prestation" in body
    assert response.headers["HX-Push-Url"].startswith("/memoires/")
    assert "toast" in response.headers["HX-Trigger"]


def test_missing_header_fields_give_422_in_french_and_keep_the_input(client, provider, ids, app):
    with app.app_context():
        before = db.session.query(Memoire).count()
    response = client.post("/memoires/nouveau", data=_header(
        ids, juridiction_id="", bank_account_id="", numero_facture="MA-FACTURE"), headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choisissez la juridiction destinataire." in body
    assert "Choisissez les références bancaires du paiement." in body
    assert 'value="MA-FACTURE"' in body
    with app.app_context():
        assert db.session.query(Memoire).count() == before


def test_javascript_off_refresh_keeps_the_typed_fields(client, provider, ids):
    response = client.post("/memoires/nouveau", data=_header(
        ids, numero_facture="GARDE", action="actualiser"))
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'value="GARDE"' in body


def test_two_tabs_second_save_gets_409_and_keeps_its_input(client, provider, ids, app):
    draft = ids["drafts"][0]
    page = client.get(f"/memoires/{draft}").get_data(as_text=True)
    version = page.split('id="header-version" value="')[1].split('"')[0]
    first = client.post(f"/memoires/{draft}/en-tete",
                        data=_header(ids, version=version, numero_facture="ONGLET-A"))
    assert first.status_code == 303
    second = client.post(f"/memoires/{draft}/en-tete",
                         data=_header(ids, version=version, numero_facture="ONGLET-B"))
    body = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "modifié entre-temps" in body and 'value="ONGLET-B"' in body
    with app.app_context():
        assert db.session.get(Memoire, draft).numero_facture == "ONGLET-A"
    htmx = client.post(f"/memoires/{draft}/en-tete", headers=HX,
                       data=_header(ids, version=version, numero_facture="ONGLET-C"))
    assert htmx.status_code == 409 and htmx.headers["HX-Reswap"] == "none"
    assert "modifié entre-temps" in htmx.headers["HX-Trigger"].encode().decode("unicode_escape")


# ------------------------------------------------------------------ lines

def test_line_form_is_a_fragment_with_htmx_and_a_page_without(client, provider, ids):
    draft = ids["drafts"][0]
    fragment = client.get(f"/memoires/{draft}/lignes/nouvelle", headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    for label in ("N° d&#39;affaire", "Date de la réquisition", "Autorité requérante",
                  "Type de la prestation", "Date de la prestation", "Quantité",
                  "Tarif de la prestation HT", "Taux TVA", "Autres montants", "Frais divers",
                  "Débours (non soumis à la TVA)", "Remise", "Détails des frais divers",
                  "Valider et fermer", "Valider et ajouter une nouvelle ligne", "Annuler",
                  "Montant de la prestation HT", "Montant total HT",
                  "Montant de la prestation TTC"):
        assert label in body, label
    page = client.get(f"/memoires/{draft}/lignes/nouvelle").get_data(as_text=True)
    assert "<html" in page and "Valider et fermer" in page


def test_valider_et_fermer_without_js_saves_and_redirects(client, provider, ids, app):
    draft = ids["drafts"][0]
    response = client.post(f"/memoires/{draft}/lignes", data=_line(
        numero_affaire="NOUVELLE", tarif_ht="1 200,50", quantite="2"))
    assert response.status_code == 303 and response.headers["Location"].endswith("#lines")
    with app.app_context():
        line = db.session.scalar(select(PrestationLine).where(
            PrestationLine.numero_affaire == "NOUVELLE"))
        assert line.tarif_ht == D("1200.50") and line.position == 2
        assert db.session.get(Memoire, draft).total_ttc == D("158.25") + D("2533.06")
    page = _text(client.get(f"/memoires/{draft}"))
    assert "NOUVELLE" in page and "2 533,06" in page


def test_valider_with_htmx_updates_lines_totals_and_version_out_of_band(client, provider, ids):
    draft = ids["drafts"][0]
    response = client.post(f"/memoires/{draft}/lignes", data=_line(action="nouvelle"),
                           headers={**HX, **GZIP})
    assert response.status_code == 200
    assert len(response.data) <= 4096, len(response.data)
    body = client.post(f"/memoires/{draft}/lignes", data=_line(), headers=HX).get_data(
        as_text=True)
    assert '<section id="line-form">' in body  # closed
    assert 'id="lines" aria-labelledby="titre-lignes" hx-swap-oob="true"' in body
    assert 'id="totals" aria-labelledby="titre-recap" hx-swap-oob="true"' in body
    assert 'id="header-version" value=' in body and "474,75 EUR" in body


def test_invalid_line_gives_422_with_messages_next_to_fields(client, provider, ids, app):
    draft = ids["drafts"][0]
    future = (TODAY + timedelta(days=3)).isoformat()
    response = client.post(f"/memoires/{draft}/lignes", headers=HX, data=_line(
        numero_affaire="GARDEE", quantite="0", tarif_ht="1e3", debours="-5",
        date_prestation=future))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "La quantité doit être supérieure à 0." in body
    assert "Saisissez un nombre, par exemple 1 200,50." in body
    assert "Le montant doit être positif ou nul." in body
    assert "La date de la prestation ne peut pas être dans le futur." in body
    assert 'value="GARDEE"' in body and 'value="1e3"' in body
    assert 'id="quantite-erreur"' in body
    with app.app_context():
        assert len(db.session.get(Memoire, draft).lines) == 1
    order = client.post(f"/memoires/{draft}/lignes", headers=HX, data=_line(
        date_requisition=TODAY.isoformat(), date_prestation=(TODAY - timedelta(days=5)).isoformat()))
    assert "La date de la réquisition doit précéder la date de la prestation." in order.get_data(
        as_text=True)


def test_live_preview_computes_amounts_and_prefills_the_regulated_tariff(client, provider, ids):
    draft = ids["drafts"][0]
    response = client.post(f"/memoires/{draft}/lignes/apercu", headers={**HX, **GZIP},
                           data=_line(type_code="TRAD_ORALE", quantite="3", tarif_ht="",
                                      tarif_auto="", taux_tva="20"))
    assert response.status_code == 200 and len(response.data) <= 4096
    body = client.post(f"/memoires/{draft}/lignes/apercu", headers=HX, data=_line(
        type_code="TRAD_ORALE", quantite="3", tarif_ht="", tarif_auto="",
        taux_tva="20")).get_data(as_text=True)
    assert body.lstrip().startswith("<output")
    assert 'id="tarif_ht"' in body and 'value="30,00"' in body and 'hx-swap-oob="true"' in body
    assert "108,00" in body and "A. 43-7 CPP" in body
    typed = client.post(f"/memoires/{draft}/lignes/apercu", headers=HX, data=_line(
        type_code="TRAD_ORALE", quantite="3", tarif_ht="35", tarif_auto="30,00",
        taux_tva="20")).get_data(as_text=True)
    assert 'id="tarif_ht"' not in typed  # a price the user typed is never replaced
    assert "Tarif différent du tarif réglementé" in typed and "126,00" in typed


def test_bordereau_rows_fill_frais_divers_read_only(client, provider, ids, app):
    draft = ids["drafts"][0]
    added = client.post(f"/memoires/{draft}/lignes", headers=HX,
                        data=_line(action="ajouter_frais", numero_affaire="BORD"))
    body = added.get_data(as_text=True)
    assert added.status_code == 200 and 'name="frais-0-montant"' in body
    assert 'value="BORD"' in body and "Bordereau des frais de déplacement" in body
    data = _line(numero_affaire="BORD", frais_divers="999", **{
        "frais-0-date": (TODAY - timedelta(days=2)).isoformat(), "frais-0-nature": "transport",
        "frais-0-quantite": "1", "frais-0-montant": "10,00",
        "frais-1-date": (TODAY - timedelta(days=2)).isoformat(),
        "frais-1-nature": "affranchissement", "frais-1-quantite": "1", "frais-1-montant": "2,40"})
    preview = client.post(f"/memoires/{draft}/lignes/apercu", headers=HX, data=data)
    assert 'id="frais_divers"' in preview.get_data(as_text=True)
    assert "readonly" in preview.get_data(as_text=True)
    removed = client.post(f"/memoires/{draft}/lignes", headers=HX,
                          data={**data, "action": "retirer_frais-1"}).get_data(as_text=True)
    assert 'name="frais-1-montant"' not in removed and 'value="10,00"' in removed
    saved = client.post(f"/memoires/{draft}/lignes", data=data)
    assert saved.status_code == 303
    with app.app_context():
        line = db.session.scalar(select(PrestationLine).where(
            PrestationLine.numero_affaire == "BORD"))
        assert line.frais_divers == D("12.40") and len(line.frais) == 2


def test_bordereau_says_the_montant_is_the_row_total_with_a_linked_hint(client, provider, ids):
    draft = ids["drafts"][0]
    body = client.post(f"/memoires/{draft}/lignes", headers=HX,
                       data=_line(action="ajouter_frais")).get_data(as_text=True)
    assert '<th scope="col">Montant total</th>' in body
    assert '<small id="frais-aide">Quantité : nombre de kilomètres' in body
    assert "Montant total : la somme payée pour ce frais" in body
    assert '<table aria-describedby="frais-aide">' in body
    assert re.search(r'<input[^>]*aria-describedby="frais-aide"[^>]*name="frais-0-montant"', body)
    assert re.search(r'<input[^>]*aria-describedby="frais-aide"[^>]*name="frais-0-quantite"', body)


def test_edit_and_delete_a_line_in_place(client, provider, ids, app):
    draft = ids["drafts"][0]
    with app.app_context():
        line_id = db.session.get(Memoire, draft).lines[0].id
    form = client.get(f"/memoires/{draft}/lignes/{line_id}/modifier", headers=HX)
    assert 'value="20190XX"' in form.get_data(as_text=True)
    updated = client.post(f"/memoires/{draft}/lignes/{line_id}", headers=HX,
                          data=_line(quantite="2"))
    assert updated.status_code == 200 and "316,50" in updated.get_data(as_text=True)
    confirm = client.get(f"/memoires/{draft}/lignes/{line_id}/supprimer")
    assert "Supprimer la ligne de prestation n° 1 ?" in confirm.get_data(as_text=True)
    deleted = client.post(f"/memoires/{draft}/lignes/{line_id}/supprimer", headers=HX)
    assert deleted.status_code == 200 and "0 ligne(s)" in deleted.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Memoire, draft).lines == []


def test_line_actions_have_htmx_delete_with_confirmation(client, provider, ids):
    page = client.get(f"/memoires/{ids['drafts'][0]}").get_data(as_text=True)
    assert 'hx-swap="delete"' in page and 'data-confirm="Supprimer la ligne de prestation n° 1 ?"' in page


# ------------------------------------------------------------------ draft actions

def test_duplicate_and_delete_a_draft(client, provider, ids, app):
    draft = ids["drafts"][1]
    response = client.post(f"/memoires/{draft}/dupliquer")
    assert response.status_code == 303
    copy_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "127,88" in page and "a été créé en dupliquant" in page
    confirm = client.get(f"/memoires/{copy_id}/supprimer").get_data(as_text=True)
    assert "Confirmer la suppression" in confirm
    deleted = client.post(f"/memoires/{copy_id}/supprimer", headers=HX)
    assert deleted.status_code == 200 and deleted.headers["HX-Redirect"] == "/memoires/nouveau"
    with app.app_context():
        assert db.session.get(Memoire, copy_id) is None
    assert client.get(f"/memoires/{copy_id}").status_code == 404


def test_sent_memoire_is_read_only_and_refuses_changes(client, provider, ids, app):
    draft = ids["drafts"][0]
    with app.app_context():
        memoire = db.session.get(Memoire, draft)
        memoire.status = lifecycle.ENVOYE
        db.session.commit()
    page = client.get(f"/memoires/{draft}").get_data(as_text=True)
    assert "Visualiser le mémoire de frais de justice" in page
    assert "Ajouter ligne de prestation" not in page and ">Enregistrer<" not in page
    assert "Dupliquer" in page  # a sent mémoire can still be copied into a new draft
    response = client.post(f"/memoires/{draft}/lignes", data=_line())
    assert response.status_code == 409 and "ne peut plus être modifié" in response.get_data(
        as_text=True)
    assert client.post(f"/memoires/{draft}/supprimer").status_code == 409


# ------------------------------------------------------------------ rights

def test_consultation_sees_the_memoire_without_edit_controls_and_gets_403(client, login_as, app):
    ids = _ids(app)
    login_as("consultation@demo.test")
    draft = ids["drafts"][0]
    page = client.get(f"/memoires/{draft}").get_data(as_text=True)
    assert "Visualiser le mémoire de frais de justice" in page and "158,25" in page
    for control in ("Ajouter ligne de prestation", ">Enregistrer<", "Dupliquer", ">Supprimer<",
                    "Modifier", "<form method=\"post\" action=\"/memoires"):
        assert control not in page, control
    for url, data in ((f"/memoires/{draft}/lignes", _line()),
                      (f"/memoires/{draft}/en-tete", _header(ids)),
                      (f"/memoires/{draft}/dupliquer", {}), (f"/memoires/{draft}/supprimer", {}),
                      ("/memoires/nouveau", _header(ids))):
        assert client.post(url, data=data).status_code == 403, url
    assert client.get(f"/memoires/{draft}/lignes/nouvelle").status_code == 403


def test_another_structure_gets_404_everywhere(client, login_as, app):
    ids = _ids(app)
    draft = ids["drafts"][0]
    with app.app_context():
        line_id = db.session.get(Memoire, draft).lines[0].id
    login_as("expert@demo.test")
    for url in (f"/memoires/{draft}", f"/memoires/{draft}/lignes/nouvelle",
                f"/memoires/{draft}/lignes/{line_id}/modifier",
                f"/memoires/{draft}/supprimer"):
        assert client.get(url).status_code == 404, url
    for url in (f"/memoires/{draft}/lignes", f"/memoires/{draft}/lignes/{line_id}",
                f"/memoires/{draft}/lignes/apercu", f"/memoires/{draft}/dupliquer",
                f"/memoires/{draft}/en-tete", f"/memoires/{draft}/lignes/{line_id}/supprimer"):
        assert client.post(url, data=_line()).status_code == 404, url
    other = _ids(app, "Dr Aubert, expert psychiatre")["drafts"][0]
    assert client.get(f"/memoires/{other}/lignes/{line_id}/modifier").status_code == 404


def test_missing_csrf_token_is_refused(client, provider, ids, app):
    response = client.post(f"/memoires/{ids['drafts'][0]}/lignes", data=_line(), csrf=False)
    assert response.status_code == 400
    with app.app_context():
        assert len(db.session.get(Memoire, ids["drafts"][0]).lines) == 1


def test_anonymous_is_sent_to_login(client):
    response = client.get("/memoires/nouveau")
    assert response.status_code in (302, 303) and "/connexion" in response.headers["Location"]


def test_two_tabs_editing_the_same_line_never_silently_overwrite(client, provider, ids, app):
    draft = ids["drafts"][0]
    with app.app_context():
        memoire = db.session.get(Memoire, draft)
        line_id, version = memoire.lines[0].id, memoire.version
    form = client.get(f"/memoires/{draft}/lignes/{line_id}/modifier").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{version}"' in form
    first = client.post(f"/memoires/{draft}/lignes/{line_id}",
                        data=_line(quantite="2", version=str(version)))
    assert first.status_code == 303
    second = client.post(f"/memoires/{draft}/lignes/{line_id}",
                         data=_line(quantite="7", version=str(version)))
    assert second.status_code == 409
    page = _text(second)
    assert 'value="7"' in page and "errors-summary" in page
    htmx = client.post(f"/memoires/{draft}/lignes/{line_id}", headers=HX,
                       data=_line(quantite="7", version=str(version)))
    assert htmx.status_code == 409 and htmx.headers["HX-Reswap"] == "none"
    with app.app_context():
        assert db.session.get(PrestationLine, line_id).quantite == D("2")


def test_typed_markup_is_escaped_in_the_page_and_in_the_fragments(client, provider, ids):
    """SECURITY.md #39: what a user typed is text, in the full page and in htmx fragments."""
    draft = ids["drafts"][0]
    hostile = "<img src=x onerror=alert(1)>"
    fragment = client.post(f"/memoires/{draft}/lignes", data=_line(numero_affaire=hostile),
                           headers=HX).get_data(as_text=True)
    page = client.get(f"/memoires/{draft}").get_data(as_text=True)
    for body in (fragment, page):
        assert hostile not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_no_template_or_code_marks_user_text_as_safe():
    """Autoescaping is never switched off: no `|safe`, `Markup(` or `autoescape false`."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("templates/**/*.html"), *root.glob("blueprints/**/*.py"),
               *root.glob("services/*.py"), *root.glob("models/*.py"), root / "app.py"]
    offending = [str(path.relative_to(root)) for path in sources
                 if any(marker in path.read_text() for marker in
                        ("|safe", "| safe", "Markup(", "autoescape false"))]
    assert len(sources) > 50 and offending == []


def test_consultation_is_offered_no_new_memoire_and_told_why(client, login_as, ids):
    """With « consultation » only: no « Saisir un nouveau mémoire », and the form says why."""
    login_as("consultation@demo.test")
    page = client.get(f"/memoires/{ids['drafts'][0]}").get_data(as_text=True)
    assert "Saisir un nouveau mémoire" not in page
    refused = client.get("/memoires/nouveau")
    assert refused.status_code == 403
    assert "Frais de justice modification" in refused.get_data(as_text=True)


def test_service_is_marked_required_when_the_structure_has_services(client, provider):
    page = client.get("/memoires/nouveau").get_data(as_text=True)
    assert '<label for="service_id">Service <span aria-hidden="true">*</span></label>' in page
