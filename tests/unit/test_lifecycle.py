"""The lifecycle module: allowed moves, groups, the hash-chained audit trail and its database
triggers, concurrency between two agents, transmission, control checklist, notifications."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from extensions import db
from models import Memoire, Transition
from models.lifecycle import Message, Notification
from services import control, decisions, lifecycle, transmission
from tests.lifecycle_support import GREFFE, INTERPRETE, draft, in_state, send, user


def test_seven_statuses_and_groups():
    assert [lifecycle.label(s) for s in lifecycle.STATUSES] == [
        "Brouillon", "Envoyé", "Mis à disposition", "Refusé", "Dupliqué post refus",
        "Abandonné", "Mis en paiement"]
    assert lifecycle.EDITABLE == {"BROUILLON"}
    assert lifecycle.NEEDS_PROVIDER_ACTION == {"BROUILLON", "REFUSE"}
    assert lifecycle.FINAL == {"MIS_EN_PAIEMENT", "ABANDONNE", "DUPLIQUE_POST_REFUS"}
    assert lifecycle.SENT == set(lifecycle.STATUSES) - {"BROUILLON"}
    assert lifecycle.FISCAL == {"MIS_EN_PAIEMENT"}
    # Every status is reachable and every terminal status has no way out.
    reached = {to[0] for (_, to) in lifecycle.ALLOWED}
    assert reached == set(lifecycle.STATUSES)
    for (from_state, _) in lifecycle.ALLOWED:
        assert from_state[0] not in lifecycle.FINAL


def test_record_refuses_a_move_the_table_does_not_allow(app):
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        provider = user(INTERPRETE)
        with pytest.raises(lifecycle.TransitionError, match="impossible"):
            lifecycle.record(db.session, memoire, lifecycle.MIS_EN_PAIEMENT, user(GREFFE))
        with pytest.raises(lifecycle.TransitionError):
            lifecycle.record(db.session, memoire, lifecycle.REFUSE, provider)
        assert memoire.status == lifecycle.MIS_A_DISPOSITION


def test_history_is_hash_chained_and_tampering_shows(app):
    with app.app_context():
        memoire = in_state("MIS_EN_PAIEMENT")
        rows = memoire.transitions
        assert [t.to_status for t in rows] == [
            "BROUILLON", "ENVOYE", "MIS_A_DISPOSITION", "MIS_A_DISPOSITION", "MIS_EN_PAIEMENT"]
        assert rows[0].prev_hash is None
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
        assert all(len(t.hash) == 64 for t in rows)
        assert rows[2].actor_id is None and rows[2].actor_role == lifecycle.SYSTEM
        assert lifecycle.verify_chain(memoire)
        rows[1].reason = "changé"  # in memory only: the database refuses it (below)
        assert not lifecycle.verify_chain(memoire)
        db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE transitions SET reason = 'x' WHERE memoire_id = :id",
    "UPDATE transitions SET hash = 'x' WHERE memoire_id = :id",
    "DELETE FROM transitions WHERE memoire_id = :id",
])
def test_database_refuses_changing_the_history(app, statement):
    with app.app_context():
        memoire_id = in_state("REFUSE").id
        count = db.session.scalar(select(func.count(Transition.id))
                                  .where(Transition.memoire_id == memoire_id))
        with pytest.raises(DBAPIError, match="journal des etats"):
            db.session.execute(text(statement), {"id": memoire_id})
            db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(func.count(Transition.id))
                                 .where(Transition.memoire_id == memoire_id)) == count


def test_database_lets_the_lifecycle_columns_of_a_sent_memoire_change(app):
    """B's triggers freeze what was sent, not the processing fields added by the lifecycle."""
    with app.app_context():
        memoire_id = in_state("CERTIFIE").id
        db.session.execute(text(
            "UPDATE memoires SET court_step = 'TAXE', montant_retenu = 100, "
            "motif_montant_retenu = 'm', assigned_to_id = NULL, paid_on = :day, "
            "payment_reference = 'R', status = 'MIS_A_DISPOSITION', version = version + 1 "
            "WHERE id = :id"), {"id": memoire_id, "day": date.today()})
        db.session.commit()
        with pytest.raises(DBAPIError, match="memoire envoye"):
            db.session.execute(text("UPDATE memoires SET total_ttc = 1 WHERE id = :id"),
                               {"id": memoire_id})
        db.session.rollback()


