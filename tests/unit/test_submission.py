"""Sending a mémoire: checks, MJ numbering (gapless, concurrent), RIB, certificate, empreinte."""
from __future__ import annotations

import json
import threading
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from extensions import db
from models import Attachment, Certificate, Counter, Memoire, Transition
from services import attachments, certificate, lifecycle, numbering, submission
from services.submission import Rule, SubmissionConflict, SubmissionError
from tests.envoi_helpers import make_draft, pdf_bytes, user

TODAY = date.today()


def _submit(memoire, email="interprete@demo.test", **kwargs):
    return submission.submit(db.session, memoire, user(db.session, email), "192.0.2.7",
                             submission.HONOUR_VERSION, **kwargs)


def _mj_counter() -> int:
    return db.session.scalar(select(Counter.value).where(Counter.name == "MJ")) or 0


# ---------------------------------------------------------------- golden vector


def test_certificate_golden_vector():
    payload = {
        "numero": "MJ0000002117", "envoye_le": "2019-07-25T09:30:00Z",
        "declaration_sur_l_honneur": "2019-07",
        "lignes": [{"numero": 1, "quantite": "1.00", "tarif_ht": "150.00", "taux_tva": "5.50",
                    "montant_ttc": "158.25"}],
        "totaux": {"montant_ttc_total": "158.25"},
        "pieces_jointes": [{"sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                            "nom_du_fichier": "réquisition.pdf"}],
    }
    canonical = certificate.canonical_bytes(payload)
    assert canonical.startswith(b'{"declaration_sur_l_honneur":"2019-07","envoye_le":')
    assert "réquisition".encode() in canonical and b" " not in canonical
    assert certificate.empreinte(canonical) == "sfdy0x+p0HGG0lPBfE67cQBXojby1dqU10oaySCYOr0="


# ---------------------------------------------------------------- sending


def test_sending_gives_mj_number_rib_certificate_and_audit_row(app):
    with app.app_context():
        memoire = make_draft(db.session)
        owner = user(db.session, "interprete@demo.test")
        attachments.add_attachment(db.session, owner, memoire, memoire.lines[0], "req.pdf",
                                   pdf_bytes("req"), "Réquisition", "REQUISITION",
                                   10_000_000, 40)
        before = _mj_counter()
        issued = _submit(memoire, now=datetime.combine(TODAY, time(3, 4, 5, 678)))
        db.session.commit()
        memoire = db.session.get(Memoire, memoire.id)
        assert memoire.numero_mj == f"MJ{before + 1:010d}" and len(memoire.numero_mj) == 12
        assert memoire.status == lifecycle.ENVOYE
        assert memoire.sent_at == datetime.combine(TODAY, time(3, 4, 5))
        assert (memoire.sent_by_id, memoire.sent_ip) == (owner.id, "192.0.2.7")
        assert memoire.honour_version == submission.HONOUR_VERSION
        assert memoire.total_ttc == Decimal("158.25")
        rib = [a for a in memoire.attachments if a.type_code == "RIB"]
        assert len(rib) == 1 and rib[0].sha256 == memoire.bank_account.rib_sha256
        last = memoire.transitions[-1]
        assert (last.from_status, last.to_status, last.actor_id) == (
            lifecycle.BROUILLON, lifecycle.ENVOYE, owner.id)
        stored = db.session.get(Certificate, memoire.id)
        assert stored.empreinte == issued.empreinte == certificate.empreinte(stored.canonical)
        assert len(stored.empreinte) == 44 and stored.empreinte.endswith("=")
        content = json.loads(stored.canonical)
        assert content["numero"] == memoire.numero_mj
        assert content["envoye_le"] == f"{TODAY.isoformat()}T03:04:05Z"
        assert content["totaux"]["montant_ttc_total"] == "158.25"
        assert content["lignes"][0]["taux_tva"] == "5.50"
        assert content["lignes"][0]["montant_ttc"] == "158.25"
        assert {p["sha256"] for p in content["pieces_jointes"]} == {a.sha256 for a in
                                                                     memoire.attachments}
        assert content["pieces_jointes"][0]["ligne"] == 1
        assert certificate.canonical_bytes(certificate.payload(memoire)) == stored.canonical
        result = certificate.verify(db.session, memoire.numero_mj.lower(), stored.empreinte)
        assert result.matches and result.amount == Decimal("158.25")
        assert result.juridiction == memoire.juridiction.label


def test_checks_list_every_problem_with_its_field(app):
    with app.app_context():
        memoire = make_draft(db.session, lines=0)
        memoire.bank_account_id = None
        problems = submission.check_before_sending(db.session, memoire, TODAY)
        fields = {p.field_id for p in problems if p.blocking}
        assert {"lines", "bank_account_id"} <= fields
        with pytest.raises(SubmissionError) as refused:
            _submit(memoire)
        assert "Ajoutez au moins une ligne de prestation." in str(refused.value)
        db.session.rollback()
        assert _mj_counter() == db.session.scalar(
            select(func.count(Certificate.memoire_id)))


def test_incoherent_dates_are_blocking(app):
    with app.app_context():
        memoire = make_draft(db.session)
        line = memoire.lines[0]
        line.date_requisition = line.date_prestation + timedelta(days=1)
        problems = submission.check_before_sending(db.session, memoire, TODAY)
        assert [p.field_id for p in problems if p.blocking] == [f"line-{line.id}"]
        assert "doit précéder" in problems[0].message
        problems = submission.check_before_sending(db.session, memoire,
                                                   line.date_prestation - timedelta(days=2))
        assert any("futur" in p.message for p in problems if p.blocking)


def test_forclusion_warning_after_eleven_months(app):
    with app.app_context():
        memoire = make_draft(db.session, date_prestation=TODAY - timedelta(days=345))
        problems = submission.check_before_sending(db.session, memoire, TODAY)
        assert len(problems) == 1 and not problems[0].blocking
        assert "plus de 11 mois" in problems[0].message
        _submit(memoire)
        assert memoire.justification_forclusion is None


def test_forclusion_past_one_year_needs_a_justification_that_travels(app):
    with app.app_context():
        memoire = make_draft(db.session, date_prestation=TODAY - timedelta(days=400))
        db.session.commit()
        problems = submission.check_before_sending(db.session, memoire, TODAY)
        assert [p.field_id for p in problems if p.blocking] == ["justification_forclusion"]
        assert "forclos" in problems[0].message
        with pytest.raises(SubmissionError):
            _submit(memoire, justification="   ")
        db.session.rollback()
        memoire = db.session.get(Memoire, memoire.id)
        _submit(memoire, justification="Réquisition reçue tardivement du greffe.")
        db.session.commit()
        stored = db.session.get(Certificate, memoire.id)
        assert memoire.justification_forclusion == "Réquisition reçue tardivement du greffe."
        assert json.loads(stored.canonical)["justification_forclusion"] == (
            "Réquisition reçue tardivement du greffe.")


def test_add_months_keeps_month_ends():
    assert submission.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert submission.add_months(date(2023, 3, 15), 12) == date(2024, 3, 15)
    assert submission.add_months(date(2023, 12, 31), 11) == date(2024, 11, 30)


def test_required_attachments_come_from_data(app, tmp_path):
    with app.app_context():
        memoire = make_draft(db.session)
        assert submission.check_before_sending(db.session, memoire, TODAY) == []
        rules = (Rule("TRAD_ORALE", "REQUISITION", True), Rule("*", "DEVIS", False))
        problems = submission.check_before_sending(db.session, memoire, TODAY, rules=rules)
        assert [(p.field_id, p.blocking) for p in problems] == [("attachments", True),
                                                                ("attachments", False)]
        assert "« Réquisition / ordonnance de commission »" in problems[0].message
        owner = user(db.session, "interprete@demo.test")
        attachments.add_attachment(db.session, owner, memoire, None, "r.pdf", pdf_bytes("r"),
                                   "Réquisition", "REQUISITION", 10_000_000, 40)
        problems = submission.check_before_sending(db.session, memoire, TODAY, rules=rules)
        assert [p.blocking for p in problems] == [False]
        path = tmp_path / "pieces_requises.csv"
        path.write_text("type_prestation;type_piece_jointe;bloquant\nTRAD_ORALE;DEVIS;oui\n",
                        encoding="utf-8")
        assert submission.load_rules(path) == (Rule("TRAD_ORALE", "DEVIS", True),)


def test_shipped_rules_never_block_by_default():
    assert all(not rule.blocking for rule in submission.load_rules())


# ---------------------------------------------------------------- numbering


def test_double_submit_consumes_one_number(app):
    with app.app_context():
        memoire = make_draft(db.session)
        version = memoire.version
        db.session.commit()
        before = _mj_counter()
        _submit(db.session.get(Memoire, memoire.id), expected_version=version)
        db.session.commit()
        with pytest.raises(SubmissionConflict):
            _submit(db.session.get(Memoire, memoire.id), expected_version=version)
        db.session.rollback()
        assert _mj_counter() == before + 1
        assert db.session.scalar(select(func.count(Transition.id)).where(
            Transition.memoire_id == memoire.id, Transition.to_status == lifecycle.ENVOYE)) == 1


def test_stale_version_is_refused_without_number(app):
    with app.app_context():
        memoire = make_draft(db.session)
        before = _mj_counter()
        with pytest.raises(SubmissionConflict):
            _submit(memoire, expected_version=memoire.version - 1)
        assert _mj_counter() == before and memoire.numero_mj is None


def test_exception_after_numbering_leaves_no_gap(app, monkeypatch):
    with app.app_context():
        memoire = make_draft(db.session)
        db.session.commit()
        before = _mj_counter()

        def broken(session, memoire):
            raise RuntimeError("panne simulée après la prise du numéro")

        with monkeypatch.context() as patch:
            patch.setattr(certificate, "issue", broken)
            with pytest.raises(RuntimeError):
                _submit(db.session.get(Memoire, memoire.id))
        db.session.rollback()
        memoire = db.session.get(Memoire, memoire.id)
        assert memoire.status == lifecycle.BROUILLON and memoire.numero_mj is None
        assert _mj_counter() == before
        assert db.session.scalar(select(func.count(Attachment.id)).where(
            Attachment.memoire_id == memoire.id)) == 0
        _submit(memoire)
        db.session.commit()
        assert memoire.numero_mj == f"MJ{before + 1:010d}"


def test_next_tmp_and_mj_formats(app):
    with app.app_context(), app.test_request_context(method="POST"):
        first = numbering.next_tmp(db.session, 2031)
        second = numbering.next_tmp(db.session, 2031)
        assert (first, second) == ("TMP203100000001", "TMP203100000002")
        assert numbering.next_mj(db.session).startswith("MJ") and len(
            numbering.next_mj(db.session)) == 12
        db.session.rollback()


def _run_threads(target, count):
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)


def test_concurrent_submissions_are_gapless_and_unique(app):
    with app.app_context():
        ids = [make_draft(db.session).id for _ in range(20)]
        db.session.commit()
        start = _mj_counter() + 1
    queue = list(ids)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                memoire_id = queue.pop()
            # A POST request context: on SQLite the transaction starts with BEGIN IMMEDIATE.
            with app.test_request_context("/", method="POST"):
                try:
                    _submit(db.session.get(Memoire, memoire_id))
                    db.session.commit()
                except BaseException as exc:  # noqa: BLE001 - reported below
                    db.session.rollback()
                    errors.append(exc)
                finally:
                    db.session.remove()

    _run_threads(worker, 8)
    assert errors == []
    with app.app_context():
        numbers = db.session.scalars(select(Memoire.numero_mj).where(Memoire.id.in_(ids))).all()
        assert sorted(int(n[2:]) for n in numbers) == list(range(start, start + 20))
        assert _mj_counter() == start + 19
        for memoire_id in ids:
            memoire = db.session.get(Memoire, memoire_id)
            stored = db.session.get(Certificate, memoire_id)
            assert certificate.verify(db.session, memoire.numero_mj, stored.empreinte).matches


def test_two_simultaneous_confirmations_consume_one_number(app):
    with app.app_context():
        memoire = make_draft(db.session)
        memoire_id, version = memoire.id, memoire.version
        db.session.commit()
        before = _mj_counter()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def worker():
        with app.test_request_context("/", method="POST"):
            try:
                barrier.wait(10)
                _submit(db.session.get(Memoire, memoire_id), expected_version=version)
                db.session.commit()
                outcomes.append("envoyé")
            except SubmissionConflict:
                db.session.rollback()
                outcomes.append("conflit")
            finally:
                db.session.remove()

    _run_threads(worker, 2)
    assert sorted(outcomes) == ["conflit", "envoyé"]
    with app.app_context():
        assert _mj_counter() == before + 1
        assert db.session.scalar(select(func.count(Transition.id)).where(
            Transition.memoire_id == memoire_id, Transition.to_status == lifecycle.ENVOYE)) == 1


# ---------------------------------------------------------------- tamper detection


def _disable_trigger(table: str) -> None:
    if db.engine.dialect.name == "sqlite":
        for name in db.session.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                {"t": table}).scalars().all():
            db.session.execute(text(f"DROP TRIGGER {name}"))
    else:
        db.session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))


