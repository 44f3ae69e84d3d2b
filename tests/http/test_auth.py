"""Se connecter, se déconnecter, Mon compte: sessions that really end, rate limit, no enumeration."""
import time

import pytest
from sqlalchemy import select

from extensions import db
from models import User
from services import accounts
from services.demo import DEMO_PASSWORD

PROVIDER = "interprete@demo.test"


def session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_login_then_home_shows_the_users_structures(client, login_as):
    login_as(PROVIDER)
    page = client.get("/").get_data(as_text=True)
    assert "Cabinet Lefèvre Interprétariat" in page
    assert "Frais de justice modification" in page


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    wrong = client.post("/connexion", data={"email": PROVIDER, "password": "x" * 14})
    unknown = client.post("/connexion", data={"email": "personne@demo.test", "password": "x" * 14})
    assert wrong.status_code == unknown.status_code == 422
    strip = lambda r: r.get_data(as_text=True).replace("personne@demo.test", PROVIDER)  # noqa: E731
    assert "Adresse électronique ou mot de passe incorrect." in strip(wrong)
    assert _without_tokens(strip(wrong)) == _without_tokens(strip(unknown))


def test_unknown_email_costs_one_key_derivation_like_a_wrong_password(app, monkeypatch):
    """No timing oracle (SECURITY.md #5): both answers run the same KDF exactly once."""
    checked = []
    real_check = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash",
                        lambda stored, password: checked.append(stored) or real_check(stored,
                                                                                      password))
    with app.app_context():
        assert accounts.authenticate(db.session, "personne@demo.test", "x" * 14) is None
        assert accounts.authenticate(db.session, PROVIDER, "x" * 14) is None
        real_hash = db.session.scalar(select(User.password_hash).where(User.email == PROVIDER))
    assert len(checked) == 2
    method = lambda stored: stored.split("$", 1)[0]  # noqa: E731  e.g. « scrypt:32768:8:1 »
    assert method(checked[0]) == method(checked[1]) == method(real_hash)


def _without_tokens(html: str) -> str:
    import re

    return re.sub(r'(value=|X-CSRFToken": )"[^"]*"', "", html)


def test_failed_login_is_logged_once_without_the_password(client, caplog):
    caplog.set_level("INFO", logger="portail.security")
    client.post("/connexion", data={"email": "a\nb@demo.test", "password": "secret-very-long-1"})
    lines = [r.getMessage() for r in caplog.records if "auth.fail" in r.getMessage()]
    assert len(lines) == 1
    assert "\n" not in lines[0] and "secret-very-long-1" not in lines[0]