def _two_sessions(app, memoire_id, *, keep_stale: bool):
    """Two agents' sessions that both loaded the mémoire (as two browser tabs did), their read
    transactions over — a web request never spans the user's thinking time."""
    from models import User

    with app.app_context():
        engine, agent_id = db.engine, user(GREFFE).id
    first = Session(engine)
    second = Session(engine, expire_on_commit=not keep_stale)
    loaded = []
    for session in (first, second):
        memoire = session.get(Memoire, memoire_id)
        memoire.transitions  # noqa: B018 - loaded with the page
        agent = session.get(User, agent_id)
        loaded.append((memoire, agent))
        session.commit()
    return first, second, loaded


def test_two_agents_at_once_one_wins_nothing_half_applied(app):
    with app.app_context():
        memoire_id = in_state("A_CONTROLER").id
    first, second, [(mine, agent_a), (theirs, agent_b)] = _two_sessions(app, memoire_id,
                                                                        keep_stale=False)
    seen = mine.version
    try:
        with app.app_context():
            decisions.certify(first, agent_a, mine, mine.total_ttc, None, lifecycle.CERTIFIE,
                              seen)
            first.commit()
            with pytest.raises(lifecycle.ConflictError, match="vient d'être modifié"):
                decisions.refuse(second, agent_b, theirs, "DOUBLON", None, seen)
            second.rollback()
    finally:
        first.close()
        second.close()
    with app.app_context():
        memoire = db.session.get(Memoire, memoire_id)
        assert (memoire.status, memoire.court_step) == (lifecycle.MIS_A_DISPOSITION,
                                                        lifecycle.CERTIFIE)
        assert not any(t.to_status == lifecycle.REFUSE for t in memoire.transitions)
        bodies = db.session.scalars(select(Message.body)
                                    .where(Message.memoire_id == memoire_id)).all()
        assert len(bodies) == 1 and bodies[0].startswith("Service fait certifié")
        assert lifecycle.verify_chain(memoire)


def test_two_agents_with_stale_objects_one_wins(app):
    """Even when the loser's objects are stale and no version was sent, the ORM's
    `UPDATE … WHERE version = :seen` finds no row: ConflictError, nothing written."""
    with app.app_context():
        memoire_id = in_state("A_CONTROLER").id
    first, second, [(mine, agent_a), (theirs, agent_b)] = _two_sessions(app, memoire_id,
                                                                        keep_stale=True)
    try:
        with app.app_context():
            decisions.refuse(first, agent_a, mine, "DOUBLON", None, None)
            first.commit()
            with pytest.raises(lifecycle.ConflictError):
                decisions.certify(second, agent_b, theirs, Decimal("1"), "motif",
                                  lifecycle.CERTIFIE, None)
    finally:
        first.close()
        second.close()
    with app.app_context():
        memoire = db.session.get(Memoire, memoire_id)
        assert memoire.status == lifecycle.REFUSE and memoire.montant_retenu is None
        assert [t.to_status for t in memoire.transitions].count(lifecycle.REFUSE) == 1
        assert lifecycle.verify_chain(memoire)


def test_transmission_delivers_pending_memoires_as_the_system(app):
    with app.app_context():
        memoire = send(draft(), transmit=False)
        assert memoire.status == lifecycle.ENVOYE
        assert transmission.transmit_pending(db.session) >= 1
        db.session.refresh(memoire)
        last = memoire.transitions[-1]
        assert (memoire.status, memoire.court_step) == (lifecycle.MIS_A_DISPOSITION,
                                                        lifecycle.A_CONTROLER)
        assert last.actor_id is None and last.reason == "Transmis au Tribunal judiciaire de Paris"
        assert transmission.transmit(db.session, memoire) is False  # nothing more to do
        greffe = user(GREFFE)
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == greffe.id, Notification.memoire_id == memoire.id)) == 1


def test_transmission_cli(app, runner):
    with app.app_context():
        send(draft(), transmit=False)
    result = runner.invoke(args=["juridiction", "transmettre"])
    assert result.exit_code == 0 and "mis à disposition" in result.output