def _sent(app_session):
    memoire = make_draft(app_session)
    _submit(memoire)
    db.session.commit()
    return memoire.id


def test_tampered_canonical_byte_is_detected(app):
    with app.app_context():
        memoire_id = _sent(db.session)
        stored = db.session.get(Certificate, memoire_id)
        numero, empreinte = stored.numero_mj, stored.empreinte
        forged = stored.canonical.replace(b'"158.25"', b'"958.25"')
        assert forged != stored.canonical
        _disable_trigger("certificates")
        db.session.execute(text("UPDATE certificates SET canonical = :c WHERE memoire_id = :m"),
                           {"c": forged, "m": memoire_id})
        db.session.commit()
        db.session.expire_all()
        result = certificate.verify(db.session, numero, empreinte)
        assert not result.matches and not result.intact


def test_tampered_amount_is_detected(app):
    with app.app_context():
        memoire_id = _sent(db.session)
        stored = db.session.get(Certificate, memoire_id)
        numero, empreinte = stored.numero_mj, stored.empreinte
        _disable_trigger("prestation_lines")
        db.session.execute(text("UPDATE prestation_lines SET tarif_ht = 99999 "
                                "WHERE memoire_id = :m"), {"m": memoire_id})
        db.session.commit()
        db.session.expire_all()
        assert not certificate.verify(db.session, numero, empreinte).matches


def test_wrong_empreinte_or_number_does_not_match(app):
    with app.app_context():
        stored = db.session.scalars(select(Certificate)).first()
        assert certificate.verify(db.session, stored.numero_mj, stored.empreinte).matches
        assert not certificate.verify(db.session, stored.numero_mj, "A" * 43 + "=").matches
        assert not certificate.verify(db.session, "MJ9999999999", stored.empreinte).matches
        spaced = " ".join([stored.empreinte[:20], stored.empreinte[20:]])
        assert certificate.verify(db.session, f" {stored.numero_mj} ", spaced).matches
