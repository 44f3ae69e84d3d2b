"""Lifecycle over HTTP: every (state, action, role) triple — allowed ones succeed, the others are
refused with 403/404 and change nothing —, the back office pages, the provider's actions after a
refusal, the 409 of a stale decision, and the whole story refusal → duplication → resend →
certification with a modified amount → payment."""
from __future__ import annotations

import html
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Juridiction, Memoire, Transition
from models.lifecycle import Message, Notification
from services import lifecycle, transmission
from tests.lifecycle_support import (
    ADMIN, CONSULTATION, EXPERT, GREFFE, INTERPRETE, STATES, SUPPORT, in_state,
)

OTHER_AGENT = "greffe-lyon@demo.test"
USERS = [INTERPRETE, CONSULTATION, EXPERT, GREFFE, OTHER_AGENT, SUPPORT, ADMIN]


@pytest.fixture
def app_config():
    # Several users log in within the same minute here: the login rate limit is not under test.
    return {"LOGIN_RATE_LIMIT": "1000 per minute"}


@pytest.fixture
def other_agent(factory):
    lyon = factory.id_of(Juridiction, code="tj69123")
    return factory.user(OTHER_AGENT, role="agent", juridiction_id=lyon)


def _snapshot(app, memoire_id):
    with app.app_context():
        m = db.session.get(Memoire, memoire_id)
        return (m.status, m.court_step, m.version, m.montant_retenu, m.paid_on,
                db.session.scalar(select(func.count(Transition.id))
                                  .where(Transition.memoire_id == memoire_id)),
                db.session.scalar(select(func.count(Message.id))
                                  .where(Message.memoire_id == memoire_id)),
                db.session.scalar(select(func.count(Memoire.id))))


def _post(client, memoire_id, action, version):
    today = date.today().isoformat()
    urls = {
        "refuser": (f"/juridiction/memoires/{memoire_id}/refuser",
                    {"reason_code": "DONNEES_ERRONEES", "text": "Date erronée."}),
        "certifier": (f"/juridiction/memoires/{memoire_id}/certifier",
                      {"route": "CERTIFIE", "montant_retenu": "10,00", "motif": "Réduction."}),
        "mettre_en_paiement": (f"/juridiction/memoires/{memoire_id}/mise-en-paiement",
                               {"paid_on": today, "reference": "PAY-1"}),
        "abandonner": (f"/memoires/{memoire_id}/abandonner", {}),
        "dupliquer_post_refus": (f"/memoires/{memoire_id}/dupliquer-apres-refus", {}),
    }
    url, data = urls[action]
    return client.post(url, data={**data, "version": str(version)})


# What each role may do, in which state (everything else is refused).
ALLOWED = {
    ("A_CONTROLER", "refuser", GREFFE), ("A_CONTROLER", "certifier", GREFFE),
    ("CERTIFIE", "mettre_en_paiement", GREFFE),
    ("REFUSE", "abandonner", INTERPRETE), ("REFUSE", "dupliquer_post_refus", INTERPRETE),
}
COURT_ACTIONS = ("refuser", "certifier", "mettre_en_paiement")
PROVIDER_ACTIONS = ("abandonner", "dupliquer_post_refus")


def expected_refusal(state: str, action: str, email: str) -> int:
    """404 when the user may not even see the mémoire, else 403."""
    agent = email in (GREFFE, OTHER_AGENT)
    if action in COURT_ACTIONS:
        if not agent:
            # A provider never fires a court action: refused on their own mémoire, and a
            # mémoire they cannot see is not found.
            return 404 if email in (EXPERT, SUPPORT, ADMIN) else 403
        if email == OTHER_AGENT or state == "BROUILLON":
            return 404  # not sent to this juridiction / not sent at all
        return 403
    if agent:
        return 403  # an agent never acts for the provider
    if email in (EXPERT, SUPPORT, ADMIN):
        return 404
    return 403


@pytest.fixture
def clients(app, other_agent):
    """One logged-in client per user (logging in again and again would hit the rate limit)."""
    from tests.conftest import login

    result = {}
    for email in USERS:
        result[email] = app.test_client()
        login(result[email], email)
    return result


