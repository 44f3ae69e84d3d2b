"""Créer un compte, confirmation link, first structure, « Mot de passe oublié », e-mail delivery."""
from __future__ import annotations

import hashlib
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from extensions import db
from models import EmailToken, Habilitation, OutboxMessage, Structure, User
from services.demo import DEMO_PASSWORD

STRONG = "cheval agrafe batterie correcte"


def outbox(app, to: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == to)
                                  .order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def link_in(body: str, path: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]+)", body)
    assert match, body
    return match.group(1)


def sign_up(client, email="nouvelle@exemple.test", password=STRONG, name="Anne Nouvelle"):
    return client.post("/inscription", data={"full_name": name, "email": email,
                                             "password": password, "confirm": password})


def confirm(client, app, email="nouvelle@exemple.test"):
    path = link_in(outbox(app, email)[-1].body, "/inscription/confirmer/")
    page = client.get(path)
    assert page.status_code == 200 and "Confirmer mon adresse" in page.get_data(as_text=True)
    return client.post(path), path


def test_signup_sends_a_confirmation_link_and_login_waits_for_it(client, app):
    response = sign_up(client)
    assert response.status_code == 303
    assert "Consultez votre messagerie" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nouvelle@exemple.test"))
        assert user.email_confirmed is False and user.password_hash.startswith("pbkdf2")
        token = db.session.scalar(select(EmailToken).where(EmailToken.user_id == user.id))
        assert token.expires_at - token.created_at == timedelta(hours=24)
    message = outbox(app, "nouvelle@exemple.test")[-1]
    raw = link_in(message.body, "/inscription/confirmer/").rsplit("/", 1)[1]
    assert len(raw) >= 43  # 256 bits, url-safe base64
    assert hashlib.sha256(raw.encode()).hexdigest() == token.token_sha256
    assert raw not in token.token_sha256

    refused = client.post("/connexion", data={"email": "nouvelle@exemple.test",
                                              "password": STRONG})
    assert refused.status_code == 422

    confirmed, path = confirm(client, app)
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"].endswith("/inscription/structure")
    assert "Créer une structure" in client.get("/inscription/structure").get_data(as_text=True)
    # single use
    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410
    client.post("/deconnexion")
    assert client.post("/connexion", data={"email": "nouvelle@exemple.test",
                                           "password": STRONG}).status_code == 303


def test_same_answer_whether_the_address_exists_or_not(client, app):
    known = sign_up(client, email="interprete@demo.test")
    unknown = sign_up(client, email="personne@exemple.test")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"]
    # the existing account is untouched; its owner gets a note, not a new account
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(
            User.email == "interprete@demo.test")) == 1
    assert "Un compte existe déjà" in outbox(app, "interprete@demo.test")[-1].body
    forgot_known = client.post("/mot-de-passe-oublie", data={"email": "interprete@demo.test"})
    forgot_unknown = client.post("/mot-de-passe-oublie", data={"email": "personne2@exemple.test"})
    assert forgot_known.status_code == forgot_unknown.status_code == 303
    assert outbox(app, "personne2@exemple.test") == []


def test_weak_password_is_refused_next_to_the_field(client, app):
    response = sign_up(client, password="motdepasse123")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "trop courant" in page and 'value="nouvelle@exemple.test"' in page
    assert outbox(app, "nouvelle@exemple.test") == []


def test_expired_confirmation_link_is_refused(client, app):
    sign_up(client)
    with app.app_context():
        token = db.session.scalar(select(EmailToken).order_by(EmailToken.id.desc()))
        token.expires_at = token.created_at - timedelta(seconds=1)
        db.session.commit()
    path = link_in(outbox(app, "nouvelle@exemple.test")[-1].body, "/inscription/confirmer/")
    response = client.post(path)
    assert response.status_code == 410
    assert "24 h" in response.get_data(as_text=True)


