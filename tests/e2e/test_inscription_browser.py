"""Sign-up, confirmation, first structure and password reset in Chromium (JS on and off), and
the accessibility of every page of « Ma structure », « Mes habilitations » and Administration."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import OutboxMessage, Structure

STRONG = "cheval agrafe batterie correcte"


def _link(app, to: str, path: str) -> str:
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == to)
                                  .order_by(OutboxMessage.id.desc())).first()
        db.session.remove()
    assert body, f"aucun courriel pour {to}"
    return re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S+)", body).group(1)


def _no_audit(page) -> list:
    return []


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_sign_up_confirm_and_create_a_structure(request, app, live_server, axe, js):
    page = request.getfixturevalue("page" if js else "nojs_page")
    axe = axe if js else _no_audit  # axe-core needs JavaScript
    page.goto(f"{live_server}/connexion")
    page.get_by_role("link", name="Créer un compte").click()
    expect(page.get_by_role("heading", name="Créer un compte")).to_be_visible()
    assert axe(page) == []
    page.get_by_label("Nom et prénom").fill("Anne Nouvelle")
    page.get_by_label("Adresse électronique").fill("anne@exemple.test")
    page.get_by_label(re.compile(r"^Mot de passe")).fill("motdepasse123")
    page.get_by_label("Confirmer le mot de passe").fill("motdepasse123")
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_text("trop courant")).to_be_visible()
    expect(page.get_by_label("Adresse électronique")).to_have_value("anne@exemple.test")
    assert axe(page) == []
    page.get_by_label(re.compile(r"^Mot de passe")).fill(STRONG)
    page.get_by_label("Confirmer le mot de passe").fill(STRONG)
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", name="Consultez votre messagerie")).to_be_visible()
    assert axe(page) == []

    page.goto(live_server + _link(app, "anne@exemple.test", "/inscription/confirmer/"))
    assert axe(page) == []
    page.get_by_role("button", name="Confirmer mon adresse").click()
    expect(page.get_by_role("heading", name="Créer ou rejoindre une structure")).to_be_visible()
    assert axe(page) == []
    create = page.locator("#create-structure-form")
    create.get_by_label("Type d'identifiant").select_option("SIRET")
    create.get_by_role("textbox", name="Identifiant", exact=True).fill("81234567600018")
    create.get_by_label("Raison sociale").fill("Traductions Anne")
    create.get_by_role("button", name="Créer la structure").click()
    expect(page.get_by_text("Le NIC (5 derniers chiffres du SIRET)")).to_be_visible()
    assert axe(page) == []
    create = page.locator("#create-structure-form")
    create.get_by_role("textbox", name="Identifiant", exact=True).fill("732 829 320 00074")
    create.get_by_role("button", name="Créer la structure").click()
    expect(page.get_by_role("heading", name="Traductions Anne")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Structure.gestionnaire_id).where(
            Structure.identifier == "73282932000074")) is not None
        db.session.remove()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_forgotten_password(request, app, live_server, axe, login_page, js):
    page = request.getfixturevalue("page" if js else "nojs_page")
    axe = axe if js else _no_audit  # axe-core needs JavaScript
    page.goto(f"{live_server}/connexion")
    page.get_by_role("link", name="Mot de passe oublié").click()
    assert axe(page) == []
    page.get_by_label("Adresse électronique").fill("expert@demo.test")
    page.get_by_role("button", name="Recevoir un lien").click()
    expect(page.get_by_role("heading", name="Consultez votre messagerie")).to_be_visible()
    page.goto(live_server + _link(app, "expert@demo.test", "/mot-de-passe-oublie/"))
    assert axe(page) == []
    page.get_by_label(re.compile(r"^Nouveau mot de passe")).fill(STRONG)
    page.get_by_label("Confirmer le nouveau mot de passe").fill(STRONG)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    expect(page.get_by_text("Toutes vos sessions ont été fermées")).to_be_visible()
    login_page(page, live_server, "expert@demo.test", STRONG)
    expect(page.get_by_role("heading", name="Bonjour Dr Paul Aubert")).to_be_visible()


def _structure_id(app, identifier="81234567600017"):
    with app.app_context():
        value = db.session.scalar(select(Structure.id).where(Structure.identifier == identifier))
        db.session.remove()
        return value


def test_structure_pages_have_no_accessibility_violations(page, app, live_server, login_page,
                                                          axe):
    sid = _structure_id(app)
    login_page(page, live_server, "interprete@demo.test")
    for path in ("/structure", f"/structure/{sid}", f"/structure/{sid}/services",
                 f"/structure/{sid}/coordonnees-bancaires",
                 f"/structure/{sid}/coordonnees-bancaires/nouvelle",
                 f"/structure/{sid}/documents", "/habilitations", "/habilitations/gerer",
                 "/inscription/structure"):
        page.goto(live_server + path)
        assert axe(page) == [], path


def test_bank_account_errors_are_swapped_in_and_accessible(page, app, live_server, login_page,
                                                           axe):
    sid = _structure_id(app)
    login_page(page, live_server, "interprete@demo.test")
    page.goto(f"{live_server}/structure/{sid}/coordonnees-bancaires/nouvelle")
    expect(page.get_by_text("Aide saisie")).to_be_visible()
    page.get_by_label("Nom de coordonnée bancaire").fill("Compte test")
    page.get_by_label("Identification nationale du compte bancaire (BBAN)").fill(
        "30006000011234567890188")
    page.get_by_label("clé IBAN").fill("76")
    page.get_by_label("BIC ou SWIFT").fill("AGRIFRPP")
    page.get_by_label("Information").fill("Compte de test")
    page.get_by_role("button", name="Soumettre").click()
    expect(page.locator("#bban-erreur")).to_contain_text("La clé RIB")
    expect(page.get_by_label("Nom de coordonnée bancaire")).to_have_value("Compte test")
    assert axe(page) == []


def test_gestionnaire_grants_a_request_with_htmx(page, app, live_server, login_page, axe):
    login_page(page, live_server, "interprete@demo.test")
    page.goto(f"{live_server}/habilitations/gerer")
    page.get_by_role("button", name="Accorder à Léa Garnier").click()
    expect(page.get_by_text("Aucune demande en attente.")).to_be_visible()
    expect(page.get_by_role("status").get_by_text("accordé à Léa Garnier")).to_be_visible()
    assert axe(page) == []


def test_admin_pages_have_no_accessibility_violations(page, live_server, login_page, axe):
    login_page(page, live_server, "admin@demo.test")
    for path in ("/administration", "/administration/juridictions?q=Paris",
                 "/administration/support", "/administration/utilisateurs",
                 "/administration/tarifs", "/administration/tarifs/TRAD_ORALE",
                 "/administration/courriels"):
        page.goto(live_server + path)
        assert axe(page) == [], path
    page.get_by_role("link", name="Juridictions").first.click()
    page.get_by_role("link", name="75 - Tribunal judiciaire de Paris").click()
    assert axe(page) == []
