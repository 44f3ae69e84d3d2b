"""Suivre ses mémoires in real Chromium: results update in place as criteria are typed, the URL
follows (bookmark, back button), the same screens work with JavaScript off, and axe-core finds
no violation on Synthèse, Rechercher, Tableau de bord, Liste fiscale and Archives."""
from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Memoire
from services import lifecycle

INTERPRETE = "interprete@demo.test"
GREFFE = "greffe@demo.test"


def _tab(page, name):
    page.get_by_role("navigation", name="Frais de justice").get_by_role(
        "link", name=name, exact=True).click()


def test_search_updates_in_place_and_keeps_the_url(app, page, live_server, login_page, axe):
    with app.app_context():
        numero = db.session.scalar(select(Memoire.numero_mj).where(
            Memoire.status == lifecycle.MIS_A_DISPOSITION,
            Memoire.created_by.has(email=INTERPRETE)).order_by(Memoire.id.desc()))
    login_page(page, live_server, INTERPRETE)
    _tab(page, "Rechercher")
    expect(page.get_by_role("heading", name="Recherche de mémoires de frais de justice")
           ).to_be_visible()
    assert axe(page) == []
    rows = page.locator("#resultats tbody tr")
    expect(rows).to_have_count(5)
    page.get_by_label("Numéro de mémoire").fill(numero)
    expect(rows).to_have_count(1)
    expect(page.locator("#resultats")).to_contain_text(numero)
    expect(page).to_have_url(re.compile(rf"numero={numero}"))
    # Advanced criteria live in a <details>; an amount typed the French way.
    page.get_by_label("Numéro de mémoire").fill("")
    expect(rows).to_have_count(5)
    page.get_by_text("Critères avancés").click()
    page.get_by_label("Montant TTC minimum").fill("100 000,00")
    expect(page).to_have_url(re.compile(r"montant_min=1"))
    expect(page.locator("#resultats")).to_contain_text("Aucun mémoire")
    assert axe(page) == []
    page.go_back()
    # Each step back restores its page: wait for it, or two restores race each other.
    expect(page.locator("#resultats")).not_to_contain_text("Aucun mémoire")
    expect(rows).to_have_count(5)
    page.go_back()
    expect(page).to_have_url(re.compile(rf"numero={numero}"))
    expect(page.get_by_label("Numéro de mémoire")).to_have_value(numero)
    expect(rows).to_have_count(1)
    # Sorting by a column header keeps the criteria.
    page.get_by_label("Numéro de mémoire").fill("MJ")
    expect(page).to_have_url(re.compile(r"numero=MJ&"))
    expect(rows).to_have_count(5)
    page.get_by_role("link", name=re.compile("^Montant TTC")).click()
    expect(page).to_have_url(re.compile(r"tri=montant"))
    expect(page).to_have_url(re.compile(r"numero=MJ"))


def test_tracking_screens_pass_axe(app, page, live_server, login_page, axe):
    login_page(page, live_server, INTERPRETE)
    _tab(page, "Synthèse")
    expect(page.get_by_role("heading", name="Mémoires à traiter")).to_be_visible()
    assert axe(page) == []
    _tab(page, "Tableau de bord")
    expect(page.get_by_role("img", name=re.compile("Montants TTC par mois"))).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("Délai de paiement"))).to_be_visible()
    assert axe(page) == []
    _tab(page, "Liste fiscale")
    today = date.today()
    page.get_by_label("Date de l'état courant du").fill((today - timedelta(days=364)).isoformat())
    page.get_by_label("Date de l'état courant au").fill(today.isoformat())
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name=re.compile("Mémoires mis en paiement du"))
           ).to_be_visible()
    expect(page.get_by_role("link", name="Télécharger en PDF")).to_be_visible()
    assert axe(page) == []
    _tab(page, "Archives")
    expect(page.get_by_role("heading", name="Archives", exact=True)).to_be_visible()
    expect(page.locator("#resultats tbody tr")).to_have_count(5)
    assert axe(page) == []


def test_synthese_delete_with_htmx(app, page, live_server, login_page):
    with app.app_context():
        draft = db.session.scalar(select(Memoire).where(Memoire.status == lifecycle.BROUILLON,
                                                        Memoire.created_by.has(email=INTERPRETE)))
        draft_id, numero = draft.id, draft.numero
    login_page(page, live_server, INTERPRETE)
    _tab(page, "Synthèse")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_label(f"Sélectionner le mémoire {numero}").check()
    page.get_by_role("button", name="Supprimer", exact=True).click()
    expect(page.get_by_text("1 mémoire(s) supprimé(s).")).to_be_visible()
    expect(page.get_by_label(f"Sélectionner le mémoire {numero}")).to_have_count(0)
    with app.app_context():
        assert db.session.get(Memoire, draft_id) is None


def test_agent_dashboard_and_search_pass_axe(page, live_server, login_page, axe):
    login_page(page, live_server, GREFFE)
    _tab(page, "Tableau de bord")
    expect(page.get_by_role("heading", name="Ancienneté des mémoires en attente")).to_be_visible()
    assert axe(page) == []
    _tab(page, "Rechercher")
    expect(page.get_by_label("Prestataire", exact=True)).to_be_visible()
    page.get_by_label("Prestataire", exact=True).fill("Lefèvre")
    expect(page).to_have_url(re.compile(r"prestataire=Lef"))
    assert axe(page) == []


def test_without_javascript(app, nojs_page, live_server, login_page):
    page = nojs_page
    with app.app_context():
        draft = db.session.scalar(select(Memoire).where(Memoire.status == lifecycle.BROUILLON,
                                                        Memoire.created_by.has(email=INTERPRETE)))
        draft_id, numero = draft.id, draft.numero
    login_page(page, live_server, INTERPRETE)
    page.goto(f"{live_server}/memoires/recherche")
    page.get_by_label("État courant").select_option(label="Brouillon")
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"status=BROUILLON"))
    expect(page.locator("#resultats")).to_contain_text(numero)
    page.get_by_label(f"Sélectionner le mémoire {numero}").check()
    page.get_by_role("button", name="Supprimer", exact=True).click()
    expect(page.get_by_text(f"1 mémoire(s) supprimé(s) : {numero}.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"status=BROUILLON"))
    with app.app_context():
        assert db.session.get(Memoire, draft_id) is None
    page.goto(f"{live_server}/memoires/liste-fiscale")
    page.get_by_label("Date de l'état courant du").fill("2024-01-01")
    page.get_by_label("Date de l'état courant au").fill("2025-06-30")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("La période ne peut pas dépasser un an.")).to_be_visible()
    page.goto(f"{live_server}/memoires/tableau-de-bord")
    expect(page.get_by_role("img", name=re.compile("Montants TTC par mois"))).to_be_visible()