def test_checklist_tariff_arithmetic_duplicate_forclusion(app):
    with app.app_context():
        memoire = in_state("A_CONTROLER", affaire="2025/DUP")
        checks = {c.code: c for c in control.checklist(db.session, memoire)}
        assert all(c.ok for c in checks.values())
        twin = in_state("A_CONTROLER", affaire="2025/DUP")
        checks = {c.code: c for c in control.checklist(db.session, twin)}
        assert checks[control.DUPLICATE].level == control.ERROR
        assert memoire.numero in checks[control.DUPLICATE].details[0]
        costly = in_state("A_CONTROLER", tarif=Decimal("45.00"))
        checks = {c.code: c for c in control.checklist(db.session, costly)}
        assert checks[control.TARIFF].level == control.WARNING
        assert not control.is_green(db.session, costly)
        # Arithmetic and forclusion on an in-memory copy (a sent mémoire never changes).
        probe = draft()
        probe.total_ttc = probe.total_ttc + Decimal("0.01")
        probe.sent_at = datetime.combine(probe.lines[0].date_prestation + timedelta(days=400),
                                         datetime.min.time())
        checks = {c.code: c for c in control.checklist(db.session, probe)}
        assert checks[control.ARITHMETIC].level == control.ERROR
        assert checks[control.FORCLUSION].level == control.ERROR
        probe.justification_forclusion = "Hospitalisation"
        checks = {c.code: c for c in control.checklist(db.session, probe)}
        assert checks[control.FORCLUSION].level == control.WARNING
        db.session.rollback()


def test_refusal_reasons_are_data(tmp_path):
    catalogue = decisions.reasons()
    assert {"PIECE_MANQUANTE", "DONNEES_ERRONEES", "DOUBLON", "FORCLOS", "AUTRE"} <= set(catalogue)
    assert all(r.libelle and r.comment_corriger for r in catalogue.values())
    custom = tmp_path / "motifs.csv"
    custom.write_text("code;libelle;comment_corriger\nX;Un motif;Faites ceci\n", encoding="utf-8")
    assert decisions.reasons(custom)["X"].comment_corriger == "Faites ceci"


def test_decisions_post_into_the_thread_and_notify_both_sides(app):
    with app.app_context():
        memoire = in_state("REFUSE")
        body = db.session.scalar(select(Message.body).where(Message.memoire_id == memoire.id))
        assert body.startswith("Mémoire refusé. Motif : Pièce justificative manquante.")
        assert "Comment corriger" in body
        provider = user(INTERPRETE)
        texts = db.session.scalars(select(Notification.text).where(
            Notification.user_id == provider.id, Notification.memoire_id == memoire.id)).all()
        assert any("a été refusé" in t for t in texts)
        greffe = user(GREFFE)
        assert not db.session.scalars(select(Notification.text).where(  # the author is not told
            Notification.user_id == greffe.id, Notification.text.contains("a été refusé"),
            Notification.memoire_id == memoire.id)).all()


def test_email_is_sent_only_when_smtp_is_configured(app, monkeypatch):
    from services import mail, notifications

    sent = []
    monkeypatch.setattr(mail, "send", lambda session, settings, to, subject, body:
                        sent.append(to) or "smtp")
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        notifications.notify_both_sides(db.session, memoire, "etat", "Test",
                                        settings={"SMTP_HOST": None})
        assert sent == []
        notifications.notify_both_sides(db.session, memoire, "etat", "Test",
                                        settings={"SMTP_HOST": "smtp.test"})
        assert INTERPRETE in sent and GREFFE in sent
        db.session.rollback()


def test_certify_validates_amount_and_motif(app):
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        greffe = user(GREFFE)
        with pytest.raises(decisions.DecisionError, match="indiquez le motif"):
            decisions.certify(db.session, greffe, memoire, Decimal("1.00"), "", "CERTIFIE", None)
        with pytest.raises(decisions.DecisionError, match="compris entre"):
            decisions.certify(db.session, greffe, memoire, Decimal("-1"), "m", "CERTIFIE", None)
        with pytest.raises(decisions.DecisionError, match="voie"):
            decisions.certify(db.session, greffe, memoire, Decimal("1"), "m", "AUTRE", None)
        decisions.certify(db.session, greffe, memoire, memoire.total_ttc, "ignoré", "TAXE", None)
        db.session.commit()
        assert memoire.court_step == lifecycle.TAXE and memoire.motif_montant_retenu is None
        assert not decisions.amount_modified(memoire)
        with pytest.raises(decisions.DecisionError, match="futur"):
            decisions.pay(db.session, greffe, memoire, date.today() + timedelta(days=1), "R",
                          None, date.today())
        with pytest.raises(decisions.DecisionError, match="référence"):
            decisions.pay(db.session, greffe, memoire, date.today(), " ", None, date.today())


def test_juridiction_names_take_their_article_in_running_text():
    from models import Juridiction

    tribunal = Juridiction(nom="Tribunal judiciaire de Paris")
    cour = Juridiction(nom="Cour d'appel d'Agen")
    assert (tribunal.du_nom, tribunal.au_nom) == ("du Tribunal judiciaire de Paris",
                                                  "au Tribunal judiciaire de Paris")
    assert (cour.du_nom, cour.au_nom) == ("de la Cour d'appel d'Agen", "à la Cour d'appel d'Agen")
