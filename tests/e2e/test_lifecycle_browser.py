"""The juridiction's half in real Chromium, JS on and off: received → refused with a reason →
duplicated by the provider → corrected copy resent (B's « Valider et envoyer ») → certified with
a modified amount → put in payment; each step visible to both sides; axe-core on every screen."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from extensions import db
from tests.lifecycle_support import in_state

GREFFE = "greffe@demo.test"
INTERPRETE = "interprete@demo.test"


@pytest.fixture
def app_config():
    return {"LOGIN_RATE_LIMIT": "1000 per minute"}


def _logout(page):
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_refusal_duplication_resend_certification_payment(request, app, live_server, login_page,
                                                         axe, js):
    page = request.getfixturevalue("page" if js else "nojs_page")

    def audit(page):
        # axe-core runs in the page: only possible with JavaScript on (the same HTML is served
        # with JS off).
        if js:
            assert axe(page) == []
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        memoire_id, numero = memoire.id, memoire.numero

    # The greffe finds it in « Mémoires reçus » and refuses it with a reason.
    login_page(page, live_server, GREFFE)
    page.get_by_role("navigation", name="Frais de justice").get_by_role(
        "link", name="Mémoires reçus").click()
    expect(page.get_by_role("heading", name="Mémoires reçus", exact=True)).to_be_visible()
    audit(page)
    page.get_by_role("link", name=numero).click()
    expect(page.get_by_role("heading", name=f"Mémoire {numero}")).to_be_visible()
    audit(page)
    page.get_by_label("Motif de refus").select_option(label="Pièce justificative manquante")
    page.get_by_label("Précisions pour le prestataire").fill("La réquisition manque.")
    page.get_by_role("button", name="Refuser").click()
    expect(page.get_by_text("est refusé").first).to_be_visible()
    expect(page.get_by_role("cell", name="Refusé", exact=True)).to_be_visible()
    _logout(page)

    # The provider reads why, how to fix it, and duplicates it.
    login_page(page, live_server, INTERPRETE)
    page.goto(f"{live_server}/memoires/{memoire_id}/suivi")
    expect(page.get_by_role("heading", name="Motif du refus : Pièce justificative manquante")
           ).to_be_visible()
    expect(page.get_by_text("La réquisition manque.", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Comment corriger")).to_be_visible()
    audit(page)
    page.goto(f"{live_server}/memoires/{memoire_id}/messages")
    expect(page.get_by_text("Mémoire refusé. Motif : Pièce justificative manquante.")
           ).to_be_visible()
    page.get_by_label("Votre message").fill("Je la joins au nouveau mémoire.")
    page.get_by_role("button", name="Envoyer le message").click()
    expect(page.get_by_text("Je la joins au nouveau mémoire.")).to_be_visible()
    audit(page)
    page.goto(f"{live_server}/memoires/{memoire_id}/suivi")
    page.get_by_role("button", name="Dupliquer").click()
    expect(page.get_by_text("est dupliqué")).to_be_visible()
    copy_url = page.url
    copy_id = int(copy_url.rstrip("/").split("/")[-1])

    # … resends the corrected copy with the sending screens.
    page.get_by_role("button", name="Valider et envoyer").click()
    page.get_by_role("button", name="Confirmer et envoyer").click()
    expect(page.get_by_text("est validé, il est en cours de transmission")).to_be_visible()
    # The portal delivers it to the juridiction at once (notified below).
    with app.app_context():
        copy_numero = db.session.get(type(memoire), copy_id).numero
    page.goto(f"{live_server}/notifications")
    expect(page.get_by_text(f"Le mémoire {copy_numero} est mis à disposition")).to_be_visible()
    audit(page)
    _logout(page)

    # The greffe certifies it with a modified amount, then puts it in payment.
    login_page(page, live_server, GREFFE)
    page.goto(f"{live_server}/juridiction/memoires/{copy_id}")
    page.get_by_label("Montant retenu TTC (€)").fill("50,00")
    page.get_by_label("Motif du montant modifié").fill("Une heure non justifiée.")
    page.get_by_role("button", name="Certifier").click()
    expect(page.get_by_text("est certifié").first).to_be_visible()
    page.get_by_label("Date de mise en paiement").fill(date.today().isoformat())
    page.get_by_label("Référence du paiement").fill("DSJ-2025-77")
    page.get_by_role("button", name="Mettre en paiement").click()
    expect(page.get_by_text("est mis en paiement").first).to_be_visible()
    audit(page)
    _logout(page)

    # The provider sees « Mis en paiement » and « MT modifié » with its reason and the history.
    login_page(page, live_server, INTERPRETE)
    page.goto(f"{live_server}/memoires/{copy_id}/suivi")
    panel = page.locator("#cycle-de-vie")
    expect(panel.get_by_text("Mis en paiement").first).to_be_visible()
    expect(panel.get_by_text("Oui — Une heure non justifiée.")).to_be_visible()
    expect(panel.get_by_text("DSJ-2025-77").first).to_be_visible()
    expect(panel.get_by_role("row")).to_have_count(6)  # header + 5 transitions
    audit(page)


def test_court_and_provider_see_every_amount_of_a_line(page, app, live_server, login_page, axe):
    from tests.lifecycle_support import sent_with_other_amounts

    with app.app_context():
        memoire_id = sent_with_other_amounts().id
        db.session.remove()

    login_page(page, live_server, GREFFE)
    page.goto(f"{live_server}/juridiction/memoires/{memoire_id}")
    bordereau = page.get_by_role("table", name="Bordereau des frais divers de la ligne 2")
    expect(bordereau).to_be_visible()  # open: the line has other amounts
    expect(bordereau.get_by_role("cell", name="Kilomètres")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="Non attribué")).to_be_visible()
    assert axe(page) == []
    _logout(page)

    login_page(page, live_server, INTERPRETE)
    page.goto(f"{live_server}/memoires/{memoire_id}")
    expect(bordereau).to_be_hidden()
    page.get_by_text("Détail des montants de la ligne 2").click()
    expect(bordereau.get_by_role("cell", name="12,00 EUR").first).to_be_visible()
    expect(page.get_by_text("3 × 30,00 = 90,00")).to_be_visible()
    assert axe(page) == []
