"""The documented commands, and the migrations matching the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from app import create_app
from extensions import db
from models import Juridiction, User


def test_migrations_create_exactly_the_models_schema(app):
    with app.app_context(), db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_setup_then_demo_on_an_empty_database(tmp_path, database_template):
    kind = database_template[0]
    if kind != "sqlite":
        return  # the PostgreSQL pass builds its template through the same commands
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'vide.sqlite'}"})
    runner = app.test_cli_runner()
    assert "Base de données à jour" in runner.invoke(args=["setup"]).output
    result = runner.invoke(args=["demo", "--if-empty"])
    assert "comptes de démonstration créés" in result.output
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "inchangées" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) >= 6
        assert db.session.scalar(select(func.count(Juridiction.id))) >= 25
        db.engine.dispose()


def test_reference_command_is_idempotent(app, runner):
    with app.app_context():
        before = db.session.scalar(select(func.count(Juridiction.id)))
    result = runner.invoke(args=["reference"])
    assert "juridictions" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Juridiction.id))) == before


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    from app import _instance_secret

    path = tmp_path / "secret_key"
    first = _instance_secret(path)
    assert len(first) == 64 and _instance_secret(path) == first
    assert oct(path.stat().st_mode)[-3:] == "600"
