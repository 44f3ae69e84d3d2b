"""« Gestion des pièces jointes » and « Lier pièces jointes » through the routes: upload with and
without htmx, refusals next to the field, library import, downloads and rights."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Attachment, Memoire, Structure
from services import attachments
from tests.envoi_helpers import HTML, make_draft, pdf_bytes, png_bytes, user, zip_bytes

PROVIDER = "interprete@demo.test"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def draft(app):
    with app.app_context():
        memoire = make_draft(db.session)
        db.session.commit()
        return memoire.id, memoire.lines[0].id


@pytest.fixture
def sent(app):
    with app.app_context():
        memoire = db.session.scalar(select(Memoire).where(
            Memoire.numero_mj.is_not(None), Memoire.structure.has(raison_sociale=(
                "Cabinet Lefèvre Interprétariat"))).order_by(Memoire.id))
        return memoire.id, memoire.attachments[0].id


def _upload(client, url, data=None, name="requisition.pdf", designation="Réquisition OPJ",
            type_code="REQUISITION", headers=None):
    return client.post(url, data={
        "fichier": (io.BytesIO(pdf_bytes() if data is None else data), name),
        "designation": designation, "type_code": type_code,
    }, content_type="multipart/form-data", headers=headers or {})


def _count(app, memoire_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Attachment.id))
                                 .where(Attachment.memoire_id == memoire_id))


def test_manage_page_shows_the_webinar_blocks(client, login_as, draft):
    login_as(PROVIDER)
    page = client.get(f"/memoires/{draft[0]}/pieces-jointes").get_data(as_text=True)
    for label in ("Gestion des pièces jointes", "Ajouter une pièce jointe",
                  "Sélection de la pièce jointe", "Désignation", "Type de pièce jointe",
                  "Liste des pièces jointes disponibles", "Liste des pièces jointes", "Retour",
                  'enctype="multipart/form-data"', 'hx-encoding="multipart/form-data"',
                  "<progress data-upload-progress", "Attestation de vigilance URSSAF",
                  'aria-label="Importer « Attestation de vigilance URSSAF »"'):
        assert label in page, label


def test_upload_without_javascript_redirects_to_the_list(client, login_as, draft, app):
    login_as(PROVIDER)
    url = f"/memoires/{draft[0]}/pieces-jointes"
    response = _upload(client, url)
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    page = client.get(url).get_data(as_text=True)
    assert "Pièce jointe ajoutée." in page
    assert "Réquisition OPJ" in page and "requisition.pdf" in page
    assert _count(app, draft[0]) == 1


def test_upload_with_htmx_returns_the_block(client, login_as, draft, app):
    login_as(PROVIDER)
    response = _upload(client, f"/memoires/{draft[0]}/pieces-jointes", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="pieces">') and "<html" not in body
    assert json.loads(response.headers["HX-Trigger"])["toast"]["message"] == "Pièce jointe ajoutée."
    assert "Réquisition OPJ" in body


def test_line_upload_links_the_attachment_to_the_line(client, login_as, draft, app):
    login_as(PROVIDER)
    url = f"/memoires/{draft[0]}/lignes/{draft[1]}/pieces-jointes"
    page = client.get(url).get_data(as_text=True)
    assert "Lier pièces jointes" in page and "ligne de prestation n° 1" in page
    assert _upload(client, url).status_code == 303
    with app.app_context():
        attachment = db.session.scalar(select(Attachment).where(
            Attachment.memoire_id == draft[0]))
        assert attachment.line_id == draft[1]
    listing = client.get(f"/memoires/{draft[0]}/pieces-jointes").get_data(as_text=True)
    assert "<td>1</td>" in listing  # « Ligne de prestation » column


@pytest.mark.parametrize("data, name", [
    (zip_bytes(), "archive.zip"),
    (HTML, "photo.jpg"),
    (png_bytes(), "photo.jpg"),
    (b"", "vide.pdf"),
    (b"MZ\x90\x00" + b"\x00" * 60, "programme.pdf"),
])
def test_bad_file_is_refused_next_to_the_field_keeping_the_input(client, login_as, draft, app,
                                                                 data, name):
    login_as(PROVIDER)
    response = _upload(client, f"/memoires/{draft[0]}/pieces-jointes", data=data, name=name,
                       designation="Ma désignation", type_code="BORDEREAU_FRAIS", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="fichier-erreur"' in body and "PDF, JPEG, PNG ou TIFF" in body
    assert 'value="Ma désignation"' in body
    assert '<option selected value="BORDEREAU_FRAIS">' in body
    assert _count(app, draft[0]) == 0


def test_oversize_file_is_refused(client, login_as, draft, app):
    app.config["ATTACHMENT_MAX_BYTES"] = 200
    login_as(PROVIDER)
    response = _upload(client, f"/memoires/{draft[0]}/pieces-jointes")
    assert response.status_code == 422
    assert "dépasse la taille maximale" in response.get_data(as_text=True)


def test_missing_designation_and_type_are_reported(client, login_as, draft):
    login_as(PROVIDER)
    response = _upload(client, f"/memoires/{draft[0]}/pieces-jointes", designation="",
                       type_code="")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Indiquez une désignation explicite." in body
    assert "Choisissez un type de pièce jointe." in body


def test_count_limit_is_configurable(client, login_as, draft, app):
    app.config["ATTACHMENTS_PER_MEMOIRE"] = 1
    login_as(PROVIDER)
    url = f"/memoires/{draft[0]}/pieces-jointes"
    assert _upload(client, url).status_code == 303
    response = _upload(client, url, data=pdf_bytes("deux"))
    assert response.status_code == 422
    assert "au plus 1 pièces jointes" in response.get_data(as_text=True)


def test_traversal_filename_is_shown_as_a_safe_name(client, login_as, draft, app):
    login_as(PROVIDER)
    assert _upload(client, f"/memoires/{draft[0]}/pieces-jointes",
                   name="../../app.py.pdf").status_code == 303
    with app.app_context():
        names = db.session.scalars(select(Attachment.filename).where(
            Attachment.memoire_id == draft[0])).all()
    assert names == ["app.py.pdf"]


def test_library_document_is_imported_with_plus(client, login_as, draft, app):
    with app.app_context():
        document_id = db.session.scalar(select(Attachment.id).where(
            Attachment.memoire_id.is_(None), Attachment.designation.like("Attestation%")))
    login_as(PROVIDER)
    url = f"/memoires/{draft[0]}/pieces-jointes/importer/{document_id}"
    response = client.post(url, data={"ligne": draft[1]}, headers=HTMX)
    assert response.status_code == 200
    assert "importée" in json.loads(response.headers["HX-Trigger"])["toast"]["message"]
    with app.app_context():
        imported = db.session.scalar(select(Attachment).where(Attachment.memoire_id == draft[0]))
        assert imported.line_id == draft[1] and imported.type_code == "ATTESTATION_URSSAF"


def test_library_document_of_another_structure_cannot_be_imported(client, login_as, draft, app):
    with app.app_context():
        expert = user(db.session, "expert@demo.test")
        structure = db.session.scalar(select(Structure).where(
            Structure.gestionnaire_id == expert.id))
        foreign = attachments.add_structure_document(
            db.session, expert, structure, "cv.pdf", pdf_bytes("cv"), "CV", "AUTRE", 10_000_000)
        db.session.commit()
        foreign_id = foreign.id
    login_as(PROVIDER)
    response = client.post(f"/memoires/{draft[0]}/pieces-jointes/importer/{foreign_id}")
    assert response.status_code == 404
    assert _count(app, draft[0]) == 0


def test_delete_removes_the_attachment(client, login_as, draft, app):
    login_as(PROVIDER)
    _upload(client, f"/memoires/{draft[0]}/pieces-jointes")
    with app.app_context():
        attachment_id = db.session.scalar(select(Attachment.id).where(
            Attachment.memoire_id == draft[0]))
    response = client.post(f"/pieces-jointes/{attachment_id}/supprimer", headers=HTMX)
    assert response.status_code == 200 and "Aucune pièce jointe." in response.get_data(
        as_text=True)
    assert _count(app, draft[0]) == 0


def test_download_is_an_attachment_with_safe_headers(client, login_as, sent):
    login_as(PROVIDER)
    response = client.get(f"/pieces-jointes/{sent[1]}/telecharger")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename=" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.headers["Cache-Control"] == "no-store"


def test_view_is_inline_in_a_sandbox(client, login_as, sent):
    login_as("consultation@demo.test")
    response = client.get(f"/pieces-jointes/{sent[1]}/visualiser")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Content-Security-Policy"].startswith("sandbox")


def test_sent_memoire_attachments_are_read_only(client, login_as, sent, app):
    login_as(PROVIDER)
    page = client.get(f"/memoires/{sent[0]}/pieces-jointes").get_data(as_text=True)
    assert "Ajouter une pièce jointe" not in page and "Supprimer" not in page
    assert "Télécharger" in page
    assert _upload(client, f"/memoires/{sent[0]}/pieces-jointes").status_code == 422
    assert client.post(f"/pieces-jointes/{sent[1]}/supprimer").status_code == 409
    with app.app_context():
        assert db.session.get(Attachment, sent[1]) is not None


def test_consultation_sees_but_cannot_write(client, login_as, draft, app):
    with app.app_context():
        owner = user(db.session, PROVIDER)
        attachment = attachments.add_attachment(
            db.session, owner, db.session.get(Memoire, draft[0]), None, "a.pdf", pdf_bytes("a"),
            "A", "AUTRE", 10_000_000, 40)
        db.session.commit()
        attachment_id = attachment.id
    login_as("consultation@demo.test")
    page = client.get(f"/memoires/{draft[0]}/pieces-jointes")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Ajouter une pièce jointe" not in body and "Importer" not in body
    assert _upload(client, f"/memoires/{draft[0]}/pieces-jointes").status_code == 403
    assert client.post(f"/pieces-jointes/{attachment_id}/supprimer").status_code == 403
    assert client.get(f"/pieces-jointes/{attachment_id}/telecharger").status_code == 200
    assert _count(app, draft[0]) == 1


def test_other_structure_gets_404_everywhere(client, login_as, draft, sent, app):
    with app.app_context():
        document_id = db.session.scalar(select(Attachment.id).where(
            Attachment.memoire_id.is_(None)))
    login_as("expert@demo.test")
    for url in (f"/memoires/{draft[0]}/pieces-jointes",
                f"/memoires/{draft[0]}/lignes/{draft[1]}/pieces-jointes",
                f"/pieces-jointes/{sent[1]}/telecharger", f"/pieces-jointes/{sent[1]}/visualiser",
                f"/pieces-jointes/{document_id}/telecharger"):
        assert client.get(url).status_code == 404, url
    assert _upload(client, f"/memoires/{draft[0]}/pieces-jointes").status_code == 404
    assert client.post(f"/pieces-jointes/{sent[1]}/supprimer").status_code == 404
    assert client.post(
        f"/memoires/{draft[0]}/pieces-jointes/importer/{document_id}").status_code == 404


def test_line_of_another_memoire_is_404(client, login_as, draft, app):
    with app.app_context():
        other = make_draft(db.session)
        db.session.commit()
        other_line = other.lines[0].id
    login_as(PROVIDER)
    assert client.get(
        f"/memoires/{draft[0]}/lignes/{other_line}/pieces-jointes").status_code == 404


def test_anonymous_download_goes_to_login(client, sent):
    response = client.get(f"/pieces-jointes/{sent[1]}/telecharger")
    assert response.status_code in (302, 303) and "/connexion" in response.headers["Location"]


def test_upload_without_csrf_token_is_refused(client, login_as, draft, app):
    login_as(PROVIDER)
    response = client.post(f"/memoires/{draft[0]}/pieces-jointes", data={
        "fichier": (io.BytesIO(pdf_bytes()), "a.pdf"), "designation": "A", "type_code": "AUTRE",
    }, content_type="multipart/form-data", csrf=False)
    assert response.status_code == 400
    assert _count(app, draft[0]) == 0


def test_the_rib_is_not_offered_for_import_since_sending_attaches_it(client, login_as, draft):
    login_as(PROVIDER)
    page = client.get(f"/memoires/{draft[0]}/pieces-jointes").get_data(as_text=True)
    assert "Attestation de vigilance URSSAF" in page  # the library is offered…
    assert "RIB - Compte principal" not in page  # …without the RIB
    assert "joint automatiquement" in page
