"""services.memoires: drafts, lines, frais divers, duplicate, delete — rules and DB state."""
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Attachment, Memoire, PrestationLine, StoredFile, Transition, User
from services import lifecycle, memoires, permissions, storage
from services.memoires import FraisData, LineData, MemoireError, NotEditableError, StaleMemoireError

TODAY = date.today()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield db.session


def _user(session, email):
    return session.scalar(select(User).where(User.email == email))


def _header(session, user):
    structure = permissions.structures(session, user, permissions.WRITE)[0]
    from models import Juridiction

    paris = session.scalar(select(Juridiction).where(Juridiction.code == "tj75056"))
    return {"structure_id": structure.id, "service_id": structure.services[0].id,
            "juridiction_id": paris.id, "categorie_code": structure.categorie_code,
            "bank_account_id": structure.bank_accounts[0].id, "devise": "EUR",
            "texte_code": "R92", "vat_type": "DEBITS"}


def _line(**changes):
    values = dict(numero_affaire="20190XX", date_requisition=TODAY - timedelta(days=16),
                  autorite_code="OPJ", type_code="AUTRE", date_prestation=TODAY - timedelta(days=2),
                  quantite=D("1"), tarif_ht=D("150.00"), taux_tva=D("5.5"))
    values.update(changes)
    return LineData(**values)


def test_create_draft_numbers_it_tmp_year_8_digits_and_audits_it(ctx):
    user = _user(ctx, "interprete@demo.test")
    memoire = memoires.create_draft(ctx, user, **_header(ctx, user))
    ctx.commit()
    year = str(TODAY.year)
    assert memoire.numero_tmp.startswith("TMP" + year) and len(memoire.numero_tmp) == 15
    assert memoire.status == lifecycle.BROUILLON and memoire.mode_depot_label == "Saisie Web"
    (transition,) = memoire.transitions
    assert (transition.from_status, transition.to_status, transition.actor_id) == (
        None, lifecycle.BROUILLON, user.id)
    second = memoires.create_draft(ctx, user, **_header(ctx, user))
    assert int(second.numero_tmp[-8:]) == int(memoire.numero_tmp[-8:]) + 1


def test_create_draft_refuses_a_structure_without_modification_and_foreign_accounts(ctx):
    reader = _user(ctx, "consultation@demo.test")
    editor = _user(ctx, "interprete@demo.test")
    expert = _user(ctx, "expert@demo.test")
    with pytest.raises(MemoireError) as exc:
        memoires.create_draft(ctx, reader, **_header(ctx, editor))
    assert "structure_id" in exc.value.errors
    foreign = _header(ctx, expert)["bank_account_id"]
    with pytest.raises(MemoireError) as exc:
        memoires.create_draft(ctx, editor, **{**_header(ctx, editor), "bank_account_id": foreign,
                                              "vat_type": "AUTRE", "texte_code": ""})
    assert set(exc.value.errors) == {"bank_account_id", "vat_type", "texte_code"}


def test_line_amounts_and_total_follow_the_money_module(ctx):
    user = _user(ctx, "interprete@demo.test")
    memoire = memoires.create_draft(ctx, user, **_header(ctx, user))
    memoires.add_line(ctx, user, memoire, _line())
    memoires.add_line(ctx, user, memoire, _line(
        type_code="TRAD_ORALE", quantite=D("3"), tarif_ht=D("30"), taux_tva=D("20"),
        debours=D("5"), frais_divers=D("999"),  # ignored: the bordereau's total wins
        frais=[FraisData(TODAY - timedelta(days=2), "transport", D("1"), D("10.00")),
               FraisData(TODAY - timedelta(days=2), "affranchissement", D("1"), D("2.40"))]))
    ctx.commit()
    lines, totals = memoires.amounts(memoire)
    assert [a.ttc for a in lines] == [D("158.25"), D("127.88")]
    assert memoire.lines[1].frais_divers == D("12.40")
    assert memoire.total_ttc == totals.ttc_total == D("286.13")
    assert memoire.lines[1].tariff is not None and memoire.lines[0].tariff is None