def test_sixth_login_attempt_in_a_minute_is_refused_with_429(client):
    for _ in range(5):
        assert client.post("/connexion", data={"email": PROVIDER, "password": "x" * 14}).status_code == 422
    response = client.post("/connexion", data={"email": PROVIDER, "password": DEMO_PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_successful_logins_do_not_count_towards_the_limit(client):
    """A webinar room behind one address: everyone logs in, nobody is locked out."""
    accounts_in_room = ["interprete", "expert", "consultation", "greffe", "support", "admin",
                        "interprete", "expert"]
    for name in accounts_in_room:
        response = client.post("/connexion", data={"email": f"{name}@demo.test",
                                                   "password": DEMO_PASSWORD})
        assert response.status_code == 303, name
        client.post("/deconnexion")


def test_rate_limit_counts_per_email_across_addresses(client):
    for i in range(5):
        client.post("/connexion", data={"email": PROVIDER, "password": "x" * 14},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
    response = client.post("/connexion", data={"email": PROVIDER, "password": DEMO_PASSWORD},
                           environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert response.status_code == 429


def test_new_session_cookie_on_login(client, login_as):
    client.get("/connexion")
    before = session_cookie(client)
    login_as(PROVIDER)
    assert session_cookie(client) != before


def test_logout_ends_the_session_even_if_the_cookie_is_replayed(app, client, login_as):
    login_as(PROVIDER)
    stolen = session_cookie(client)
    response = client.post("/deconnexion")
    assert response.status_code == 303
    assert "cache" in response.headers["Clear-Site-Data"]
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/connexion")


def test_password_change_ends_other_sessions_and_keeps_this_one(app, client, login_as):
    login_as(PROVIDER)
    other = app.test_client()
    other.set_cookie("session", session_cookie(client))
    new_password = "une nouvelle phrase de passe solide"
    response = client.post("/mon-compte", data={"current": DEMO_PASSWORD, "new": new_password,
                                                "confirm": new_password})
    assert response.status_code == 303
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 303
    client.post("/deconnexion")
    assert client.post("/connexion", data={"email": PROVIDER, "password": new_password}).status_code == 303


@pytest.mark.parametrize("new, message", [
    ("court-11car", "au moins 12 caractères"),
    ("motdepasse123", "trop courant"),
])
def test_weak_new_password_is_refused_next_to_the_field(client, login_as, new, message):
    login_as(PROVIDER)
    response = client.post("/mon-compte", data={"current": DEMO_PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_wrong_current_password_is_refused(client, login_as):
    login_as(PROVIDER)
    new = "une nouvelle phrase de passe solide"
    response = client.post("/mon-compte", data={"current": "pas le bon", "new": new, "confirm": new})
    assert response.status_code == 422
    assert "Le mot de passe actuel est incorrect." in response.get_data(as_text=True)


def test_long_unicode_password_works_exactly(app, client, factory):
    password = "ééé 密码 " * 8
    factory.user("unicode@demo.test", password=password)
    assert client.post("/connexion", data={"email": "unicode@demo.test", "password": password}).status_code == 303
    client.post("/deconnexion")
    refused = client.post("/connexion", data={"email": "unicode@demo.test", "password": password + " "})
    assert refused.status_code == 422


def test_disabled_account_loses_its_session(app, client, login_as):
    login_as(PROVIDER)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == PROVIDER))
        user.is_enabled = False
        db.session.commit()
    assert client.get("/").status_code == 303


def test_inactivity_timeout_sends_pages_to_login_and_htmx_gets_hx_redirect(app, client, login_as):
    login_as(PROVIDER)
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 4 * 3600
    response = client.get("/")
    assert response.status_code == 303 and "/connexion" in response.headers["Location"]
    login_as(PROVIDER)
    with client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 4 * 3600
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/connexion")


def test_expired_session_keeps_the_form_and_offers_to_resend_it(client, login_as):
    response = client.post("/mon-compte", data={"current": "a", "new": "b", "confirm": "c"})
    assert response.status_code == 303
    login_as(PROVIDER)
    page = client.get("/reprendre").get_data(as_text=True)
    assert "Reprendre votre saisie" in page
    assert 'name="new" value="b"' in page


def test_passwords_are_stored_with_scrypt(app):
    previous = accounts.HASH_METHOD
    accounts.HASH_METHOD = "scrypt"
    try:
        with app.app_context():
            user = accounts.create_user(db.session, "kdf@demo.test", "une phrase de passe solide",
                                        "KDF", "prestataire")
            assert user.password_hash.startswith("scrypt:")
            assert "une phrase de passe solide" not in user.password_hash
    finally:
        accounts.HASH_METHOD = previous


def test_next_parameter_cannot_leave_the_site(client):
    response = client.post("/connexion?next=//evil.example/x",
                           data={"email": PROVIDER, "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/"


def test_demo_accounts_are_listed_only_in_demo_mode(app, client):
    assert "Comptes de démonstration" not in client.get("/connexion").get_data(as_text=True)
    app.config["DEMO"] = True
    page = client.get("/connexion").get_data(as_text=True)
    assert "Comptes de démonstration" in page and "greffe@demo.test" in page


@pytest.mark.parametrize("app_config", [{"DEMO": True}])
def test_in_demo_mode_a_shared_demo_account_keeps_its_password(client, login_as, app, app_config):
    login_as(PROVIDER)
    new = "cheval agrafe batterie correcte"
    response = client.post("/mon-compte", data={"current": DEMO_PASSWORD, "new": new,
                                                 "confirm": new})
    assert response.status_code == 422
    assert "Compte de démonstration partagé" in response.get_data(as_text=True)
    client.post("/deconnexion")
    assert login_as(PROVIDER).status_code == 303
