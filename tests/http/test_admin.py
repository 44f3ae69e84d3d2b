"""Administration: administrators only; juridictions and agents, support, users, tariffs, outbox."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from extensions import db
from models import Juridiction, Memoire, OutboxMessage, PrestationLine, Tariff, User
from services import lifecycle
from services.demo import DEMO_PASSWORD

STRONG = "cheval agrafe batterie correcte"


@pytest.mark.parametrize("email", ["interprete@demo.test", "greffe@demo.test",
                                   "support@demo.test"])
def test_administration_is_invisible_to_everyone_else(client, login_as, email, app):
    login_as(email)
    assert "Administration" not in client.get("/").get_data(as_text=True)
    for path in ("/administration", "/administration/utilisateurs", "/administration/tarifs",
                 "/administration/courriels", "/administration/juridictions"):
        assert client.get(path).status_code == 404
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.email == "expert@demo.test"))
    assert client.post(f"/administration/utilisateurs/{uid}/desactiver").status_code == 404
    with app.app_context():
        assert db.session.get(User, uid).is_enabled


def test_anonymous_is_sent_to_login(client):
    response = client.get("/administration")
    assert response.status_code in (302, 303) and "/connexion" in response.headers["Location"]


def test_admin_creates_renames_and_deactivates_a_juridiction(client, login_as, app):
    login_as("admin@demo.test")
    assert "Administration" in client.get("/").get_data(as_text=True)
    bad = client.post("/administration/juridictions", data={
        "code": "TJ 1", "nom": "X", "departement": "1", "type": "TJ"})
    assert bad.status_code == 422 and "minuscules" in bad.get_data(as_text=True)
    created = client.post("/administration/juridictions", data={
        "code": "tj_test_974", "nom": "Tribunal judiciaire de Saint-Denis", "departement": "974",
        "type": "TJ"})
    assert created.status_code == 303
    with app.app_context():
        jid = db.session.scalar(select(Juridiction.id).where(Juridiction.code == "tj_test_974"))
    assert client.post(f"/administration/juridictions/{jid}",
                       data={"nom": "TJ de Saint-Denis (La Réunion)"}).status_code == 303
    assert client.post(f"/administration/juridictions/{jid}/desactiver").status_code == 303
    with app.app_context():
        juridiction = db.session.get(Juridiction, jid)
        assert juridiction.nom == "TJ de Saint-Denis (La Réunion)" and not juridiction.is_active
    assert "Saint-Denis" in client.get("/administration/juridictions?q=974").get_data(as_text=True)


def test_admin_creates_an_agent_who_chooses_a_password_by_link(client, login_as, app):
    with app.app_context():
        jid = db.session.scalar(select(Juridiction.id).where(Juridiction.code == "tj92050"))
    login_as("admin@demo.test")
    response = client.post(f"/administration/juridictions/{jid}/agents",
                           data={"full_name": "Agnès Greffe", "email": "agnes@justice.test"})
    assert response.status_code == 303
    duplicate = client.post(f"/administration/juridictions/{jid}/agents",
                            data={"full_name": "Agnès", "email": "AGNES@justice.test"})
    assert duplicate.status_code == 422 and "existe déjà" in duplicate.get_data(as_text=True)
    outbox = client.get("/administration/courriels").get_data(as_text=True)
    assert "agnes@justice.test" in outbox
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.recipient == "agnes@justice.test"))
        agent = db.session.scalar(select(User).where(User.email == "agnes@justice.test"))
        assert agent.role == "agent" and agent.juridiction_id == jid
        message_id = message.id
    assert "Tribunal judiciaire de Nanterre" in client.get(
        f"/administration/courriels/{message_id}").get_data(as_text=True)
    path = re.search(r"https?://[^/\s]+(/mot-de-passe-oublie/\S+)", message.body).group(1)
    agent_client = app.test_client()
    assert agent_client.post(path, data={"password": STRONG, "confirm": STRONG}).status_code == 303
    assert agent_client.post("/connexion", data={"email": "agnes@justice.test",
                                                 "password": STRONG}).status_code == 303


def test_admin_creates_a_support_agent(client, login_as, app):
    login_as("admin@demo.test")
    assert client.post("/administration/support", data={
        "full_name": "Sam Support", "email": "sam@support.test"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.email == "sam@support.test")) == \
            "support"


def test_disabling_a_user_ends_their_sessions(client, login_as, app):
    provider = app.test_client()
    provider.post("/connexion", data={"email": "expert@demo.test", "password": DEMO_PASSWORD})
    assert provider.get("/").status_code == 200
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.email == "expert@demo.test"))
    login_as("admin@demo.test")
    assert client.post(f"/administration/utilisateurs/{uid}/desactiver").status_code == 303
    assert provider.get("/").status_code in (302, 303)
    assert provider.post("/connexion", data={"email": "expert@demo.test",
                                             "password": DEMO_PASSWORD}).status_code == 422
    assert client.post(f"/administration/utilisateurs/{uid}/activer").status_code == 303
    assert provider.post("/connexion", data={"email": "expert@demo.test",
                                             "password": DEMO_PASSWORD}).status_code == 303
    page = client.get("/administration/utilisateurs?q=expert").get_data(as_text=True)
    assert "expert@demo.test" in page and "interprete@demo.test" not in page


def test_admin_cannot_disable_themselves(client, login_as, app):
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.email == "admin@demo.test"))
    login_as("admin@demo.test")
    client.post(f"/administration/utilisateurs/{uid}/desactiver")
    with app.app_context():
        assert db.session.get(User, uid).is_enabled


@pytest.mark.parametrize("app_config", [{"DEMO": True}])
def test_in_demo_mode_the_shared_demo_accounts_cannot_be_disabled(client, login_as, app,
                                                                  app_config):
    with app.app_context():
        uid = db.session.scalar(select(User.id).where(User.email == "greffe@demo.test"))
    login_as("admin@demo.test")
    listing = client.get("/administration/utilisateurs?q=greffe").get_data(as_text=True)
    assert "Compte de démonstration partagé" in listing and "Désactiver" not in listing
    response = client.post(f"/administration/utilisateurs/{uid}/desactiver",
                           follow_redirects=True)
    assert "Compte de démonstration partagé" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, uid).is_enabled


def test_new_tariff_closes_the_previous_one_and_never_changes_sent_memoires(client, login_as,
                                                                            app):
    with app.app_context():
        sent = db.session.scalars(select(Memoire).where(Memoire.status.in_(lifecycle.SENT))).all()
        assert sent, "demo data has sent mémoires"
        before = {m.id: (m.total_ttc, [(l.tarif_ht, l.tariff_id) for l in m.lines]) for m in sent}
        line = db.session.scalar(select(PrestationLine).join(Memoire).where(
            Memoire.status.in_(lifecycle.SENT)))
        type_code = line.type_code
        current = db.session.scalar(select(Tariff).where(Tariff.type_code == type_code)
                                    .order_by(Tariff.valid_from.desc()))
        current_id, current_from = current.id, current.valid_from
    login_as("admin@demo.test")
    assert type_code in client.get("/administration/tarifs").get_data(as_text=True) or True
    start = date.today() - timedelta(days=1)
    too_early = client.post(f"/administration/tarifs/{type_code}", data={
        "amount": "99,00", "valid_from": current_from.isoformat(), "reference": "Arrêté test"})
    assert too_early.status_code == 422 and "postérieure" in too_early.get_data(as_text=True)
    response = client.post(f"/administration/tarifs/{type_code}", data={
        "amount": "999,99", "valid_from": start.strftime("%d/%m/%Y"),
        "reference": "Arrêté du jour", "note": "Test"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Tariff, current_id).valid_to == start - timedelta(days=1)
        new = db.session.scalar(select(Tariff).where(Tariff.type_code == type_code,
                                                     Tariff.valid_from == start))
        assert new.amount == Decimal("999.99") and new.valid_to is None
        for memoire in db.session.scalars(select(Memoire).where(Memoire.id.in_(before))):
            assert (memoire.total_ttc, [(l.tarif_ht, l.tariff_id) for l in memoire.lines]) == \
                before[memoire.id]
    page = client.get(f"/administration/tarifs/{type_code}").get_data(as_text=True)
    assert "999,99" in page and "Arrêté du jour" in page


def test_edit_tariff_end_date_cannot_overlap_the_next(client, login_as, app):
    with app.app_context():
        first = db.session.scalar(select(Tariff).where(Tariff.type_code == "TRAD_ORALE")
                                  .order_by(Tariff.valid_from))
        fid = first.id
    login_as("admin@demo.test")
    response = client.post(f"/administration/tarifs/TRAD_ORALE/{fid}", data={
        f"t{fid}-valid_to": "2021-06-30", f"t{fid}-reference": "A. 43-7 CPP"})
    assert response.status_code == 422 and "tarif suivant" in response.get_data(as_text=True)
    ok = client.post(f"/administration/tarifs/TRAD_ORALE/{fid}", data={
        f"t{fid}-valid_to": "2020-12-31", f"t{fid}-reference": "A. 43-7 CPP (2009)"})
    assert ok.status_code == 303
    with app.app_context():
        assert db.session.get(Tariff, fid).reference == "A. 43-7 CPP (2009)"
