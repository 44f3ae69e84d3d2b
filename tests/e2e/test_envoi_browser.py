"""The webinar's end: attach a PDF, « Valider et envoyer », « Confirmation d'envoi »,
« Confirmer et envoyer », the récapitulatif with the MJ number, then the public page confirms
the empreinte — in Chromium with JavaScript on and off, with an axe-core audit of each step."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from extensions import db
from tests.envoi_helpers import make_draft, pdf_bytes


@pytest.fixture
def draft_id(app):
    with app.app_context():
        memoire = make_draft(db.session)
        db.session.commit()
        return memoire.id


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_attach_send_and_verify_the_certificate(request, live_server, login_page, axe,
                                                draft_id, js):
    page = request.getfixturevalue("page" if js else "nojs_page")
    # axe-core needs JavaScript: without it the same full pages are audited by
    # test_full_pages_of_the_flow_are_accessible below.
    audit = (lambda: axe(page)) if js else (lambda: [])
    login_page(page, live_server, "interprete@demo.test")
    page.goto(f"{live_server}/memoires/{draft_id}")
    page.get_by_role("button", name="Gestion des pièces jointes").click()
    expect(page.get_by_role("heading", name="Gestion des pièces jointes")).to_be_visible()
    expect(page.locator("progress[data-upload-progress]")).to_have_count(1)
    assert audit() == []

    page.get_by_label("Sélection de la pièce jointe").set_input_files(
        {"name": "requisition.pdf", "mimeType": "application/pdf",
         "buffer": pdf_bytes("Réquisition")})
    page.get_by_label("Désignation").fill("Réquisition de l'OPJ")
    page.get_by_label("Type de pièce jointe").select_option(label="Réquisition / ordonnance de commission")
    page.get_by_role("button", name="Ajouter").click()
    listing = page.get_by_role("table").filter(has_text="requisition.pdf")
    expect(listing.get_by_role("cell", name="Réquisition de l'OPJ", exact=True)).to_be_visible()
    assert audit() == []

    page.get_by_role("button", name="Retour").click()
    expect(page.locator("#attachments")).to_contain_text("requisition.pdf")
    page.get_by_role("button", name="Valider et envoyer").click()
    confirmation = (page.get_by_role("dialog", name="Confirmation d'envoi") if js
                    else page.get_by_role("region", name="Confirmation d'envoi"))
    expect(confirmation).to_be_visible()
    expect(confirmation).to_contain_text("Toute escroquerie vous expose")
    expect(confirmation.get_by_role("button", name="Annuler")).to_be_visible()
    assert audit() == []

    confirmation.get_by_role("button", name="Confirmer et envoyer").click()
    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    message = page.get_by_text(re.compile(r"Le mémoire de frais de justice n° MJ\d{10} est validé"))
    expect(message).to_be_visible()
    expect(page).to_have_url(f"{live_server}/memoires/{draft_id}/recapitulatif")
    numero = re.search(r"MJ\d{10}", message.inner_text()).group(0)
    empreinte = page.locator("#empreinte").inner_text()
    assert len(empreinte) == 44
    expect(page.get_by_role("button", name="Exporter le certificat de dépôt")).to_be_visible()
    expect(page.get_by_role("button", name="Visualiser le mémoire de frais de justice")).to_be_visible()
    assert audit() == []

    page.goto(f"{live_server}/verification")
    page.get_by_label("Numéro du mémoire").fill(numero)
    page.get_by_label("Empreinte").fill(empreinte)
    page.get_by_role("button", name="Vérifier").click()
    expect(page.get_by_text("Le certificat est authentique", exact=False)).to_be_visible()
    expect(page.get_by_text("75 - Tribunal judiciaire de Paris")).to_be_visible()
    assert audit() == []


def test_cancel_closes_the_dialog_without_sending(page, live_server, login_page, draft_id, app):
    login_page(page, live_server, "interprete@demo.test")
    page.goto(f"{live_server}/memoires/{draft_id}")
    page.get_by_role("button", name="Valider et envoyer").click()
    dialog = page.get_by_role("dialog", name="Confirmation d'envoi")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Annuler").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    with app.app_context():
        from models import Memoire

        assert db.session.get(Memoire, draft_id).numero_mj is None


def test_bad_file_is_refused_in_place_keeping_the_designation(page, live_server, login_page,
                                                              draft_id, axe):
    login_page(page, live_server, "interprete@demo.test")
    page.goto(f"{live_server}/memoires/{draft_id}/pieces-jointes")
    page.get_by_label("Sélection de la pièce jointe").set_input_files(
        {"name": "photo.jpg", "mimeType": "image/jpeg", "buffer": b"<html><body>x</body></html>"})
    page.get_by_label("Désignation").fill("Photo du PV")
    page.get_by_label("Type de pièce jointe").select_option(label="Autre")
    page.get_by_role("button", name="Ajouter").click()
    expect(page.get_by_text("Formats acceptés : PDF, JPEG, PNG ou TIFF.", exact=False)).to_be_visible()
    expect(page.get_by_label("Désignation")).to_have_value("Photo du PV")
    assert axe(page) == []


def test_full_pages_of_the_flow_are_accessible(page, live_server, login_page, axe, draft_id):
    """The pages a browser without JavaScript gets (full validation page, recap page), audited
    with JavaScript on by submitting the forms natively (no htmx)."""
    login_page(page, live_server, "interprete@demo.test")
    page.goto(f"{live_server}/memoires/{draft_id}")
    with page.expect_navigation():
        page.evaluate("() => document.querySelector('form[action$=\"/envoi\"]').submit()")
    region = page.get_by_role("region", name="Confirmation d'envoi")
    expect(region).to_be_visible()
    assert axe(page) == []
    with page.expect_navigation():
        page.evaluate("() => document.querySelector('form[action$=\"/confirmation\"]').submit()")
    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    assert axe(page) == []
