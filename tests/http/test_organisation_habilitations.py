"""« Mes habilitations », « Gérer mes habilitations », the gestionnaire, and the done-when story."""
from __future__ import annotations

import io
import re

from sqlalchemy import select

from extensions import db
from models import Habilitation, Memoire, OutboxMessage, Structure, User
from services.demo import DEMO_PASSWORD, rib_pdf

STRONG = "cheval agrafe batterie correcte"


def _last_link(app, to, path):
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == to)
                                  .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S+)", body).group(1)


def _pending_of(app, email):
    with app.app_context():
        return db.session.scalar(select(Habilitation.id).join(User, Habilitation.user_id == User.id)
                                 .where(User.email == email, Habilitation.status == "demandee"))


def test_mes_habilitations_lists_searches_and_exports(client, login_as, app):
    login_as("interprete@demo.test")
    page = client.get("/habilitations").get_data(as_text=True)
    for label in ("Structure", "Raison sociale", "Code service", "Libellé service", "Profils",
                  "81234567600017", "Frais de justice modification", "Exporter",
                  "Gérer mes habilitations"):
        assert label in page
    assert "Aucune habilitation" in client.get("/habilitations?q=Aubert").get_data(as_text=True)
    fragment = client.get("/habilitations?q=Lef%C3%A8vre", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="results"')
    export = client.get("/habilitations/export.csv")
    assert export.mimetype == "text/csv"
    text = export.data.decode("utf-8")
    assert text.startswith("\ufeffStructure;Raison sociale;Code service;Libellé service;Profils")
    assert "81234567600017;Cabinet Lefèvre Interprétariat;;;Frais de justice modification" in text


def test_export_neutralises_formulas(client, login_as, app, factory):
    uid = factory.user("formule@exemple.test")
    sid = factory.structure('=HYPERLINK("http://x")', "73282932000074")
    factory.grant(uid, sid, "consultation")
    login_as("formule@exemple.test")
    text = client.get("/habilitations/export.csv").data.decode("utf-8")
    assert ';"\'=HYPERLINK(""http://x"")";' in text


def test_gestionnaire_grants_refuses_and_removes(client, login_as, app):
    login_as("interprete@demo.test")
    page = client.get("/habilitations/gerer").get_data(as_text=True)
    assert "Léa Garnier" in page and "Demandes en attente" in page  # demo request
    pending = _pending_of(app, "nouveau@demo.test")
    granted = client.post(f"/habilitations/{pending}/accorder", headers={"HX-Request": "true"})
    assert granted.status_code == 200 and "toast" in granted.headers["HX-Trigger"]
    with app.app_context():
        assert db.session.get(Habilitation, pending).status == "accordee"
    again = client.post(f"/habilitations/{pending}/refuser")
    assert again.status_code == 303  # already decided: message, nothing changes
    with app.app_context():
        assert db.session.get(Habilitation, pending).status == "accordee"
    assert client.post(f"/habilitations/{pending}/retirer").status_code == 303
    with app.app_context():
        assert db.session.get(Habilitation, pending) is None


def test_gestionnaire_keeps_modification_until_handing_over(client, login_as, app):
    with app.app_context():
        own = db.session.scalar(select(Habilitation.id).join(User, Habilitation.user_id == User.id)
                                .where(User.email == "interprete@demo.test"))
    login_as("interprete@demo.test")
    client.post(f"/habilitations/{own}/retirer")
    with app.app_context():
        assert db.session.get(Habilitation, own) is not None


def test_only_the_gestionnaire_decides(client, login_as, app):
    pending = _pending_of(app, "nouveau@demo.test")
    login_as("consultation@demo.test")  # consultation on the same structure, not gestionnaire
    assert client.post(f"/habilitations/{pending}/accorder").status_code == 404
    login_as("expert@demo.test")
    assert client.post(f"/habilitations/{pending}/accorder").status_code == 404
    with app.app_context():
        assert db.session.get(Habilitation, pending).status == "demandee"


def test_removed_profile_takes_effect_at_the_next_request(app, login_as, client):
    colleague = app.test_client()
    colleague.post("/connexion", data={"email": "consultation@demo.test",
                                       "password": DEMO_PASSWORD})
    with app.app_context():
        cabinet = db.session.scalar(select(Structure).where(Structure.identifier == "81234567600017"))
        memoire_id = db.session.scalar(select(Memoire.id).where(Memoire.structure_id == cabinet.id))
        habilitation_id = db.session.scalar(
            select(Habilitation.id).join(User, Habilitation.user_id == User.id)
            .where(User.email == "consultation@demo.test"))
        cabinet_id = cabinet.id
    assert colleague.get(f"/structure/{cabinet_id}").status_code == 200
    assert colleague.get(f"/memoires/{memoire_id}").status_code == 200
    login_as("interprete@demo.test")
    assert client.post(f"/habilitations/{habilitation_id}/retirer").status_code == 303
    # same session, next request: gone
    assert colleague.get(f"/structure/{cabinet_id}").status_code == 404
    assert colleague.get(f"/memoires/{memoire_id}").status_code == 404


def test_handing_over_the_gestionnaire_role(client, login_as, app, factory):
    with app.app_context():
        cabinet_id = db.session.scalar(select(Structure.id).where(
            Structure.identifier == "81234567600017"))
    uid = factory.user("collegue@exemple.test")
    factory.grant(uid, cabinet_id, "modification")
    login_as("interprete@demo.test")
    refused = client.post(f"/structure/{cabinet_id}/gestionnaire",
                          data={f"t{cabinet_id}-user_id": "999999"})
    assert refused.status_code == 303
    done = client.post(f"/structure/{cabinet_id}/gestionnaire",
                       data={f"t{cabinet_id}-user_id": str(uid)})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Structure, cabinet_id).gestionnaire_id == uid
    pending = _pending_of(app, "nouveau@demo.test")
    assert client.post(f"/habilitations/{pending}/accorder").status_code == 404