@pytest.mark.parametrize("state", STATES)
def test_every_state_action_role(app, clients, state):
    with app.app_context():
        memoire_id = in_state(state).id
    for email in USERS:
        for action in COURT_ACTIONS + PROVIDER_ACTIONS:
            if (state, action, email) in ALLOWED:
                continue
            before = _snapshot(app, memoire_id)
            response = _post(clients[email], memoire_id, action, before[2])
            assert response.status_code == expected_refusal(state, action, email), \
                (state, action, email, response.status_code)
            assert _snapshot(app, memoire_id) == before, (state, action, email)
    # And the allowed ones succeed (each on a fresh mémoire in that state).
    for allowed_state, action, email in sorted(ALLOWED):
        if allowed_state != state:
            continue
        with app.app_context():
            fresh = in_state(state)
            fresh_id, version = fresh.id, fresh.version
        response = _post(clients[email], fresh_id, action, version)
        assert response.status_code == 303, (state, action, email, response.status_code)
        with app.app_context():
            moved = db.session.get(Memoire, fresh_id)
            assert moved.status == lifecycle.ACTIONS[action][0]
            assert moved.transitions[-1].actor.email == email
            assert lifecycle.verify_chain(moved)


def test_queue_lists_received_memoires_oldest_first_with_age_and_filters(app, client, login_as):
    with app.app_context():
        old = in_state("A_CONTROLER", days_ago=30)
        new = in_state("A_CONTROLER", days_ago=2, tarif=Decimal("25.00"), type_code="TRAD_ECRITE")
        old_numero, new_numero = old.numero, new.numero
    login_as(GREFFE)
    page = client.get("/juridiction/memoires").get_data(as_text=True)
    assert "Mémoires reçus" in page
    assert old_numero in page and new_numero in page
    # Demo mémoires at the same status sent earlier come first; among ours the oldest first.
    assert page.index(old_numero) < page.index(new_numero)
    assert "jour" in page  # the age column
    filtered = client.get("/juridiction/memoires?type_code=TRAD_ECRITE").get_data(as_text=True)
    assert new_numero in filtered and old_numero not in filtered
    by_amount = client.get("/juridiction/memoires?montant_min=1000").get_data(as_text=True)
    assert old_numero not in by_amount and "Aucun mémoire" in by_amount
    fragment = client.get("/juridiction/memoires?prestataire=lefèvre",
                          headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert old_numero in fragment.get_data(as_text=True)
    bad = client.get("/juridiction/memoires?montant_min=abc")
    assert bad.status_code == 422


def test_queue_is_for_agents_only(client, login_as):
    login_as(INTERPRETE)
    assert client.get("/juridiction/memoires").status_code == 403


def test_agent_of_another_juridiction_gets_404(app, client, login_as, other_agent):
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        memoire_id, numero = memoire.id, memoire.numero
        paris = {m.numero for m in db.session.scalars(
            select(Memoire).where(Memoire.juridiction_id == memoire.juridiction_id,
                                  Memoire.numero_mj.is_not(None)))}
    login_as(OTHER_AGENT)
    assert client.get(f"/juridiction/memoires/{memoire_id}").status_code == 404
    assert client.get(f"/memoires/{memoire_id}/messages").status_code == 404
    page = client.get("/juridiction/memoires?statut=tous").get_data(as_text=True)
    assert numero in paris and not any(n in page for n in paris)


def test_agent_page_shows_data_checklist_attachments_and_actions(app, client, login_as):
    with app.app_context():
        memoire = in_state("A_CONTROLER", tarif=Decimal("35.00"))
        memoire_id, numero = memoire.id, memoire.numero
        rib = next(a for a in memoire.attachments if a.type_code == "RIB")
        rib_id = rib.id
    login_as(GREFFE)
    page = client.get(f"/juridiction/memoires/{memoire_id}").get_data(as_text=True)
    assert numero in page and "Cabinet Lefèvre Interprétariat" in page
    assert "Contrôles" in page and "Tarif réglementé respecté : À vérifier" in page
    assert "35,00 € HT au lieu du tarif réglementé de 30,00 € HT" in page
    assert "Calcul des montants : Conforme" in page
    for label in ("Refuser", "Certifier", "Historique", "Pièces jointes"):
        assert label in page
    assert "Mettre en paiement</button>" not in page  # not before certification
    view = client.get(f"/pieces-jointes/{rib_id}/visualiser")
    assert view.status_code == 200 and view.mimetype == "application/pdf"
    assert "attachment" not in view.headers.get("Content-Disposition", "")
    download = client.get(f"/pieces-jointes/{rib_id}/telecharger")
    assert download.headers["Content-Disposition"].startswith("attachment")


def _received_with_other_amounts(app) -> int:
    from tests.lifecycle_support import sent_with_other_amounts

    with app.app_context():
        return sent_with_other_amounts().id


def _assert_other_amounts_itemised(page: str) -> None:
    text = html.unescape(page)
    assert "Détail des montants de la ligne 2 (frais divers, débours, remise)" in text
    assert "3 × 30,00 = 90,00\u202fEUR" in text or "3 × 30,00 = 90,00 EUR" in text
    for expected in ("<dt>Frais divers</dt><dd class=\"num\">12,90", "<dt>Remise</dt>",
                     "− 2,00", "<dt>Montant total HT</dt><dd class=\"num\">100,90",
                     "20 % (TVA 20,18", "<dt>Débours (non soumis à la TVA)</dt><dd class=\"num\">5,00",
                     "<dt>Montant TTC</dt><dd class=\"num\"><strong>126,08",
                     "Bordereau des frais divers de la ligne 2", "Montant total</th>",
                     "<td>Kilomètres</td><td class=\"num\">24</td><td class=\"num\">12,00",
                     "<td>Affranchissement</td><td class=\"num\">1</td><td class=\"num\">0,90"):
        assert expected in text, expected


def test_court_page_itemises_frais_divers_debours_remise_and_the_bordereau(app, client,
                                                                           login_as):
    memoire_id = _received_with_other_amounts(app)
    login_as(GREFFE)
    page = client.get(f"/juridiction/memoires/{memoire_id}").get_data(as_text=True)
    _assert_other_amounts_itemised(page)
    assert '<details class="line-details" open>' in page  # the line with other amounts
    assert "<dt>Attribué à</dt><dd>Non attribué</dd>" in page
    assert "Transmis au Tribunal judiciaire de Paris" in html.unescape(page)
    assert "tj75056" not in page


def test_provider_read_only_view_itemises_the_same_amounts(app, client, login_as):
    memoire_id = _received_with_other_amounts(app)
    login_as(INTERPRETE)
    page = client.get(f"/memoires/{memoire_id}").get_data(as_text=True)
    assert "Saisie autres montants" in page
    _assert_other_amounts_itemised(page)


def test_refuse_needs_a_reason_422_keeps_the_text(app, client, login_as):
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        memoire_id, version = memoire.id, memoire.version
    login_as(GREFFE)
    response = client.post(f"/juridiction/memoires/{memoire_id}/refuser",
                           data={"reason_code": "", "text": "Mon texte", "version": version},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Choisissez un motif de refus." in body and "Mon texte" in body
    assert "<html" not in body
    with app.app_context():
        assert db.session.get(Memoire, memoire_id).status == lifecycle.MIS_A_DISPOSITION


def test_certify_with_a_different_amount_needs_a_motif(app, client, login_as):
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        memoire_id, version = memoire.id, memoire.version
    login_as(GREFFE)
    response = client.post(f"/juridiction/memoires/{memoire_id}/certifier",
                           data={"route": "CERTIFIE", "montant_retenu": "12,50", "motif": "",
                                 "version": version})
    assert response.status_code == 422
    assert "indiquez le motif" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Memoire, memoire_id).court_step == lifecycle.A_CONTROLER


def test_stale_decision_gets_409_and_changes_nothing(app, client, login_as):
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        memoire_id, version = memoire.id, memoire.version
    login_as(GREFFE)
    first = client.post(f"/juridiction/memoires/{memoire_id}/certifier",
                        data={"route": "CERTIFIE", "montant_retenu": "72,00", "version": version})
    assert first.status_code == 303
    before = _snapshot(app, memoire_id)
    second = client.post(f"/juridiction/memoires/{memoire_id}/refuser",
                         data={"reason_code": "DOUBLON", "version": version})
    assert second.status_code == 409
    assert "vient d'être modifié par quelqu'un d'autre" in html.unescape(
        second.get_data(as_text=True))
    assert _snapshot(app, memoire_id) == before
    htmx = client.post(f"/juridiction/memoires/{memoire_id}/refuser",
                       data={"reason_code": "DOUBLON", "version": version},
                       headers={"HX-Request": "true"})
    assert htmx.status_code == 409
    assert "modifié" in __import__("json").loads(htmx.headers["HX-Trigger"])["toast"]["message"]


def test_assignment_and_batch_certification(app, client, login_as):
    with app.app_context():
        green = in_state("A_CONTROLER")
        orange = in_state("A_CONTROLER", tarif=Decimal("40.00"))
        green_id, orange_id, version = green.id, orange.id, green.version
        greffe_id = green.juridiction_id and db.session.scalar(
            select(Memoire.assigned_to_id).where(Memoire.id == green.id))
        assert greffe_id is None
    login_as(GREFFE)
    page = client.get("/juridiction/memoires").get_data(as_text=True)
    assert f'value="{green_id}" form="lot"' in page
    assert f'value="{orange_id}" form="lot"' not in page  # its checklist is not all green
    with app.app_context():
        from tests.lifecycle_support import user
        me = user(GREFFE).id
    response = client.post(f"/juridiction/memoires/{green_id}/attribution",
                           data={"assignee_id": str(me), "version": version, "retour": "liste"})
    assert response.status_code == 303
    mine = client.get("/juridiction/memoires?attribution=moi").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Memoire, green_id).assigned_to_id == me
        numero_green = db.session.get(Memoire, green_id).numero
        numero_orange = db.session.get(Memoire, orange_id).numero
    assert numero_green in mine and numero_orange not in mine
    response = client.post("/juridiction/memoires/certification-par-lot",
                           data={"ids": [str(green_id), str(orange_id)]})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Memoire, green_id).court_step == lifecycle.CERTIFIE
        assert db.session.get(Memoire, orange_id).court_step == lifecycle.A_CONTROLER
    page = client.get("/juridiction/memoires").get_data(as_text=True)
    assert f"{numero_orange} non certifié : contrôles non conformes" in page


