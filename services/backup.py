"""Online backup of the SQLite database (SECURITY.md §3.5).

Attachments live in the database (services/storage.py), so one consistent copy holds every
mémoire with its evidence. Never `cp` a live WAL database: committed pages may still sit in the
`-wal` file. SQLite's backup API copies a consistent snapshot while writers go on; the copy is
then checked with `PRAGMA integrity_check` before it is reported as good.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine


class BackupError(Exception):
    """A French message for the person running the command."""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    integrity: str


def backup_sqlite(engine: Engine, target: Path) -> Backup:
    if engine.dialect.name != "sqlite":
        raise BackupError("La base est PostgreSQL : sauvegardez-la avec pg_dump "
                          "(par exemple « pg_dump -Fc portail > portail.dump »).")
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} existe déjà : choisissez un autre fichier.")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = engine.raw_connection()
    copy = sqlite3.connect(target)
    try:
        source.driver_connection.backup(copy)
        integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        copy.close()
        source.close()
    if integrity != "ok":
        raise BackupError(f"La copie {target} est endommagée : {integrity}")
    return Backup(path=target, size=target.stat().st_size, integrity=integrity)
