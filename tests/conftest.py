"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL with TEST_DATABASE_URL),
an app, a client that sends CSRF tokens like a browser, a login helper and data factories.

The schema is built once per run by the real Alembic migrations, with the reference data and
the demo data (the fixture accounts of SECURITY.md: interprete = x_edit, consultation = x_read,
expert = y_edit, greffe = j1), then copied for every test.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from app import create_app
from extensions import db
from services import accounts
from services.demo import DEMO_PASSWORD

SECRET = "test-secret-key"
FAST_HASH = "pbkdf2:sha256:1000"  # scrypt costs ~0.1 s per hash; production keeps scrypt
PG_URL = os.environ.get("TEST_DATABASE_URL")
if PG_URL and PG_URL.startswith(("postgres://", "postgresql://")):
    PG_URL = "postgresql+psycopg://" + PG_URL.split("://", 1)[1]  # psycopg 3


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashes():
    previous = accounts.HASH_METHOD
    accounts.HASH_METHOD = FAST_HASH
    yield
    accounts.HASH_METHOD = previous


def _build_template(uri: str, instance: Path) -> None:
    from flask_migrate import upgrade

    from services.demo import create_demo_data
    from services.reference_data import load_reference_data

    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        load_reference_data(db.session)
        create_demo_data(db.session)
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, fast_password_hashes):
    if PG_URL:
        admin_url = make_url(PG_URL).set(database="postgres")
        name = f"portail_tpl_{uuid.uuid4().hex[:8]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        _build_template(str(make_url(PG_URL).set(database=name)), tmp_path_factory.mktemp("tpl"))
        yield ("postgresql", admin, name)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        folder = tmp_path_factory.mktemp("template")
        path = folder / "template.sqlite"
        _build_template(f"sqlite:///{path}", folder)
        yield ("sqlite", None, path)


@pytest.fixture
def database_uri(database_template, tmp_path):
    kind, admin, source = database_template
    if kind == "sqlite":
        target = tmp_path / "portail.sqlite"
        shutil.copyfile(source, target)
        yield f"sqlite:///{target}"
        return
    name = f"portail_t_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def app_config(database_uri, tmp_path):
    """Override in a test module to change settings."""
    return {}


@pytest.fixture
def app(database_uri, tmp_path, app_config):
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "SERVER_NAME": None,
        **app_config,
    }
    app = create_app(config)
    app.test_client_class = CsrfClient
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


class CsrfClient(FlaskClient):
    """Sends the CSRF token as a browser form would, unless told `csrf=False`."""

    def open(self, *args, csrf: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"}:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        import secrets as _secrets

        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = session["csrf_token"] = _secrets.token_hex(20)
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def login(client, email: str, password: str = DEMO_PASSWORD):
    response = client.post("/connexion", data={"email": email, "password": password})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login_as(client):
    def _login(email: str, password: str = DEMO_PASSWORD):
        return login(client, email, password)

    return _login


class Factory:
    """Small builders for test data, inside the app context."""

    def __init__(self, app):
        self.app = app

    def user(self, email: str, role: str = "prestataire", password: str = DEMO_PASSWORD, **fields):
        with self.app.app_context():
            user = accounts.create_user(db.session, email, password, email.split("@")[0], role,
                                        **fields)
            db.session.commit()
            return user.id

    def structure(self, raison_sociale: str, identifier: str, **fields):
        from models import Structure

        with self.app.app_context():
            structure = Structure(identifier_type="SIRET", identifier=identifier,
                                  raison_sociale=raison_sociale, pays="FR",
                                  categorie_code=fields.pop("categorie_code", "INTERPRETE"),
                                  **fields)
            db.session.add(structure)
            db.session.commit()
            return structure.id

    def grant(self, user_id: int, structure_id: int, profile: str = "modification"):
        from models import Habilitation

        with self.app.app_context():
            db.session.add(Habilitation(user_id=user_id, structure_id=structure_id,
                                        profile=profile, status="accordee"))
            db.session.commit()

    def id_of(self, model, **criteria):
        with self.app.app_context():
            return db.session.scalar(select(model.id).filter_by(**criteria))


@pytest.fixture
def factory(app):
    return Factory(app)
