"""The demo data (services.demo) tells a coherent story: what webinars and evaluators see must
never be impossible (sent before created, numbers out of order, a mémoire nobody can move)."""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select

from extensions import db
from models import (
    Attachment, Certificate, Juridiction, Memoire, OutboxMessage, Structure, Transition, User,
)
from models.lifecycle import Message, Notification
from models.types import utcnow
from services import lifecycle, transmission


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _structure_of(email: str) -> Structure:
    return db.session.scalar(select(Structure).where(Structure.gestionnaire_id == _user(email).id))


def _transitions() -> dict[int, list[Transition]]:
    rows = defaultdict(list)
    for transition in db.session.scalars(select(Transition).order_by(Transition.id)):
        rows[transition.memoire_id].append(transition)
    return rows


def test_every_provider_status_is_shown(app):
    with app.app_context():
        present = set(db.session.scalars(select(Memoire.status).distinct()))
        assert set(lifecycle.STATUSES) <= present
        steps = set(db.session.scalars(select(Memoire.court_step).where(
            Memoire.status == lifecycle.MIS_A_DISPOSITION).distinct()))
        assert {lifecycle.A_CONTROLER, lifecycle.CERTIFIE} <= steps


def test_exactly_one_envoye_just_sent_by_the_expert_and_the_transmission_moves_it(app):
    with app.app_context():
        sent = db.session.scalars(select(Memoire).where(
            Memoire.status == lifecycle.ENVOYE)).all()
        assert len(sent) == 1
        memoire = sent[0]
        assert memoire.structure_id == _structure_of("expert@demo.test").id
        assert utcnow() - timedelta(hours=2) < memoire.sent_at <= utcnow()
        memoire_id = memoire.id

        assert transmission.transmit_pending(db.session) == 1
        db.session.expire_all()
        moved = db.session.get(Memoire, memoire_id)
        assert (moved.status, moved.court_step) == (lifecycle.MIS_A_DISPOSITION,
                                                    lifecycle.A_CONTROLER)
        assert lifecycle.verify_chain(moved)
        assert db.session.scalar(select(func.count(Memoire.id)).where(
            Memoire.status == lifecycle.ENVOYE)) == 0


def test_transmission_cli_moves_the_envoye_memoire(app, runner):
    result = runner.invoke(args=["juridiction", "transmettre"])
    assert result.exit_code == 0 and result.output.startswith("1 mémoire(s)")


def test_dates_are_chronological_and_never_in_the_future(app):
    with app.app_context():
        now = utcnow()
        transitions = _transitions()
        memoires = db.session.scalars(select(Memoire)).all()
        assert len(memoires) > 150
        for memoire in memoires:
            times = [t.at for t in transitions[memoire.id]]
            assert times, memoire.numero
            chain = [memoire.created_at, *times, now]
            assert chain == sorted(chain), (memoire.numero, chain)
            assert memoire.created_at <= memoire.updated_at <= now, memoire.numero
            assert memoire.status_changed_at == times[-1], memoire.numero
            first = transitions[memoire.id][0]
            assert (first.from_status, first.to_status) == (None, lifecycle.BROUILLON)
            sending = [t for t in transitions[memoire.id] if t.to_status == lifecycle.ENVOYE]
            if memoire.numero_mj:
                assert len(sending) == 1 and memoire.sent_at == sending[0].at, memoire.numero
            else:
                assert not sending and memoire.sent_at is None
            if memoire.paid_on is not None:
                assert memoire.sent_at.date() <= memoire.paid_on <= now.date()
                paid = lifecycle.last_transition(memoire, lifecycle.MIS_EN_PAIEMENT)
                assert paid.at.date() == memoire.paid_on
            if memoire.duplicated_from_id is None:
                assert memoire.numero_tmp.startswith(f"TMP{memoire.created_at.year}")


def test_messages_and_notifications_happen_during_the_life_of_their_memoire(app):
    with app.app_context():
        now = utcnow()
        created = dict(db.session.execute(select(Memoire.id, Memoire.created_at)).all())
        for memoire_id, at in db.session.execute(select(Message.memoire_id, Message.created_at)):
            assert created[memoire_id] <= at <= now
        for memoire_id, at in db.session.execute(
                select(Notification.memoire_id, Notification.created_at)
                .where(Notification.memoire_id.is_not(None))):
            assert created[memoire_id] <= at <= now
        assert db.session.scalar(select(func.max(OutboxMessage.created_at))) <= now


