"""« Valider et envoyer », « Confirmation d'envoi », the récapitulatif, the PDFs and the public
verification page, through the routes (htmx and plain), with rights and CSRF."""
from __future__ import annotations

import re
import zlib
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Certificate, Counter, Memoire
from services import lifecycle, submission
from services.formatting import nonbreaking
from tests.envoi_helpers import make_draft

PROVIDER = "interprete@demo.test"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def draft(app):
    with app.app_context():
        memoire = make_draft(db.session)
        db.session.commit()
        return memoire.id


@pytest.fixture
def sent(app):
    with app.app_context():
        memoire = db.session.scalar(select(Memoire).where(
            Memoire.numero_mj.is_not(None), Memoire.juridiction.has(code="tj75056"))
            .order_by(Memoire.id))
        certificate = db.session.get(Certificate, memoire.id)
        return memoire.id, memoire.numero_mj, certificate.empreinte


def _counter(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Counter.value).where(Counter.name == "MJ"))


def _version(app, memoire_id) -> int:
    with app.app_context():
        return db.session.get(Memoire, memoire_id).version


def _pdf_text(data: bytes) -> str:
    """Text of the (compressed) content streams of a PDF made by fpdf2."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            chunks.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            chunks.append(stream.decode("latin-1"))
    return "".join(chunks)


def test_validate_shows_the_honour_statement_dialog_in_place(client, login_as, draft):
    login_as(PROVIDER)
    response = client.post(f"/memoires/{draft}/envoi", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "<dialog data-open" in body and "Confirmation d'envoi" in body
    for paragraph in submission.HONOUR_STATEMENT:
        assert nonbreaking(paragraph).replace("'", "&#39;") in body
    assert "375\u202f000\u00a0€" in body  # the amount never breaks across lines
    assert ">Annuler</a>" in body and "Confirmer et envoyer" in body
    assert 'name="version" type="hidden"' in body


def test_validate_without_javascript_is_a_page_with_a_form(client, login_as, draft):
    login_as(PROVIDER)
    response = client.post(f"/memoires/{draft}/envoi")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in body and "<dialog" not in body
    assert f'action="/memoires/{draft}/envoi/confirmation"' in body
    assert "Toute escroquerie vous expose" in body


def test_validate_lists_errors_with_links_to_fields(client, login_as, app):
    with app.app_context():
        memoire = make_draft(db.session, lines=0)
        memoire.bank_account_id = None
        db.session.commit()
        memoire_id = memoire.id
    login_as(PROVIDER)
    response = client.post(f"/memoires/{memoire_id}/envoi", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Le mémoire ne peut pas être envoyé" in body and "<dialog" not in body
    assert f'href="/memoires/{memoire_id}#lines"' in body
    assert f'href="/memoires/{memoire_id}#bank_account_id"' in body
    assert "Ajoutez au moins une ligne de prestation." in body


def test_confirm_without_javascript_sends_and_redirects_to_the_recap(client, login_as, draft,
                                                                     app):
    login_as(PROVIDER)
    before = _counter(app)
    response = client.post(f"/memoires/{draft}/envoi/confirmation",
                           data={"version": _version(app, draft)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/memoires/{draft}/recapitulatif")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    numero = f"MJ{before + 1:010d}"
    assert (f"Le mémoire de frais de justice n° <strong>{numero}</strong> est validé, il est en "
            "cours de transmission au service concerné.") in page
    assert "Prestataire : <strong>81234567600017 - Cabinet Lefèvre Interprétariat</strong>" in page
    with app.app_context():
        stored = db.session.get(Certificate, draft)
        memoire = db.session.get(Memoire, draft)
        assert memoire.numero_mj == numero
        # Sent, then delivered to the juridiction by the system in the same request.
        assert [t.to_status for t in memoire.transitions][-2:] == [lifecycle.ENVOYE,
                                                                   lifecycle.MIS_A_DISPOSITION]
        assert memoire.status == lifecycle.MIS_A_DISPOSITION
        assert memoire.sent_ip == "127.0.0.1"
    assert f"Certificat de dépôt : <code id=\"empreinte\">{stored.empreinte}</code>" in page
    for label in ("Montant HT après remise globale", "Montant TVA", "Montant remise globale TTC",
                  "Montant TTC avant remise globale", "Montant TTC total", "158,25 EUR",
                  "Exporter le certificat de dépôt", "Visualiser le mémoire de frais de justice"):
        assert label in page, label


def test_confirm_with_htmx_swaps_the_recap_and_pushes_its_url(client, login_as, draft, app):
    login_as(PROVIDER)
    response = client.post(f"/memoires/{draft}/envoi/confirmation",
                           data={"version": _version(app, draft)}, headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "est validé, il est en cours de transmission" in body
    assert response.headers["HX-Push-Url"] == f"/memoires/{draft}/recapitulatif"


def test_double_click_consumes_one_number_and_shows_the_same_recap(client, login_as, draft,
                                                                   app):
    login_as(PROVIDER)
    version = _version(app, draft)
    before = _counter(app)
    first = client.post(f"/memoires/{draft}/envoi/confirmation", data={"version": version},
                        headers=HTMX)
    second = client.post(f"/memoires/{draft}/envoi/confirmation", data={"version": version},
                         headers=HTMX)
    assert first.status_code == second.status_code == 200
    numero = f"MJ{before + 1:010d}"
    assert numero in first.get_data(as_text=True) and numero in second.get_data(as_text=True)
    assert _counter(app) == before + 1


def test_memoire_changed_after_validation_is_not_sent(client, login_as, draft, app):
    login_as(PROVIDER)
    version = _version(app, draft)
    with app.app_context():
        memoire = db.session.get(Memoire, draft)
        memoire.numero_facture = "changé ailleurs"
        db.session.commit()
    before = _counter(app)
    response = client.post(f"/memoires/{draft}/envoi/confirmation", data={"version": version},
                           headers=HTMX)
    assert response.status_code == 409
    assert "modifié depuis sa validation" in response.headers["HX-Trigger"].encode().decode(
        "unicode_escape")
    assert _counter(app) == before
    plain = client.post(f"/memoires/{draft}/envoi/confirmation", data={"version": version})
    assert plain.status_code == 409 and "modifié depuis sa validation" in plain.get_data(
        as_text=True)


def test_late_memoire_needs_a_justification_in_the_dialog(client, login_as, app):
    with app.app_context():
        memoire = make_draft(db.session, date_prestation=date.today() - timedelta(days=400))
        db.session.commit()
        memoire_id, version = memoire.id, memoire.version
    login_as(PROVIDER)
    dialog = client.post(f"/memoires/{memoire_id}/envoi", headers=HTMX).get_data(as_text=True)
    assert "forclos" in dialog and "Justification du dépôt tardif" in dialog
    assert 'name="justification_forclusion"' in dialog and "required" in dialog
    refused = client.post(f"/memoires/{memoire_id}/envoi/confirmation",
                          data={"version": version}, headers=HTMX)
    assert refused.status_code == 422
    assert refused.headers["HX-Retarget"] == "#envoi"
    assert "Saisissez la justification du dépôt tardif" in refused.get_data(as_text=True)
    sent = client.post(f"/memoires/{memoire_id}/envoi/confirmation",
                       data={"version": version,
                             "justification_forclusion": "Réquisition reçue en retard."})
    assert sent.status_code == 303
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Réquisition reçue en retard." in page


def test_mission_ending_eleven_months_ago_shows_the_warning(client, login_as, app):
    with app.app_context():
        memoire = make_draft(db.session, date_prestation=date.today() - timedelta(days=345))
        db.session.commit()
        memoire_id = memoire.id
    login_as(PROVIDER)
    dialog = client.post(f"/memoires/{memoire_id}/envoi", headers=HTMX).get_data(as_text=True)
    assert "plus de 11 mois" in dialog and "Confirmer et envoyer" in dialog
    assert 'name="justification_forclusion"' not in dialog


def test_certificate_pdf_has_the_empreinte_and_a_qr_code(client, login_as, sent):
    login_as(PROVIDER)
    response = client.get(f"/memoires/{sent[0]}/certificat-de-depot.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.data.startswith(b"%PDF-")
    assert b"/Subtype /Image" in response.data
    content = _pdf_text(response.data)
    assert sent[2] in content and sent[1] in content
    assert "Conformément à votre validation" in content


def test_memoire_pdf_lists_lines_totals_and_attachments(client, login_as, sent):
    login_as("consultation@demo.test")
    response = client.get(f"/memoires/{sent[0]}/memoire.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    content = _pdf_text(response.data)
    for text in ("Lignes de prestation", "Montant TTC total", "Pièces jointes", sent[1],
                 "Coordonnée bancaire"):
        assert text in content, text


def test_recap_of_a_draft_is_404(client, login_as, draft):
    login_as(PROVIDER)
    assert client.get(f"/memoires/{draft}/recapitulatif").status_code == 404
    assert client.get(f"/memoires/{draft}/certificat-de-depot.pdf").status_code == 404


def test_juridiction_agent_reads_the_sent_memoire(client, login_as, sent):
    login_as("greffe@demo.test")
    assert client.get(f"/memoires/{sent[0]}/recapitulatif").status_code == 200
    assert client.get(f"/memoires/{sent[0]}/memoire.pdf").status_code == 200
    assert client.post(f"/memoires/{sent[0]}/envoi").status_code == 403


def test_consultation_cannot_send(client, login_as, draft, app):
    login_as("consultation@demo.test")
    assert client.post(f"/memoires/{draft}/envoi").status_code == 403
    assert client.post(f"/memoires/{draft}/envoi/confirmation",
                       data={"version": _version(app, draft)}).status_code == 403
    with app.app_context():
        assert db.session.get(Memoire, draft).numero_mj is None


def test_other_structure_gets_404_on_every_envoi_route(client, login_as, draft, sent, app):
    login_as("expert@demo.test")
    for memoire_id in (draft, sent[0]):
        assert client.post(f"/memoires/{memoire_id}/envoi").status_code == 404
        assert client.post(f"/memoires/{memoire_id}/envoi/confirmation",
                           data={"version": 1}).status_code == 404
        for suffix in ("recapitulatif", "certificat-de-depot.pdf", "memoire.pdf"):
            assert client.get(f"/memoires/{memoire_id}/{suffix}").status_code == 404, suffix


def test_confirm_without_csrf_token_sends_nothing(client, login_as, draft, app):
    login_as(PROVIDER)
    before = _counter(app)
    response = client.post(f"/memoires/{draft}/envoi/confirmation",
                           data={"version": _version(app, draft)}, csrf=False)
    assert response.status_code == 400
    assert _counter(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count(Certificate.memoire_id)).where(
            Certificate.memoire_id == draft)) == 0


# ---------------------------------------------------------------- public verification


def test_verification_page_is_public_and_confirms_the_empreinte(client, sent, app):
    page = client.get("/verification")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Numéro du mémoire" in body and "Empreinte" in body
    response = client.get("/verification", query_string={"numero": sent[1],
                                                          "empreinte": sent[2]})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "authentique" in body
    assert "75 - Tribunal judiciaire de Paris" in body and " EUR" in body
    assert "Cabinet Lefèvre" not in body and "81234567600017" not in body


def test_verification_with_a_wrong_empreinte_says_no_match(client, sent):
    response = client.get("/verification", query_string={"numero": sent[1],
                                                         "empreinte": "A" * 43 + "="})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Aucun mémoire déposé ne correspond" in body and "authentique" not in body
    unknown = client.get("/verification", query_string={"numero": "MJ9999999999",
                                                        "empreinte": sent[2]})
    assert "Aucun mémoire déposé ne correspond" in unknown.get_data(as_text=True)


def test_verification_htmx_returns_the_block(client, sent):
    response = client.get("/verification", headers=HTMX,
                          query_string={"numero": sent[1], "empreinte": sent[2]})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="verification">') and "authentique" in body


def test_verification_refuses_a_malformed_number_next_to_the_field(client):
    response = client.get("/verification", query_string={"numero": "TMP2025", "empreinte": "x"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="numero-erreur"' in body and "MJ suivi de 10 chiffres" in body
    assert 'value="TMP2025"' in body


def test_verification_is_rate_limited(client, app, sent):
    app.config["VERIFICATION_RATE_LIMIT"] = "3 per minute"
    statuses = [client.get("/verification", query_string={"numero": sent[1],
                                                          "empreinte": "x"}).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_certificate_is_found_again_from_the_memoire_page(client, login_as, app):
    """After the récapitulatif, the mémoire page still links to the certificat de dépôt."""
    with app.app_context():
        memoire = db.session.scalar(select(Memoire).where(
            Memoire.numero_mj.is_not(None),
            Memoire.structure.has(raison_sociale="Cabinet Lefèvre Interprétariat"))
            .order_by(Memoire.id))
        empreinte = db.session.get(Certificate, memoire.id).empreinte
    login_as(PROVIDER)
    page = client.get(f"/memoires/{memoire.id}").get_data(as_text=True)
    assert empreinte in page
    assert f'href="/memoires/{memoire.id}/certificat-de-depot.pdf"' in page
    assert "Exporter le certificat de dépôt" in page
    assert client.get(f"/memoires/{memoire.id}/certificat-de-depot.pdf").status_code == 200