def test_new_provider_creates_a_structure_and_becomes_its_gestionnaire(client, app):
    sign_up(client)
    confirm(client, app)
    bad = client.post("/inscription/structure/creer", data={
        "creer-identifier_type": "SIRET", "creer-identifier": "81234567600018",
        "creer-raison_sociale": "Cabinet Neuf", "creer-pays": "FR"})
    assert bad.status_code == 422 and "NIC" in bad.get_data(as_text=True)
    taken = client.post("/inscription/structure/creer", data={
        "creer-identifier_type": "SIRET", "creer-identifier": "812 345 676 00017",
        "creer-raison_sociale": "Cabinet Copie", "creer-pays": "FR"})
    assert taken.status_code == 422 and "existe déjà" in taken.get_data(as_text=True)
    created = client.post("/inscription/structure/creer", data={
        "creer-identifier_type": "SIRET", "creer-identifier": "732 829 320 00074",
        "creer-raison_sociale": "Cabinet Neuf", "creer-pays": "FR",
        "creer-categorie_code": "INTERPRETE", "creer-regime": "COSP"})
    assert created.status_code == 303
    with app.app_context():
        structure = db.session.scalar(select(Structure).where(
            Structure.identifier == "73282932000074"))
        user = db.session.scalar(select(User).where(User.email == "nouvelle@exemple.test"))
        assert structure.gestionnaire_id == user.id and structure.regime == "COSP"
        habilitation = db.session.scalar(select(Habilitation).where(
            Habilitation.structure_id == structure.id))
        assert (habilitation.user_id, habilitation.profile, habilitation.status) == (
            user.id, "modification", "accordee")
    assert "Cabinet Neuf" in client.get(created.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("identifier_type, identifier, ok", [
    ("PARTICULIER", "1980193161FERDINANDHELOISE", True),
    ("PARTICULIER", "FERDINAND", False),
    ("UE_HORS_FRANCE", "DE136695976", True),
    ("UE_HORS_FRANCE", "DE136695977", False),
    ("UE_HORS_FRANCE", "FR19812345676", False),
    ("HORS_UE", "CHE-123.456.789", True),
    ("AUTRE", "***", False),
])
def test_identifier_types(client, app, identifier_type, identifier, ok):
    sign_up(client)
    confirm(client, app)
    response = client.post("/inscription/structure/creer", data={
        "creer-identifier_type": identifier_type, "creer-identifier": identifier,
        "creer-raison_sociale": "Structure test", "creer-pays": "DE"})
    assert response.status_code == (303 if ok else 422), response.get_data(as_text=True)[-800:]


def test_joining_an_existing_structure_asks_its_gestionnaire(client, app):
    sign_up(client)
    confirm(client, app)
    response = client.post("/inscription/structure/rejoindre", data={
        "rejoindre-identifier_type": "SIRET", "rejoindre-identifier": "81234567600017",
        "rejoindre-profile": "consultation"})
    assert response.status_code == 303
    assert "demande le profil « Frais de justice consultation »" in outbox(
        app, "interprete@demo.test")[-1].body
    with app.app_context():
        request = db.session.scalar(select(Habilitation).join(User, Habilitation.user_id == User.id)
                                    .where(User.email == "nouvelle@exemple.test"))
        assert request.status == "demandee"
    # nothing is visible before the gestionnaire grants it
    assert "Aucune habilitation" in client.get("/habilitations").get_data(as_text=True)
    unknown = client.post("/inscription/structure/rejoindre", data={
        "rejoindre-identifier_type": "SIRET", "rejoindre-identifier": "73282932000074",
        "rejoindre-profile": "consultation"})
    assert unknown.status_code == 422 and "Aucune structure" in unknown.get_data(as_text=True)


def test_password_reset_ends_every_session_and_confirms_the_address(client, app):
    other = app.test_client()
    other.post("/connexion", data={"email": "interprete@demo.test", "password": DEMO_PASSWORD})
    assert other.get("/").status_code == 200
    client.post("/mot-de-passe-oublie", data={"email": "INTERPRETE@demo.test"})
    path = link_in(outbox(app, "interprete@demo.test")[-1].body, "/mot-de-passe-oublie/")
    weak = client.post(path, data={"password": "motdepasse123", "confirm": "motdepasse123"})
    assert weak.status_code == 422 and "trop courant" in weak.get_data(as_text=True)
    done = client.post(path, data={"password": STRONG, "confirm": STRONG})
    assert done.status_code == 303 and done.headers["Location"].endswith("/connexion")
    assert other.get("/").status_code in (302, 303)  # the old session is over
    assert client.post(path, data={"password": STRONG, "confirm": STRONG}).status_code == 410
    assert client.post("/connexion", data={"email": "interprete@demo.test",
                                           "password": DEMO_PASSWORD}).status_code == 422
    assert client.post("/connexion", data={"email": "interprete@demo.test",
                                           "password": STRONG}).status_code == 303


def test_a_new_link_replaces_the_previous_one(client, app):
    client.post("/mot-de-passe-oublie", data={"email": "expert@demo.test"})
    client.post("/mot-de-passe-oublie", data={"email": "expert@demo.test"})
    first, second = [link_in(m.body, "/mot-de-passe-oublie/")
                     for m in outbox(app, "expert@demo.test")]
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_login_page_links_to_signup_and_forgotten_password(client):
    page = client.get("/connexion").get_data(as_text=True)
    assert 'href="/inscription"' in page and 'href="/mot-de-passe-oublie"' in page


def test_htmx_validation_error_returns_the_form_fragment(client):
    response = client.post("/inscription", headers={"HX-Request": "true"}, data={
        "full_name": "A", "email": "pas-une-adresse", "password": STRONG, "confirm": STRONG})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<form") and "Adresse électronique invalide" in body


# ------------------------------------------------------------------ SMTP

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    port = _free_port()
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


@pytest.fixture
def app_config(request):
    if "smtp_server" in request.fixturenames:
        port, _ = request.getfixturevalue("smtp_server")
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "MAIL_SENDER": "portail@exemple.test"}
    return {}


def test_with_smtp_configured_the_link_goes_through_a_real_smtp_server(smtp_server, client, app):
    _, received = smtp_server
    assert sign_up(client).status_code == 303
    assert len(received) == 1
    message = received[0]
    assert message["To"] == "nouvelle@exemple.test"
    assert message["From"] == "portail@exemple.test"
    assert "Confirmez votre adresse" in message["Subject"]
    body = message.get_payload(decode=True).decode("utf-8")
    path = link_in(body, "/inscription/confirmer/")
    assert outbox(app, "nouvelle@exemple.test") == []  # delivered, not kept in the outbox
    assert client.post(path).status_code == 303


def test_smtp_failure_keeps_the_message_in_the_outbox(client, app, app_config):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port())  # nobody listens there
    assert sign_up(client).status_code == 303
    assert "Confirmez votre adresse" in outbox(app, "nouvelle@exemple.test")[-1].subject
