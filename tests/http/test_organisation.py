"""« Ma structure »: Gérer une structure, services, coordonnées bancaires, documents; rights."""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Attachment, BankAccount, Memoire, Service, Structure
from services import lifecycle
from services.demo import rib_pdf
from tests.conftest import login

CABINET = "81234567600017"


@pytest.fixture
def cabinet_id(factory):
    return factory.id_of(Structure, identifier=CABINET)


def structure_form(**overrides):
    data = {"raison_sociale": "Cabinet Lefèvre Interprétariat", "numero_rcs": "812 345 676 R.C.S. Paris",
            "tva_intracom": "FR19812345676", "email": "contact@lefevre.test", "adresse": "12 rue X",
            "code_postal": "75011", "ville": "Paris", "pays": "FR", "telephone": "",
            "categorie_code": "INTERPRETE", "regime": "COSP", "droit_option": "y",
            "default_vat_type": "DEBITS"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_structure_page_shows_the_webinar_blocks(client, login_as, cabinet_id):
    login_as("interprete@demo.test")
    page = client.get(f"/structure/{cabinet_id}").get_data(as_text=True)
    for label in ("Informations générales", "Adresse postale du siège",
                  "Informations mémoire de frais de justice", "Catégorie Prestataire",
                  "Régime / Statut", "COSP", "Indépendants", "Numéro TVA intracommunautaire",
                  "Soumettre"):
        assert label in page


def test_gestionnaire_modifies_the_structure(client, login_as, cabinet_id, app):
    login_as("interprete@demo.test")
    response = client.post(f"/structure/{cabinet_id}", data=structure_form())
    assert response.status_code == 303
    with app.app_context():
        s = db.session.get(Structure, cabinet_id)
        assert (s.regime, s.droit_option, s.default_vat_type, s.email) == (
            "COSP", True, "DEBITS", "contact@lefevre.test")


@pytest.mark.parametrize("overrides, field_text", [
    ({"tva_intracom": "FR18812345676"}, "clé du numéro de TVA"),
    ({"tva_intracom": "FR40303265045"}, "ne correspond pas à celui de la structure"),
    ({"tva_intracom": "US123"}, "État membre"),
    ({"categorie_code": "PSYCHIATRE"}, "réservé aux interprètes"),
    ({"raison_sociale": ""}, "raison sociale"),
])
def test_bad_structure_input_is_refused_next_to_the_field(client, login_as, cabinet_id, app,
                                                          overrides, field_text):
    login_as("interprete@demo.test")
    response = client.post(f"/structure/{cabinet_id}", data=structure_form(**overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert field_text in page
    assert 'value="contact@lefevre.test"' in page  # nothing typed is lost
    with app.app_context():
        assert db.session.get(Structure, cabinet_id).email != "contact@lefevre.test"


def test_consultation_reads_but_cannot_write(client, login_as, cabinet_id, app):
    login_as("consultation@demo.test")
    page = client.get(f"/structure/{cabinet_id}").get_data(as_text=True)
    assert "consultation seule" in page and "Soumettre" not in page and "disabled" in page
    assert client.post(f"/structure/{cabinet_id}", data=structure_form()).status_code == 403
    assert client.post(f"/structure/{cabinet_id}/services",
                       data={"code": "X", "libelle": "Y"}).status_code == 403
    assert client.get(f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle").status_code == 403
    assert client.post(f"/structure/{cabinet_id}/documents").status_code == 403
    accounts = client.get(f"/structure/{cabinet_id}/coordonnees-bancaires").get_data(as_text=True)
    assert "FR76 **** **** **** **** **** 0189" in accounts
    assert "FR76 3000 6000 0112 3456 7890 189" not in accounts
    assert "Créer une coordonnée bancaire" not in accounts
    with app.app_context():
        assert db.session.get(Structure, cabinet_id).regime == "INDEPENDANT"
        assert db.session.scalar(select(func.count(Service.id)).where(
            Service.structure_id == cabinet_id)) == 2


def test_iban_shown_in_full_only_on_the_management_page_for_modification(client, login_as,
                                                                         cabinet_id):
    login_as("interprete@demo.test")
    page = client.get(f"/structure/{cabinet_id}/coordonnees-bancaires").get_data(as_text=True)
    assert "FR76 3000 6000 0112 3456 7890 189" in page


# ------------------------------------------------------------------ services

def test_services_create_rename_deactivate_delete(client, login_as, cabinet_id, app):
    login_as("interprete@demo.test")
    created = client.post(f"/structure/{cabinet_id}/services",
                          data={"code": "exp", "libelle": "Expertises"})
    assert created.status_code == 303
    duplicate = client.post(f"/structure/{cabinet_id}/services",
                            data={"code": "EXP", "libelle": "Encore"})
    assert duplicate.status_code == 422 and "existe déjà" in duplicate.get_data(as_text=True)
    with app.app_context():
        service = db.session.scalar(select(Service).where(Service.structure_id == cabinet_id,
                                                          Service.code == "EXP"))
        sid = service.id
    renamed = client.post(f"/structure/{cabinet_id}/services/{sid}",
                          data={f"s{sid}-libelle": "Expertises judiciaires"},
                          headers={"HX-Request": "true"})
    assert renamed.status_code == 200
    assert "Expertises judiciaires" in renamed.get_data(as_text=True)
    assert "toast" in renamed.headers["HX-Trigger"]
    assert client.post(f"/structure/{cabinet_id}/services/{sid}/desactiver").status_code == 303
    with app.app_context():
        assert db.session.get(Service, sid).is_active is False
    assert client.post(f"/structure/{cabinet_id}/services/{sid}/supprimer").status_code == 303
    with app.app_context():
        assert db.session.get(Service, sid) is None


def test_service_used_by_a_sent_memoire_is_deactivated_never_deleted(client, login_as,
                                                                     cabinet_id, app):
    with app.app_context():
        sent = db.session.scalar(select(Memoire).where(
            Memoire.structure_id == cabinet_id, Memoire.status.in_(lifecycle.SENT),
            Memoire.service_id.is_not(None)))
        assert sent is not None, "demo data has a sent mémoire with a service"
        sid, account_id = sent.service_id, sent.bank_account_id
    login_as("interprete@demo.test")
    response = client.post(f"/structure/{cabinet_id}/services/{sid}/supprimer")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "désactivé (jamais supprimé)" in page
    removed = client.post(f"/structure/{cabinet_id}/coordonnees-bancaires/{account_id}/supprimer")
    assert removed.status_code == 303
    with app.app_context():
        assert db.session.get(Service, sid).is_active is False
        account = db.session.get(BankAccount, account_id)
        assert account is not None and account.is_active is False


# ------------------------------------------------------------------ coordonnées bancaires

def bank_form(structure_id, **overrides):
    data = {"nom": "Compte secondaire", "structure_id": str(structure_id), "affactureur": "",
            "type": "IBAN", "pays": "FR", "bban": "30004000031234567890143", "cle_iban": "76",
            "bic": "AGRIFRPP", "information": "Compte de la société",
            "piece_jointe": (io.BytesIO(rib_pdf("Cabinet", "FR7630004000031234567890143", "AGRIFRPP")), "rib.pdf")}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_bank_account_page_has_the_input_help(client, login_as, cabinet_id):
    login_as("interprete@demo.test")
    page = client.get(f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle").get_data(
        as_text=True)
    for label in ("Créer une coordonnée bancaire", "Nom de coordonnée bancaire", "Affactureur",
                  "Aide saisie", "Identification nationale du compte bancaire (BBAN)",
                  "clé IBAN", "BIC ou SWIFT", "Information", "Pièce jointe",
                  "sans séparateur, seulement des caractères alphanumériques"):
        assert label in page


def test_create_bank_account_with_its_rib(client, login_as, cabinet_id, app):
    login_as("interprete@demo.test")
    response = client.post(f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle",
                           data=bank_form(cabinet_id), content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    with app.app_context():
        account = db.session.scalar(select(BankAccount).where(
            BankAccount.nom == "Compte secondaire"))
        assert account.iban == "FR7630004000031234567890143" and account.rib_sha256
        account_id = account.id
    rib = client.get(f"/structure/{cabinet_id}/coordonnees-bancaires/{account_id}/rib")
    assert rib.status_code == 200 and rib.data.startswith(b"%PDF")
    assert rib.headers["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("overrides, message", [
    ({"cle_iban": "77"}, "clé IBAN ne correspond pas"),
    ({"bban": "30006000011234567890188"}, "clé RIB"),
    ({"bban": "3000600001123456789018"}, "23 caractères"),
    ({"pays": "DE", "bban": "370400440532013000", "cle_iban": "89", "bic": "AGRIFRPP"},
     "code pays du BIC"),
    ({"bic": "AGRIFRP"}, "8 ou 11"),
    ({"piece_jointe": None}, "Joignez le RIB"),
    ({"piece_jointe": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "rib.pdf")}, "PDF, JPEG, PNG ou TIFF"),
    ({"nom": ""}, "nom de la coordonnée"),
])
def test_bank_account_errors_say_which_part_is_wrong(client, login_as, cabinet_id, app,
                                                     overrides, message):
    login_as("interprete@demo.test")
    before = _count(app, BankAccount)
    response = client.post(f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle",
                           data=bank_form(cabinet_id, **overrides),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "Compte de la société" in page  # kept
    assert _count(app, BankAccount) == before


def _error_of(page: str, field: str) -> str:
    start = page.index(f'id="{field}-erreur"')
    return page[start:page.index("</small>", start)]


def _rib_token(page: str) -> str:
    match = re.search(r'name="rib_token" value="([^"]+)"', page)
    assert match, "the valid RIB is kept in the form"
    return html.unescape(match.group(1))


def test_every_bank_account_error_is_shown_at_once_next_to_its_field(client, login_as,
                                                                     cabinet_id, app):
    login_as("interprete@demo.test")
    response = client.post(
        f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle",
        data=bank_form(cabinet_id, nom="", information="", cle_iban="12",
                       bic="AGRIFRP", piece_jointe=None),
        content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "nom de la coordonnée" in _error_of(page, "nom")
    assert "Saisissez une information" in _error_of(page, "information")
    assert "clé IBAN ne correspond pas" in _error_of(page, "cle_iban")
    assert "8 ou 11" in _error_of(page, "bic")
    assert "Joignez le RIB" in _error_of(page, "piece_jointe")
    assert 'id="bban-erreur"' not in page


def test_bank_account_form_marks_the_rib_required_and_labels_the_iban_key(client, login_as,
                                                                          cabinet_id):
    login_as("interprete@demo.test")
    page = client.get(f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle").get_data(
        as_text=True)
    assert '<label for="cle_iban">Clé IBAN <span aria-hidden="true">*</span>' in page
    assert '<label for="piece_jointe">Pièce jointe <span aria-hidden="true">*</span>' in page
    assert re.search(r'<input[^>]*id="piece_jointe"[^>]*required', page)


def test_valid_rib_is_kept_after_a_refusal_and_used_on_resubmit(client, login_as, cabinet_id,
                                                                app):
    login_as("interprete@demo.test")
    url = f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle"
    refused = client.post(url, data=bank_form(cabinet_id, cle_iban="77"),
                          content_type="multipart/form-data", headers={"HX-Request": "true"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "RIB déjà joint : <strong>rib.pdf</strong>" in page
    assert "Remplacer" in page
    assert 'id="piece_jointe-erreur"' not in page
    token = _rib_token(page)

    accepted = client.post(url, data=bank_form(cabinet_id, piece_jointe=None, rib_token=token),
                           content_type="multipart/form-data")
    assert accepted.status_code == 303, accepted.get_data(as_text=True)[-1500:]
    with app.app_context():
        account = db.session.scalar(select(BankAccount).where(
            BankAccount.nom == "Compte secondaire"))
        assert account.rib_filename == "rib.pdf" and account.rib_sha256
        account_id = account.id
    rib = client.get(f"/structure/{cabinet_id}/coordonnees-bancaires/{account_id}/rib")
    assert rib.status_code == 200 and rib.data.startswith(b"%PDF")


def test_kept_rib_cannot_be_used_by_another_user_nor_forged(client, login_as, cabinet_id, app,
                                                           factory):
    login_as("interprete@demo.test")
    page = client.post(f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle",
                       data=bank_form(cabinet_id, bic=""),
                       content_type="multipart/form-data").get_data(as_text=True)
    token = _rib_token(page)
    aubert = factory.id_of(Structure, identifier="84256791900019")
    other = app.test_client()
    login(other, "expert@demo.test")
    before = _count(app, BankAccount)
    for forged in (token, token[:-2] + ("AA" if not token.endswith("AA") else "BB")):
        response = other.post(
            f"/structure/{aubert}/coordonnees-bancaires/nouvelle",
            data=bank_form(aubert, bban="30006000011234567890189", piece_jointe=None,
                           rib_token=forged),
            content_type="multipart/form-data")
        assert response.status_code == 422
        body = response.get_data(as_text=True)
        assert "Joignez le RIB" in _error_of(body, "piece_jointe")
        assert "RIB déjà joint" not in body
    assert _count(app, BankAccount) == before


def test_same_iban_twice_on_a_structure_is_refused_unless_deactivated(client, login_as,
                                                                      cabinet_id, app):
    login_as("interprete@demo.test")
    url = f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle"
    twin = bank_form(cabinet_id, bban="30006000011234567890189")  # « Compte principal »
    refused = client.post(url, data=twin, content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "Compte principal" in _error_of(refused.get_data(as_text=True), "bban")
    with app.app_context():
        principal = db.session.scalar(select(BankAccount.id).where(
            BankAccount.structure_id == cabinet_id, BankAccount.nom == "Compte principal"))
    assert client.post(f"/structure/{cabinet_id}/coordonnees-bancaires/{principal}/desactiver"
                       ).status_code == 303
    accepted = client.post(url, data=bank_form(cabinet_id, bban="30006000011234567890189"),
                           content_type="multipart/form-data")
    assert accepted.status_code == 303


def test_bank_account_for_another_structure_is_refused(client, login_as, cabinet_id, factory, app):
    aubert = factory.id_of(Structure, identifier="84256791900019")
    login_as("interprete@demo.test")
    response = client.post(f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle",
                           data=bank_form(aubert), content_type="multipart/form-data")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(BankAccount.id)).where(
            BankAccount.structure_id == aubert)) == 1


def test_unused_bank_account_is_deleted(client, login_as, cabinet_id, app):
    login_as("interprete@demo.test")
    client.post(f"/structure/{cabinet_id}/coordonnees-bancaires/nouvelle",
                data=bank_form(cabinet_id), content_type="multipart/form-data")
    with app.app_context():
        account_id = db.session.scalar(select(BankAccount.id).where(
            BankAccount.nom == "Compte secondaire"))
    assert client.post(f"/structure/{cabinet_id}/coordonnees-bancaires/{account_id}/supprimer"
                       ).status_code == 303
    with app.app_context():
        assert db.session.get(BankAccount, account_id) is None


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# ------------------------------------------------------------------ documents

def test_structure_documents_upload_list_download_delete(client, login_as, cabinet_id, app):
    login_as("interprete@demo.test")
    page = client.get(f"/structure/{cabinet_id}/documents").get_data(as_text=True)
    assert "Attestation de vigilance URSSAF" in page  # demo data
    response = client.post(f"/structure/{cabinet_id}/documents", data={
        "designation": "Accusé droit d'option 2025", "type_code": "DROIT_OPTION",
        "fichier": (io.BytesIO(rib_pdf("x", "y", "z")), "accuse.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        document = db.session.scalar(select(Attachment).where(
            Attachment.designation == "Accusé droit d'option 2025"))
        assert document.structure_id == cabinet_id and document.memoire_id is None
        document_id = document.id
    download = client.get(f"/structure/{cabinet_id}/documents/{document_id}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    bad = client.post(f"/structure/{cabinet_id}/documents", data={
        "designation": "Archive", "type_code": "AUTRE",
        "fichier": (io.BytesIO(b"PK\x03\x04zip"), "archive.pdf")},
        content_type="multipart/form-data")
    assert bad.status_code == 422 and "Formats acceptés" in bad.get_data(as_text=True)
    assert client.post(f"/structure/{cabinet_id}/documents/{document_id}/supprimer"
                       ).status_code == 303
    with app.app_context():
        assert db.session.get(Attachment, document_id) is None


def test_documents_of_the_structure_are_offered_to_its_memoires(app, cabinet_id):
    from services import attachments

    with app.app_context():
        designations = [d.designation for d in attachments.library(db.session, cabinet_id)]
    assert "Attestation de vigilance URSSAF" in designations
    assert "RIB - Compte principal" in designations


def test_structure_list_and_tabs(client, login_as):
    login_as("interprete@demo.test")
    home = client.get("/").get_data(as_text=True)
    assert "Ma structure" in home and "Mes habilitations" in home
    page = client.get("/structure").get_data(as_text=True)
    assert "Cabinet Lefèvre Interprétariat" in page and "Gestionnaire" in page
