"""`flask --app app backup FICHIER`: a consistent, checked copy taken while the portal writes."""
from __future__ import annotations

import hashlib
import sqlite3
import threading

from sqlalchemy import select

from app import create_app
from extensions import db
from models import Certificate
from services import certificate


def test_backup_while_writing_gives_a_sound_copy_where_every_certificate_verifies(
        app, runner, database_uri, tmp_path):
    target = tmp_path / "sauvegardes" / "portail.db"
    if not database_uri.startswith("sqlite"):
        result = runner.invoke(args=["backup", str(target)])
        assert result.exit_code == 1 and "pg_dump" in result.output
        assert not target.exists()
        return

    stop = threading.Event()
    written = []

    def writer():
        connection = sqlite3.connect(database_uri.removeprefix("sqlite:///"), timeout=30)
        while not stop.is_set():
            data = f"pièce {len(written)}".encode()
            with connection:
                connection.execute(
                    "INSERT INTO stored_files (sha256, size, mime, data, created_at) "
                    "VALUES (?, ?, 'application/pdf', ?, CURRENT_TIMESTAMP)",
                    (hashlib.sha256(data).hexdigest(), len(data), data))
            written.append(data)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            stop.wait(0.01)
        result = runner.invoke(args=["backup", str(target)])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert "Sauvegarde vérifiée (integrity_check : ok)" in result.output

    restored = create_app({"TESTING": True, "SECRET_KEY": "x",
                           "SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}"})
    with restored.app_context():
        certificates = db.session.scalars(select(Certificate)).all()
        assert certificates
        for filed in certificates:
            assert certificate.verify(db.session, filed.numero_mj, filed.empreinte).intact
        db.engine.dispose()

    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code == 1 and "existe déjà" in again.output