@pytest.mark.parametrize("changes, field", [
    ({"quantite": D("0")}, "quantite"),
    ({"tarif_ht": D("-1")}, "tarif_ht"),
    ({"debours": D("10000000")}, "debours"),
    ({"date_prestation": TODAY + timedelta(days=1)}, "date_prestation"),
    ({"date_requisition": TODAY - timedelta(days=1), "date_prestation": TODAY - timedelta(days=3)},
     "date_requisition"),
    ({"taux_tva": D("7")}, "taux_tva"),
    ({"autorite_code": "INCONNUE"}, "autorite_code"),
    ({"numero_affaire": "  "}, "numero_affaire"),
    ({"remise": D("151")}, "remise"),
    ({"frais": [FraisData(TODAY, "voyage", D("1"), D("5"))]}, "frais-0-nature"),
])
def test_line_rules_are_refused_next_to_the_field(ctx, changes, field):
    user = _user(ctx, "interprete@demo.test")
    memoire = memoires.create_draft(ctx, user, **_header(ctx, user))
    with pytest.raises(MemoireError) as exc:
        memoires.add_line(ctx, user, memoire, _line(**changes))
    assert field in exc.value.errors
    assert memoire.lines == []


def test_exonere_forces_a_zero_rate(ctx):
    user = _user(ctx, "interprete@demo.test")
    memoire = memoires.create_draft(ctx, user, **{**_header(ctx, user), "vat_type": "EXONERE"})
    line = memoires.add_line(ctx, user, memoire, _line(taux_tva=D("20")))
    assert line.taux_tva == 0 and memoire.total_ttc == D("150.00")
    other = memoires.create_draft(ctx, user, **_header(ctx, user))
    memoires.add_line(ctx, user, other, _line())
    memoires.update_header(ctx, user, other, other.version,
                           **{**_header(ctx, user), "vat_type": "EXONERE"})
    assert other.lines[0].taux_tva == 0 and other.total_ttc == D("150.00")


def test_a_stale_version_is_refused_and_nothing_changes(ctx):
    user = _user(ctx, "interprete@demo.test")
    memoire = memoires.create_draft(ctx, user, **_header(ctx, user))
    ctx.commit()
    loaded = memoire.version
    memoires.update_header(ctx, user, memoire, loaded, **{**_header(ctx, user),
                                                          "numero_facture": "A"})
    ctx.commit()
    with pytest.raises(StaleMemoireError):
        memoires.update_header(ctx, user, memoire, loaded, **{**_header(ctx, user),
                                                              "numero_facture": "B"})
    ctx.rollback()
    assert ctx.get(Memoire, memoire.id).numero_facture == "A"


def test_a_sent_memoire_is_never_changed_by_the_services(ctx):
    user = _user(ctx, "interprete@demo.test")
    memoire = ctx.scalar(select(Memoire).where(Memoire.numero_tmp.like("TMP%")).limit(1))
    memoire.status = lifecycle.ENVOYE  # as the sending service leaves it
    ctx.flush()
    with pytest.raises(NotEditableError):
        memoires.add_line(ctx, user, memoire, _line())
    with pytest.raises(NotEditableError):
        memoires.update_line(ctx, user, memoire.lines[0], _line(quantite=D("2")))
    with pytest.raises(NotEditableError):
        memoires.delete_line(ctx, user, memoire.lines[0])
    with pytest.raises(NotEditableError):
        memoires.update_header(ctx, user, memoire, memoire.version, **_header(ctx, user))
    with pytest.raises(NotEditableError):
        memoires.delete_draft(ctx, user, memoire)


def test_consultation_cannot_change_a_draft(ctx):
    reader = _user(ctx, "consultation@demo.test")
    memoire = permissions.get_memoire(ctx, reader, 1)
    with pytest.raises(permissions.Forbidden):
        memoires.add_line(ctx, reader, memoire, _line())
    with pytest.raises(permissions.Forbidden):
        memoires.duplicate(ctx, reader, memoire)