def test_messages_thread_both_sides_with_attachment_and_notifications(app, client, login_as):
    from services.demo import demo_pdf

    with app.app_context():
        memoire = in_state("REFUSE")
        memoire_id, numero = memoire.id, memoire.numero
    login_as(INTERPRETE)
    thread = client.get(f"/memoires/{memoire_id}/messages").get_data(as_text=True)
    assert "Mémoire refusé. Motif : Pièce justificative manquante." in thread  # automatic
    response = client.post(f"/memoires/{memoire_id}/messages", data={
        "body": "Voici la réquisition.",
        "fichiers": [(__import__("io").BytesIO(demo_pdf("Réquisition")), "requisition.pdf")],
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    bad = client.post(f"/memoires/{memoire_id}/messages", data={
        "body": "Encore", "fichiers": [(__import__("io").BytesIO(b"MZ\x90\x00"), "virus.pdf")],
    }, content_type="multipart/form-data")
    assert bad.status_code == 422 and "accepté" in bad.get_data(as_text=True)
    client.post("/deconnexion")
    login_as(GREFFE)
    with app.app_context():
        from tests.lifecycle_support import user
        greffe = user(GREFFE)
        unread = db.session.scalars(select(Notification).where(
            Notification.user_id == greffe.id, Notification.read_at.is_(None))).all()
        assert any("Nouveau message" in n.text and numero in n.text for n in unread)
        attachment_id = db.session.scalar(select(Message).where(
            Message.memoire_id == memoire_id, Message.body == "Voici la réquisition.")
        ).attachments[0].id
    listing = client.get("/notifications").get_data(as_text=True)
    assert f"Nouveau message de Cabinet Lefèvre Interprétariat sur le mémoire {numero}" in listing
    assert client.get(f"/messages/pieces-jointes/{attachment_id}/visualiser").status_code == 200
    client.post("/deconnexion")
    login_as(EXPERT)
    assert client.get(f"/messages/pieces-jointes/{attachment_id}/telecharger").status_code == 404
    client.post("/deconnexion")
    login_as(CONSULTATION)
    page = client.get(f"/memoires/{memoire_id}/messages").get_data(as_text=True)
    assert "Voici la réquisition." in page and "Envoyer le message" not in page
    assert client.post(f"/memoires/{memoire_id}/messages",
                       data={"body": "x"}).status_code == 403


def test_notification_counter_and_mark_read(app, client, login_as):
    with app.app_context():
        memoire_id = in_state("REFUSE").id
        from tests.lifecycle_support import user
        interprete_id = user(INTERPRETE).id
    login_as(INTERPRETE)
    page = client.get("/notifications").get_data(as_text=True)
    assert "non lue" in page and "a été refusé" in page
    with app.app_context():
        first = db.session.scalar(select(Notification).where(
            Notification.user_id == interprete_id, Notification.memoire_id == memoire_id,
            Notification.kind == "etat").order_by(Notification.id.desc()))
        first_id = first.id
    assert client.get(f"/notifications/{first_id}").status_code == 405  # reading changes state: POST only
    opened = client.post(f"/notifications/{first_id}")
    assert opened.status_code == 303
    assert client.post("/notifications/tout-lire").status_code == 303
    assert "Aucune notification non lue." in client.get("/notifications").get_data(as_text=True)
    client.post("/deconnexion")
    login_as(EXPERT)
    assert client.post(f"/notifications/{first_id}").status_code == 404


def test_provider_sees_refusal_how_to_fix_and_can_duplicate(app, client, login_as):
    with app.app_context():
        memoire = in_state("REFUSE")
        memoire_id, version, numero = memoire.id, memoire.version, memoire.numero
    login_as(INTERPRETE)
    page = client.get(f"/memoires/{memoire_id}/suivi").get_data(as_text=True)
    assert "Motif du refus : Pièce justificative manquante" in page
    assert "Réquisition absente." in page and "Comment corriger" in page
    assert ">Dupliquer</button>" in page and ">Abandonner</button>" in page
    response = client.post(f"/memoires/{memoire_id}/dupliquer-apres-refus",
                           data={"version": version})
    assert response.status_code == 303
    with app.app_context():
        original = db.session.get(Memoire, memoire_id)
        copy = db.session.scalar(select(Memoire).where(Memoire.duplicated_from_id == memoire_id))
        assert original.status == lifecycle.DUPLIQUE_POST_REFUS
        assert copy.status == lifecycle.BROUILLON and len(copy.lines) == len(original.lines)
        assert response.headers["Location"].endswith(f"/memoires/{copy.id}")
        copy_numero = copy.numero
    page = client.get(f"/memoires/{memoire_id}/suivi").get_data(as_text=True)
    assert "Dupliqué post refus" in page and copy_numero in page
    client.post("/deconnexion")
    login_as(CONSULTATION)
    page = client.get(f"/memoires/{memoire_id}/suivi").get_data(as_text=True)
    assert ">Dupliquer</button>" not in page and numero in page


def test_story_refusal_duplication_resend_certification_payment(app, client, login_as):
    """The whole story at the HTTP level (the browser version is in tests/e2e)."""
    with app.app_context():
        memoire = in_state("A_CONTROLER")
        memoire_id, version = memoire.id, memoire.version
    login_as(GREFFE)
    assert client.post(f"/juridiction/memoires/{memoire_id}/refuser", data={
        "reason_code": "ERREUR_CALCUL", "text": "Quantité erronée.", "version": version,
    }).status_code == 303
    client.post("/deconnexion")
    login_as(INTERPRETE)
    with app.app_context():
        version = db.session.get(Memoire, memoire_id).version
    response = client.post(f"/memoires/{memoire_id}/dupliquer-apres-refus",
                           data={"version": version})
    assert response.status_code == 303
    with app.app_context():
        from services import submission
        from tests.lifecycle_support import user
        copy = db.session.scalar(select(Memoire).where(Memoire.duplicated_from_id == memoire_id))
        submission.submit(db.session, copy, user(INTERPRETE), "127.0.0.1",
                          submission.HONOUR_VERSION)
        db.session.commit()
        assert transmission.transmit_pending(db.session) >= 1
        copy_id, version, claimed = copy.id, copy.version, copy.total_ttc
    client.post("/deconnexion")
    login_as(GREFFE)
    assert client.post(f"/juridiction/memoires/{copy_id}/certifier", data={
        "route": "TAXE", "montant_retenu": "50,00", "motif": "Ordonnance de taxe.",
        "version": version}).status_code == 303
    with app.app_context():
        version = db.session.get(Memoire, copy_id).version
    assert client.post(f"/juridiction/memoires/{copy_id}/mise-en-paiement", data={
        "paid_on": date.today().strftime("%d/%m/%Y"), "reference": "DSJ-42",
        "version": version}).status_code == 303
    client.post("/deconnexion")
    login_as(INTERPRETE)
    page = client.get(f"/memoires/{copy_id}/suivi").get_data(as_text=True)
    assert "Mis en paiement" in page and "MT modifié" in page and "Ordonnance de taxe." in page
    assert "50,00 €" in page and "DSJ-42" in page
    with app.app_context():
        copy = db.session.get(Memoire, copy_id)
        assert copy.montant_retenu == 50 and copy.total_ttc == claimed
        assert [t.to_status for t in copy.transitions] == [
            "BROUILLON", "ENVOYE", "MIS_A_DISPOSITION", "MIS_A_DISPOSITION", "MIS_EN_PAIEMENT"]
        assert lifecycle.verify_chain(copy)
