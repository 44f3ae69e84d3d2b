"""A sent mémoire never changes: the services refuse, the ORM is refused by the database, and
raw SQL is refused by the triggers of migration 0002 (SQLite and PostgreSQL)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import Attachment, Certificate, Memoire, Transition
from services import attachments, lifecycle, memoires
from tests.envoi_helpers import make_draft, pdf_bytes, user


def _sent_memoire() -> Memoire:
    """A demo mémoire sent with a réquisition attached to its line."""
    return db.session.scalar(
        select(Memoire).join(Attachment, Attachment.memoire_id == Memoire.id)
        .where(Memoire.numero_mj.is_not(None), Attachment.type_code == "REQUISITION")
    )


def _refused(sql: str, **params) -> None:
    with db.engine.connect() as connection:
        with pytest.raises(IntegrityError) as refused:
            connection.execute(text(sql), params)
        connection.rollback()
    assert "interdite" in str(refused.value)


def _accepted(sql: str, **params) -> int:
    with db.engine.connect() as connection:
        count = connection.execute(text(sql), params).rowcount
        connection.commit()
    return count


RAW_WRITES = [
    "UPDATE memoires SET numero_facture = 'FAUX' WHERE id = :m",
    "UPDATE memoires SET total_ttc = 1 WHERE id = :m",
    "UPDATE memoires SET numero_mj = 'MJ9999999999' WHERE id = :m",
    "UPDATE memoires SET bank_account_id = NULL WHERE id = :m",
    "UPDATE memoires SET sent_at = NULL WHERE id = :m",
    "DELETE FROM memoires WHERE id = :m",
    "UPDATE prestation_lines SET tarif_ht = 1 WHERE memoire_id = :m",
    "DELETE FROM prestation_lines WHERE memoire_id = :m",
    "INSERT INTO prestation_lines (memoire_id, position, numero_affaire, date_requisition, "
    "autorite_code, type_code, date_prestation, quantite, tarif_ht, taux_tva, frais_divers, "
    "debours, remise) SELECT :m, 9, 'X', date_requisition, autorite_code, type_code, "
    "date_prestation, 100, 100, 0, 0, 0, 0 FROM prestation_lines WHERE memoire_id = :m",
    "INSERT INTO frais_divers_items (line_id, date, nature, quantite, montant) "
    "SELECT id, date_prestation, 'repas', 100, 1000 FROM prestation_lines WHERE memoire_id = :m",
    "UPDATE attachments SET designation = 'Autre' WHERE memoire_id = :m",
    "UPDATE attachments SET memoire_id = NULL WHERE memoire_id = :m",
    "DELETE FROM attachments WHERE memoire_id = :m",
    "INSERT INTO attachments (memoire_id, sha256, filename, designation, type_code, extension, "
    "uploaded_at) SELECT :m, sha256, 'x.pdf', 'Ajout', 'AUTRE', 'pdf', uploaded_at "
    "FROM attachments WHERE memoire_id = :m",
    "UPDATE certificates SET empreinte = 'faux' WHERE memoire_id = :m",
    "DELETE FROM certificates WHERE memoire_id = :m",
    "UPDATE transitions SET reason = 'réécrit' WHERE memoire_id = :m",
    "DELETE FROM transitions WHERE memoire_id = :m",
    "UPDATE stored_files SET size = 1 WHERE sha256 IN "
    "(SELECT sha256 FROM attachments WHERE memoire_id = :m)",
    "DELETE FROM stored_files WHERE sha256 IN "
    "(SELECT sha256 FROM attachments WHERE memoire_id = :m)",
]


@pytest.mark.parametrize("sql", RAW_WRITES)
def test_raw_sql_cannot_change_a_sent_memoire(app, sql):
    with app.app_context():
        memoire = _sent_memoire()
        _refused(sql, m=memoire.id)


def test_frais_divers_of_a_sent_memoire_are_frozen(app):
    with app.app_context():
        memoire = make_draft(db.session)
        owner = user(db.session, "interprete@demo.test")
        line = memoires.add_line(db.session, owner, memoire, memoires.LineData(
            numero_affaire="F1", date_requisition=date.today() - timedelta(days=5),
            autorite_code="OPJ", type_code="TRAD_ORALE",
            date_prestation=date.today() - timedelta(days=4), quantite=Decimal("1"),
            tarif_ht=Decimal("30"), taux_tva=Decimal("20"),
            frais=[memoires.FraisData(date.today() - timedelta(days=4), "transport",
                                      Decimal("1"), Decimal("12.40"))]))
        from services import submission

        submission.submit(db.session, memoire, owner, None, submission.HONOUR_VERSION)
        db.session.commit()
        _refused("UPDATE frais_divers_items SET montant = 1 WHERE line_id = :l", l=line.id)
        _refused("DELETE FROM frais_divers_items WHERE line_id = :l", l=line.id)


def test_later_lifecycle_steps_may_still_change_the_status(app):
    with app.app_context():
        memoire_id = _sent_memoire().id
        db.session.rollback()
        assert _accepted(
            "UPDATE memoires SET status = 'MIS_A_DISPOSITION', version = version + 1, "
            "status_changed_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP WHERE id = :m",
            m=memoire_id) == 1
        assert _accepted(
            "INSERT INTO transitions (memoire_id, from_status, to_status, at) "
            "VALUES (:m, 'ENVOYE', 'MIS_A_DISPOSITION', CURRENT_TIMESTAMP)", m=memoire_id) == 1
        assert db.session.get(Memoire, memoire_id).status == lifecycle.MIS_A_DISPOSITION


def test_drafts_stay_free_to_change_and_to_delete(app):
    with app.app_context():
        memoire = make_draft(db.session)
        owner = user(db.session, "interprete@demo.test")
        attachments.add_attachment(db.session, owner, memoire, None, "a.pdf", pdf_bytes("a"),
                                   "A", "AUTRE", 10_000_000, 40)
        db.session.commit()
        memoire_id = memoire.id
        assert _accepted("UPDATE prestation_lines SET tarif_ht = 200 WHERE memoire_id = :m",
                         m=memoire_id) == 1
        assert _accepted("UPDATE memoires SET numero_facture = 'F-1' WHERE id = :m",
                         m=memoire_id) == 1
        db.session.rollback()
        memoires.delete_draft(db.session, owner, db.session.get(Memoire, memoire_id))
        db.session.commit()
        assert db.session.get(Memoire, memoire_id) is None


def test_orm_change_of_a_sent_memoire_is_refused_by_the_database(app):
    with app.app_context():
        memoire = _sent_memoire()
        memoire.lines[0].tarif_ht = Decimal("9999.00")
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        memoire = _sent_memoire()
        memoire.numero_facture = "MODIFIÉ"
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        certificate = db.session.scalars(select(Certificate)).first()
        db.session.delete(certificate)
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        transition = db.session.scalars(select(Transition)).first()
        transition.reason = "réécrit"
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_services_refuse_to_change_a_sent_memoire(app):
    with app.app_context():
        memoire = _sent_memoire()
        owner = user(db.session, "interprete@demo.test")
        with pytest.raises(memoires.NotEditableError):
            memoires.update_header(db.session, owner, memoire, memoire.version,
                                   numero_facture="X")
        with pytest.raises(memoires.NotEditableError):
            memoires.delete_line(db.session, owner, memoire.lines[0])
        with pytest.raises(memoires.NotEditableError):
            memoires.delete_draft(db.session, owner, memoire)
        with pytest.raises(attachments.UploadError, match="envoyé"):
            attachments.add_attachment(db.session, owner, memoire, None, "b.pdf",
                                       pdf_bytes("b"), "B", "AUTRE", 10_000_000, 40)
        with pytest.raises(attachments.UploadError, match="envoyé"):
            attachments.delete_attachment(db.session, owner, memoire.attachments[0])
        db.session.rollback()
