"""Content-addressed file store, in the database: transactional with the mémoire and seen by
every app server. The caller's transaction decides whether the bytes are kept."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, exists
from sqlalchemy.orm import Session

from extensions import db
from models import StoredFile
from models.types import utcnow


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(session: Session, data: bytes, mime: str) -> StoredFile:
    digest = sha256_hex(data)
    existing = session.get(StoredFile, digest)
    if existing is not None:
        return existing
    stored = StoredFile(sha256=digest, size=len(data), mime=mime, data=data)
    session.add(stored)
    return stored


def verify(stored: StoredFile) -> bool:
    """The bytes still hash to their name (evidence integrity)."""
    return sha256_hex(stored.data) == stored.sha256


def purge_orphans(session: Session, older_than: timedelta = timedelta(days=1),
                  now: datetime | None = None) -> int:
    """Delete the files nothing refers to any more (an abandoned form's kept RIB, a deleted
    draft's attachment), once they are older than `older_than`. Returns how many went."""
    cutoff = (now or utcnow()) - older_than
    unused = [~exists().where(column == StoredFile.sha256)
              for table in db.metadata.tables.values()
              for foreign_key in table.foreign_keys
              if foreign_key.column is StoredFile.__table__.c.sha256
              for column in [foreign_key.parent]]
    result = session.execute(delete(StoredFile).where(StoredFile.created_at < cutoff, *unused)
                             .execution_options(synchronize_session=False))
    return result.rowcount
