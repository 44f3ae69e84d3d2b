"""Headers, CSRF, error pages and caching on every kind of response (SECURITY.md)."""
import pytest
from flask import abort

PROVIDER = "interprete@demo.test"


def assert_security_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/connexion", "/page-qui-n-existe-pas"])
def test_anonymous_pages_carry_security_headers(client, path):
    assert_security_headers(client.get(path))


def test_authenticated_pages_are_not_stored_and_vary_on_htmx(client, login_as):
    login_as(PROVIDER)
    response = client.get("/")
    assert_security_headers(response)
    assert response.headers["Cache-Control"] == "no-store"
    assert "HX-Request" in response.headers["Vary"]


def test_session_cookie_flags(client, login_as):
    response = login_as(PROVIDER)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Domain" not in cookie


@pytest.fixture
def https_app(app_config):
    return app_config


@pytest.mark.parametrize("app_config", [{"SECURE_COOKIES": True}])
def test_over_https_the_cookie_is_secure_and_host_prefixed(client, app_config):
    response = client.post("/connexion", base_url="https://localhost",
                           data={"email": PROVIDER, "password": "demo-frais-de-justice"},
                           headers={"Referer": "https://localhost/connexion"})
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_post_without_csrf_token_is_refused_with_a_french_page_keeping_the_fields(client, login_as):
    login_as(PROVIDER)
    response = client.post("/mon-compte", data={"current": "abc", "new": "garde-moi"}, csrf=False)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Vos données sont conservées" in page
    assert 'name="new" value="garde-moi"' in page
    assert "Renvoyer le formulaire" in page


def test_htmx_post_without_csrf_gets_a_toast_and_a_fresh_token(client, login_as):
    login_as(PROVIDER)
    response = client.post("/mon-compte", data={}, headers={"HX-Request": "true"}, csrf=False)
    assert response.status_code == 400
    assert response.headers["HX-Reswap"] == "none"
    assert "toast" in response.headers["HX-Trigger"] and "csrf-token" in response.headers["HX-Trigger"]


def test_cross_site_post_is_refused(client):
    response = client.post("/connexion", data={}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_french_404_page_and_htmx_toast(client, login_as):
    login_as(PROVIDER)
    page = client.get("/rien-ici")
    assert page.status_code == 404 and "Page introuvable" in page.get_data(as_text=True)
    fragment = client.get("/rien-ici", headers={"HX-Request": "true"})
    assert fragment.status_code == 404
    assert fragment.headers["HX-Reswap"] == "none"
    assert "Page introuvable" not in fragment.get_data(as_text=True)
    assert "toast" in fragment.headers["HX-Trigger"]


def test_unexpected_error_shows_a_reference_and_no_internals(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("sqlalchemy secret /work/main/app.py")

    response = client.get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "référence" in body
    assert "Traceback" not in body and "sqlalchemy" not in body and "/work/" not in body
    htmx = client.get("/boom", headers={"HX-Request": "true"})
    import json

    assert htmx.status_code == 500
    assert "référence" in json.loads(htmx.headers["HX-Trigger"])["toast"]["message"]


@pytest.mark.parametrize("code, title", [(403, "Accès refusé"), (413, "Envoi trop volumineux"),
                                         (400, "Requête invalide")])
def test_error_pages_are_french(app, client, code, title):
    app.add_url_rule(f"/erreur-{code}", f"erreur_{code}", lambda: abort(code))
    response = client.get(f"/erreur-{code}")
    assert response.status_code == code and title in response.get_data(as_text=True)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_oversized_request_is_refused_with_413(client):
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        response = client.post("/connexion", data={"email": "x" * 600_000},
                               content_type=content_type)
        assert response.status_code == 413
    too_many_parts = {f"f{i}": "x" for i in range(1001)}
    response = client.post("/connexion", data=too_many_parts, content_type="multipart/form-data")
    assert response.status_code == 413
    import gc

    gc.collect()  # Werkzeug's spooled file of the refused body is closed here, not in a later test


def test_static_files_are_versioned_cached_and_compressed(client):
    page = client.get("/connexion").get_data(as_text=True)
    import re

    url = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', page).group(1)
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    unversioned = client.get("/static/app.css")
    assert "no-cache" in unversioned.headers["Cache-Control"]
    assert client.get("/static/../app.py").status_code == 404


def test_pages_are_compressed_and_not_shared_between_urls(client, login_as):
    login = client.get("/connexion", headers={"Accept-Encoding": "gzip"})
    login_as(PROVIDER)
    home = client.get("/", headers={"Accept-Encoding": "gzip"})
    import gzip

    assert "Se connecter" in gzip.decompress(login.data).decode()
    assert "Bonjour" in gzip.decompress(home.data).decode()


def test_no_state_change_on_get(app, client, login_as):
    from sqlalchemy import func, select

    from extensions import db
    from models import Habilitation, User

    login_as(PROVIDER)
    with app.app_context():
        before = (db.session.scalar(select(func.count(User.id))),
                  db.session.scalar(select(func.count(Habilitation.id))))
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            client.get(rule.rule)
    with app.app_context():
        after = (db.session.scalar(select(func.count(User.id))),
                 db.session.scalar(select(func.count(Habilitation.id))))
    assert before == after


@pytest.mark.parametrize("app_config", [{"SECURE_COOKIES": True}])
def test_over_https_a_post_without_same_origin_referer_is_refused(client, app_config):
    """Flask-WTF's HTTPS check (SECURITY.md #21): the token alone is not enough over HTTPS."""
    data = {"email": PROVIDER, "password": "demo-frais-de-justice"}
    refused = client.post("/connexion", base_url="https://localhost", data=data)
    assert refused.status_code == 400
    elsewhere = client.post("/connexion", base_url="https://localhost", data=data,
                            headers={"Referer": "https://ailleurs.example/connexion"})
    assert elsewhere.status_code == 400
    accepted = client.post("/connexion", base_url="https://localhost", data=data,
                           headers={"Referer": "https://localhost/connexion"})
    assert accepted.status_code == 303


BEHIND_PROXY = {"TRUSTED_PROXIES": 1, "SECURE_COOKIES": True}


@pytest.mark.parametrize("app_config", [BEHIND_PROXY])
def test_behind_a_tls_proxy_https_is_known_and_the_referer_checked(client, app_config):
    """nginx terminates TLS and forwards plain HTTP: X-Forwarded-Proto makes the request secure."""
    data = {"email": PROVIDER, "password": "demo-frais-de-justice"}
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    assert client.post("/connexion", data=data, headers=forwarded).status_code == 400
    response = client.post("/connexion", data=data,
                           headers={**forwarded, "Referer": "https://localhost/connexion"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("app_config", [BEHIND_PROXY])
def test_behind_a_proxy_the_login_limit_counts_each_client_address(client, app_config):
    def attempt(address, email):
        return client.post("/connexion", data={"email": email, "password": "x" * 14}, headers={
            "X-Forwarded-Proto": "https", "X-Forwarded-For": address,
            "Referer": "https://localhost/connexion"}).status_code

    statuses = [attempt("203.0.113.7", f"personne{n}@demo.test") for n in range(6)]
    assert statuses == [422] * 5 + [429]
    # Another client behind the same proxy is not locked out by the first one.
    assert attempt("198.51.100.9", "autre@demo.test") == 422
