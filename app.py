"""Portail FJ: application factory. Run with `flask --app app run`."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

import config
from extensions import compress, csrf, db, htmx, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    _load_config(app, test_config)
    _init_database(app)
    _init_extensions(app)

    from blueprints import register_blueprints, security, static_files

    static_files.init_app(app)
    security.init_app(app)
    register_blueprints(app)
    _register_cli(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _load_config(app: Flask, test_config: dict | None) -> None:
    """Defaults, then instance/config.py, then the environment, then the test's overrides."""
    app.config.from_object(config.Defaults)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    for env_name, (key, convert) in config.ENVIRONMENT.items():
        if os.environ.get(env_name):
            app.config[key] = convert(os.environ[env_name])
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(
            Path(app.instance_path) / "portail.db"
        )
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://") or uri.startswith("postgresql://"):
        # psycopg 3 is the driver; accept the usual postgres:// spelling.
        app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + uri.split("://", 1)[1]
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    secure = app.config["SECURE_COOKIES"]
    app.config["SESSION_COOKIE_SECURE"] = secure
    # The __Host- prefix needs Secure, so it is used only when served over HTTPS.
    app.config["SESSION_COOKIE_NAME"] = "__Host-session" if secure else "session"
    app.config["PREFERRED_URL_SCHEME"] = "https" if secure else "http"


def _instance_secret(path: Path) -> str:
    """A random secret generated once into instance/, never in the code."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


def _init_database(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {}).update({"timeout": 30})


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of the driver.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a certificate that was issued never disappears after a power loss.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """On SQLite, requests that may write take the write lock up front (BEGIN IMMEDIATE):

    a deferred transaction that reads then writes can fail with SQLITE_BUSY despite the
    busy timeout; an immediate one waits its turn instead.
    """
    if conn.dialect.name != "sqlite":
        return
    from flask import has_request_context, request

    writing = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _init_extensions(app: Flask) -> None:
    import models  # noqa: F401  (every table known to Alembic)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    htmx.init_app(app)
    from blueprints.static_files import CompressedCache, compress_cache_key

    app.config.setdefault("COMPRESS_CACHE_BACKEND", CompressedCache)
    app.config.setdefault("COMPRESS_CACHE_KEY", compress_cache_key)
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)


def _register_cli(app: Flask) -> None:
    from flask_migrate import upgrade

    @app.cli.command("reference")
    def reference_command():
        """Charge ou met à jour les données de référence (data/)."""
        from services.reference_data import load_reference_data

        counts = load_reference_data(db.session)
        db.session.commit()
        for table, count in counts.items():
            click.echo(f"{table}: {count}")

    @app.cli.command("demo")
    @click.option("--if-empty", is_flag=True, help="Ne fait rien si des comptes existent déjà.")
    def demo_command(if_empty: bool):
        """Crée les données de démonstration (comptes, structures, mémoires…)."""
        from services.demo import create_demo_data, database_is_empty
        from services.reference_data import load_reference_data

        if if_empty and not database_is_empty(db.session):
            click.echo("Base déjà remplie : données de démonstration inchangées.")
            return
        load_reference_data(db.session)
        summary = create_demo_data(db.session)
        db.session.commit()
        click.echo(summary)

    @app.cli.command("backup")
    @click.argument("fichier", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(fichier: Path):
        """Copie cohérente de la base SQLite (pièces jointes comprises), vérifiée."""
        from services.backup import BackupError, backup_sqlite

        try:
            done = backup_sqlite(db.engine, fichier)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Sauvegarde vérifiée (integrity_check : {done.integrity}) : "
                   f"{done.path} — {done.size / 1_000_000:.1f} Mo")

    @app.cli.command("purge-files")
    @click.option("--days", default=1, show_default=True, help="Âge minimal des fichiers supprimés.")
    def purge_files_command(days: int):
        """Supprime les fichiers déposés que plus rien n'utilise (à lancer chaque nuit)."""
        from datetime import timedelta

        from services.storage import purge_orphans

        count = purge_orphans(db.session, timedelta(days=days))
        db.session.commit()
        click.echo(f"{count} fichier(s) inutilisé(s) supprimé(s).")

    @app.cli.command("setup")
    def setup_command():
        """Applique les migrations puis charge les données de référence."""
        from services.reference_data import load_reference_data

        upgrade(directory=str(ROOT / "migrations"))
        load_reference_data(db.session)
        db.session.commit()
        click.echo("Base de données à jour.")
