"""The content-addressed file store: orphans are purged, every file in use is kept."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from extensions import db
from models import Attachment, BankAccount, StoredFile
from models.lifecycle import MessageAttachment
from models.types import utcnow
from services import storage


def _in_use() -> set[str]:
    return (set(db.session.scalars(select(Attachment.sha256)))
            | set(db.session.scalars(select(MessageAttachment.sha256)))
            | set(db.session.scalars(select(BankAccount.rib_sha256).where(
                BankAccount.rib_sha256.is_not(None)))))


def test_purge_removes_old_unused_files_and_keeps_every_file_in_use(app):
    with app.app_context():
        in_use = _in_use()
        assert in_use, "the demo data has attachments, message files and RIBs"
        orphan = storage.store(db.session, b"%PDF- formulaire abandonne", "application/pdf").sha256
        db.session.commit()
        before = set(db.session.scalars(select(StoredFile.sha256)))

        assert storage.purge_orphans(db.session, timedelta(days=1)) == 0  # too recent yet
        two_days_later = utcnow() + timedelta(days=2)
        purged = storage.purge_orphans(db.session, timedelta(days=1), now=two_days_later)
        db.session.commit()

        after = set(db.session.scalars(select(StoredFile.sha256)))
        assert orphan in before - after
        assert in_use <= after
        assert purged == len(before - after) == len(before - in_use)


def test_purge_command_reports_what_it_removed(app, runner):
    with app.app_context():
        storage.store(db.session, b"%PDF- rib jamais enregistre", "application/pdf")
        db.session.commit()
    assert "0 fichier(s)" in runner.invoke(args=["purge-files"]).output
    assert "1 fichier(s)" in runner.invoke(args=["purge-files", "--days", "0"]).output