def test_certificates_and_hash_chains_match_the_sending(app):
    with app.app_context():
        sent = dict(db.session.execute(select(Memoire.id, Memoire.sent_at)
                                       .where(Memoire.numero_mj.is_not(None))).all())
        certificates = dict(db.session.execute(select(Certificate.memoire_id,
                                                      Certificate.created_at)).all())
        assert certificates == sent
        for memoire in db.session.scalars(select(Memoire)):
            assert lifecycle.verify_chain(memoire), memoire.numero


def test_mj_numbers_follow_the_sending_order(app):
    with app.app_context():
        rows = db.session.execute(select(Memoire.sent_at, Memoire.numero_mj)
                                  .where(Memoire.numero_mj.is_not(None))).all()
        by_sending = [numero for _, numero in sorted(rows)]
        assert by_sending == sorted(by_sending)
        assert by_sending[0] == "MJ0000000001"
        assert by_sending[-1] == f"MJ{len(rows):010d}"  # gapless


def test_greffe_sees_both_demo_providers(app):
    with app.app_context():
        greffe = _user("greffe@demo.test")
        structures = set(db.session.scalars(select(Memoire.structure_id).where(
            Memoire.juridiction_id == greffe.juridiction_id,
            Memoire.status == lifecycle.MIS_A_DISPOSITION).distinct()))
        assert {_structure_of("interprete@demo.test").id,
                _structure_of("expert@demo.test").id} <= structures


def test_expert_has_memoires_in_several_statuses(app):
    with app.app_context():
        expert = _structure_of("expert@demo.test")
        statuses = db.session.scalars(select(Memoire.status).where(
            Memoire.structure_id == expert.id)).all()
        assert len(statuses) >= 6
        assert statuses.count(lifecycle.MIS_EN_PAIEMENT) >= 2  # a Liste fiscale
        assert {lifecycle.BROUILLON, lifecycle.ENVOYE, lifecycle.MIS_A_DISPOSITION,
                lifecycle.REFUSE} <= set(statuses)
        lyon = db.session.scalar(select(Juridiction.id).where(Juridiction.code == "tj69123"))
        assert lyon in set(db.session.scalars(select(Memoire.juridiction_id).where(
            Memoire.structure_id == expert.id)))


def test_structure_library_has_no_duplicates_and_the_regime_is_coherent(app):
    with app.app_context():
        documents = db.session.execute(select(Attachment.structure_id, Attachment.sha256)
                                       .where(Attachment.structure_id.is_not(None))).all()
        assert documents and len(documents) == len(set(documents))
        cabinet = _structure_of("interprete@demo.test")
        kinds = db.session.scalars(select(Attachment.type_code).where(
            Attachment.structure_id == cabinet.id)).all()
        assert kinds.count("ATTESTATION_URSSAF") == 1
        # An URSSAF attestation goes with « Indépendants » or a COSP with droit d'option.
        assert cabinet.regime == "INDEPENDANT" or (cabinet.regime == "COSP"
                                                   and cabinet.droit_option)


def test_certified_and_paid_memoires_have_an_engagement_juridique(app):
    with app.app_context():
        certified = db.session.scalars(select(Memoire).where(
            (Memoire.status == lifecycle.MIS_EN_PAIEMENT)
            | (Memoire.court_step.in_([lifecycle.CERTIFIE, lifecycle.TAXE])))).all()
        assert certified and all(m.engagement_juridique for m in certified)
        assert db.session.scalar(select(func.count(Memoire.id)).where(
            Memoire.engagement_juridique.is_not(None),
            Memoire.status.in_([lifecycle.BROUILLON, lifecycle.ENVOYE, lifecycle.REFUSE,
                                lifecycle.ABANDONNE, lifecycle.DUPLIQUE_POST_REFUS]))) == 0


def test_duplicate_after_refusal_is_sent_after_it_was_created(app):
    with app.app_context():
        copies = db.session.scalars(select(Memoire).where(
            Memoire.duplicated_from_id.is_not(None))).all()
        assert copies
        for copy in copies:
            source = db.session.get(Memoire, copy.duplicated_from_id)
            duplicated = lifecycle.last_transition(source, lifecycle.DUPLIQUE_POST_REFUS)
            assert copy.numero_tmp in duplicated.reason
            assert duplicated.at <= copy.created_at
            assert copy.sent_at is None or copy.sent_at > duplicated.at


def test_outbox_holds_the_mails_of_the_real_flows(app):
    with app.app_context():
        subjects = set(db.session.execute(select(OutboxMessage.recipient,
                                                 OutboxMessage.subject)).all())
        assert ("nouveau@demo.test", "Confirmez votre adresse — Portail FJ") in subjects
        assert ("interprete@demo.test", "Demande d'habilitation — Portail FJ") in subjects
        nouveau = _user("nouveau@demo.test")
        assert nouveau.email_confirmed