def test_delete_line_renumbers_and_keeps_its_attachments_on_the_memoire(ctx):
    user = _user(ctx, "interprete@demo.test")
    memoire = memoires.create_draft(ctx, user, **_header(ctx, user))
    first = memoires.add_line(ctx, user, memoire, _line(numero_affaire="A"))
    memoires.add_line(ctx, user, memoire, _line(numero_affaire="B"))
    stored = storage.store(ctx, b"%PDF-1.4 demo", "application/pdf")
    ctx.add(Attachment(memoire=memoire, line=first, sha256=stored.sha256, filename="a.pdf",
                       designation="Attestation", type_code="ATTESTATION_MISSION",
                       extension="pdf"))
    ctx.flush()
    memoires.delete_line(ctx, user, first)
    ctx.commit()
    assert [(l.position, l.numero_affaire) for l in memoire.lines] == [(1, "B")]
    assert memoire.attachments[0].line_id is None
    assert memoire.total_ttc == D("158.25")


def test_duplicate_copies_header_lines_frais_and_attachments(ctx):
    user = _user(ctx, "interprete@demo.test")
    source = ctx.scalar(select(Memoire).join(PrestationLine).where(
        PrestationLine.numero_affaire == "2019/00"))
    stored = storage.store(ctx, b"%PDF-1.4 bordereau", "application/pdf")
    ctx.add(Attachment(memoire=source, line=source.lines[0], sha256=stored.sha256,
                       filename="bordereau.pdf", designation="Bordereau", type_code="BORDEREAU_FRAIS",
                       extension="pdf"))
    ctx.add(Attachment(memoire=source, sha256=stored.sha256, filename="rib.pdf",
                       designation="RIB", type_code="RIB", extension="pdf"))
    ctx.commit()
    copy = memoires.duplicate(ctx, user, source)
    ctx.commit()
    assert copy.id != source.id and copy.numero_tmp != source.numero_tmp
    assert copy.status == lifecycle.BROUILLON
    for name in ("structure_id", "service_id", "juridiction_id", "categorie_code",
                 "bank_account_id", "texte_code", "vat_type", "numero_facture", "total_ttc"):
        assert getattr(copy, name) == getattr(source, name)
    assert [(l.numero_affaire, l.quantite, len(l.frais)) for l in copy.lines] == [
        ("2019/00", D("3"), 1)]
    (attachment,) = copy.attachments  # the RIB is added again at sending, not copied
    assert attachment.sha256 == stored.sha256 and attachment.line_id == copy.lines[0].id
    assert ctx.scalar(select(func.count()).select_from(StoredFile).where(
        StoredFile.sha256 == stored.sha256)) == 1


def test_delete_draft_removes_it_with_lines_and_history(ctx):
    user = _user(ctx, "interprete@demo.test")
    memoire = memoires.create_draft(ctx, user, **_header(ctx, user))
    memoires.add_line(ctx, user, memoire, _line(
        frais=[FraisData(TODAY, "repas", D("1"), D("15"))]))
    ctx.commit()
    memoire_id = memoire.id
    assert memoires.delete_draft(ctx, user, memoire) == memoire.numero_tmp
    ctx.commit()
    assert ctx.get(Memoire, memoire_id) is None
    assert ctx.scalar(select(func.count()).select_from(Transition).where(
        Transition.memoire_id == memoire_id)) == 0
    assert ctx.scalar(select(func.count()).select_from(PrestationLine).where(
        PrestationLine.memoire_id == memoire_id)) == 0


def test_tariff_hint_flags_a_price_other_than_the_regulated_tariff(ctx):
    hint = memoires.tariff_hint(ctx, "TRAD_ORALE", TODAY, D("35"))
    assert hint.amount == D("30.00") and hint.differs
    assert hint.message.startswith("Tarif différent du tarif réglementé")
    assert not memoires.tariff_hint(ctx, "TRAD_ORALE", TODAY, D("30")).differs
    assert memoires.tariff_hint(ctx, "AUTRE", TODAY, D("30")) is None


def test_demo_drafts_show_the_webinar_and_worked_examples(ctx):
    totals = sorted(m.total_ttc for m in ctx.scalars(select(Memoire)))
    assert D("158.25") in totals and D("127.88") in totals and D("507.00") in totals
