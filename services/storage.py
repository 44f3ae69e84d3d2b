"""Content-addressed file store, in the database: transactional with the mémoire and seen by
every app server. The caller's transaction decides whether the bytes are kept."""
from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from models import StoredFile


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