def test_request_errors(client, login_as):
    login_as("consultation@demo.test")
    data = {"demande-identifier_type": "SIRET", "demande-identifier": "81234567600017",
            "demande-profile": "consultation"}
    already = client.post("/habilitations/gerer", data=data)
    assert already.status_code == 422 and "déjà accordé" in already.get_data(as_text=True)
    bad_service = client.post("/habilitations/gerer", data={**data, "demande-profile": "modification",
                                                           "demande-service_code": "NOPE"})
    assert bad_service.status_code == 422 and "Aucun service" in bad_service.get_data(as_text=True)
    ok = client.post("/habilitations/gerer", data={**data, "demande-profile": "modification",
                                                  "demande-service_code": "interp"})
    assert ok.status_code == 303


def test_done_when_story_through_the_ui(client, app):
    """A new provider signs up, creates a structure with a service and a bank account, a
    colleague asks for consultation, the gestionnaire grants it, the colleague reads only."""
    def sign_up_and_confirm(c, email, name):
        c.post("/inscription", data={"full_name": name, "email": email, "password": STRONG,
                                     "confirm": STRONG})
        assert c.post(_last_link(app, email, "/inscription/confirmer/")).status_code == 303

    sign_up_and_confirm(client, "gerante@exemple.test", "Gérante Nouvelle")
    created = client.post("/inscription/structure/creer", data={
        "creer-identifier_type": "SIRET", "creer-identifier": "73282932000074",
        "creer-raison_sociale": "Traductions Nouvelles", "creer-pays": "FR",
        "creer-categorie_code": "INTERPRETE", "creer-regime": "INDEPENDANT"})
    structure_path = created.headers["Location"]
    sid = int(structure_path.rsplit("/", 1)[1])
    assert client.post(f"/structure/{sid}/services",
                       data={"code": "TRAD", "libelle": "Traduction"}).status_code == 303
    account = client.post(f"/structure/{sid}/coordonnees-bancaires/nouvelle", data={
        "nom": "Compte pro", "structure_id": str(sid), "type": "IBAN", "pays": "DE",
        "bban": "370400440532013000", "cle_iban": "89", "bic": "COBADEFFXXX",
        "information": "Commerzbank", "piece_jointe": (io.BytesIO(rib_pdf("a", "b", "c")), "rib.pdf")},
        content_type="multipart/form-data")
    assert account.status_code == 303

    colleague = app.test_client()
    sign_up_and_confirm(colleague, "collegue@exemple.test", "Paul Collègue")
    assert colleague.post("/inscription/structure/rejoindre", data={
        "rejoindre-identifier_type": "SIRET", "rejoindre-identifier": "732 829 320 00074",
        "rejoindre-profile": "consultation"}).status_code == 303
    assert colleague.get(f"/structure/{sid}").status_code == 404  # not yet granted

    manage = client.get("/habilitations/gerer").get_data(as_text=True)
    assert "Paul Collègue" in manage
    pending = _pending_of(app, "collegue@exemple.test")
    assert client.post(f"/habilitations/{pending}/accorder").status_code == 303

    page = colleague.get(f"/structure/{sid}").get_data(as_text=True)
    assert "Traductions Nouvelles" in page and "Soumettre" not in page
    assert "Traduction" in colleague.get(f"/structure/{sid}/services").get_data(as_text=True)
    accounts = colleague.get(f"/structure/{sid}/coordonnees-bancaires").get_data(as_text=True)
    assert "DE89 **** **** **** **** 3000" in accounts
    assert colleague.post(f"/structure/{sid}/services",
                          data={"code": "X", "libelle": "Y"}).status_code == 403
    assert "Traductions Nouvelles" in colleague.get("/habilitations").get_data(as_text=True)
