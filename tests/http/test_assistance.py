"""« Assistance »: a support agent finds an account, sends its owner a confirmation or reset link
through the real mail service, and follows a mémoire without seeing any money data. Everyone
else gets 404; every lookup and action is in the security log."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from extensions import db
from models import Habilitation, Memoire, OutboxMessage, Structure, User
from models.lifecycle import Message
from services import formatting, lifecycle

SUPPORT = "support@demo.test"


def _last_mail_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(OutboxMessage.id))) or 0


def _outbox(app, to: str, after: int) -> list[OutboxMessage]:
    """The e-mails sent to `to` since the outbox row `after` (the demo data may have some)."""
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == to,
                                                              OutboxMessage.id > after)
                                  .order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def _user(app, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def _path(body: str, prefix: str) -> str:
    return re.search(r"https?://[^/\s]+(" + re.escape(prefix) + r"\S+)", body).group(1)


# ------------------------------------------------------------------ home and rights

def test_support_home_welcomes_and_links_to_both_screens(client, login_as):
    login_as(SUPPORT)
    page = client.get("/").get_data(as_text=True)
    assert "Assistance aux utilisateurs" in page
    assert 'href="/assistance"' in page and 'href="/assistance/memoires"' in page


@pytest.mark.parametrize("email", ["interprete@demo.test", "consultation@demo.test",
                                   "expert@demo.test", "greffe@demo.test", "nouveau@demo.test"])
def test_every_other_role_gets_404_and_no_mail_leaves(client, login_as, app, email):
    target = _user(app, "interprete@demo.test")
    login_as(email)
    start = _last_mail_id(app)
    assert "Assistance aux utilisateurs" not in client.get("/").get_data(as_text=True)
    for path in ("/assistance", "/assistance?email=interprete", "/assistance/memoires",
                 "/assistance/memoires?numero=MJ0000000001"):
        assert client.get(path).status_code == 404, path
        assert client.get(path, headers={"HX-Request": "true"}).status_code == 404, path
    for action in ("lien-de-confirmation", "lien-de-reinitialisation"):
        assert client.post(f"/assistance/comptes/{target.id}/{action}").status_code == 404
    assert _outbox(app, "interprete@demo.test", start) == []


def test_anonymous_is_sent_to_login(client):
    response = client.get("/assistance/memoires?numero=MJ0000000001")
    assert response.status_code in (302, 303) and "/connexion" in response.headers["Location"]


def test_the_administrator_may_use_assistance_too(client, login_as):
    login_as("admin@demo.test")
    assert "interprete@demo.test" in client.get("/assistance?email=interp").get_data(as_text=True)
    assert client.get("/assistance/memoires").status_code == 200


# ------------------------------------------------------------------ « Rechercher un compte »

def test_support_finds_an_account_by_the_start_of_its_address_in_any_case(client, login_as, app):
    with app.app_context():
        newcomer = db.session.scalar(select(User).where(User.email == "nouveau@demo.test"))
        structure = db.session.scalar(select(Structure).where(
            Structure.identifier == "81234567600017"))
        db.session.add(Habilitation(user_id=newcomer.id, structure_id=structure.id,
                                    profile="consultation", status="demandee"))
        db.session.commit()
    login_as(SUPPORT)
    page = client.get("/assistance?email=NOUVEAU@Demo").get_data(as_text=True)
    assert "Léa Garnier" in page and "nouveau@demo.test" in page and "Prestataire" in page
    assert "1 compte correspond" in page
    assert "Cabinet Lefèvre Interprétariat" in page
    assert "Frais de justice consultation" in page and "demandé le" in page

    page = client.get("/assistance?email=interprete@demo.test").get_data(as_text=True)
    section = page.split('id="account-search"', 1)[1]
    assert "Claire Lefèvre" in section and "Frais de justice modification" in section
    assert re.search(r"<td>Oui</td>\s*<td>Frais de justice modification", section)  # gestionnaire
    assert "Actif" in section and "Dernière connexion" in section
    # Sign-up confirmation is not offered for a confirmed address; a reset link is.
    assert "Renvoyer le lien de confirmation" not in section
    assert "Envoyer un lien de réinitialisation du mot de passe" in section
    # The support agent never sees a password, its hash, or a way to disable the account.
    assert "pbkdf2" not in page and "scrypt" not in page and "Mot de passe" not in section
    assert "Désactiver" not in page


def test_prefix_search_treats_wildcards_as_letters_and_lists_the_exact_address_first(
        client, login_as, factory):
    factory.user("demo@ex-a.test")
    factory.user("demo@ex.test")
    login_as(SUPPORT)
    assert "Aucun compte ne correspond" in client.get("/assistance?email=%25%25%25").get_data(
        as_text=True)
    page = client.get("/assistance?email=DEMO@EX.TEST").get_data(as_text=True)
    assert "1 compte correspond" in page
    page = client.get("/assistance?email=demo@ex").get_data(as_text=True)
    assert "2 comptes correspondent" in page


@pytest.mark.parametrize("query, message", [
    ("", "Saisissez l&#39;adresse électronique du compte ou son début."),
    ("ab", "Saisissez au moins 3 caractères."),
    ("marie dupont@x", "ne contient pas d&#39;espace"),
])
def test_an_invalid_search_answers_422_with_the_message_next_to_the_field(
        client, login_as, query, message):
    login_as(SUPPORT)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/assistance", query_string={"email": query}, headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert '<small id="email-erreur" class="field-error">' in body and message in body
        assert 'aria-invalid="true"' in body and f'value="{query.strip()}"' in body


def test_htmx_search_gets_the_results_fragment_only(client, login_as):
    login_as(SUPPORT)
    response = client.get("/assistance?email=expert", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<section id="account-search"') and "<html" not in body
    assert "Dr Paul Aubert" in body


def test_resend_confirmation_sends_a_working_link_through_the_outbox(client, login_as, app,
                                                                     factory):
    uid = factory.user("lea.nouvelle@exemple.test", email_confirmed=False)
    login_as(SUPPORT)
    start = _last_mail_id(app)
    page = client.get("/assistance?email=lea.nouvelle").get_data(as_text=True)
    assert "Renvoyer le lien de confirmation" in page and "<dd>Non</dd>" in page
    response = client.post(f"/assistance/comptes/{uid}/lien-de-confirmation?email=lea.nouvelle")
    assert response.status_code == 303
    assert response.headers["Location"] == "/assistance?email=lea.nouvelle"
    assert "Un nouveau lien vient d&#39;être envoyé à lea.nouvelle@exemple.test" in client.get(
        response.headers["Location"]).get_data(as_text=True)
    [mail] = _outbox(app, "lea.nouvelle@exemple.test", start)
    assert mail.subject == "Confirmez votre adresse — Portail FJ"
    client.post("/deconnexion")
    link = _path(mail.body, "/inscription/confirmer/")
    assert client.get(link).status_code == 200
    assert client.post(link).status_code in (302, 303)
    assert _user(app, "lea.nouvelle@exemple.test").email_confirmed


def test_resend_confirmation_with_htmx_updates_the_results_in_place(client, login_as, app,
                                                                    factory):
    uid = factory.user("paul.attente@exemple.test", email_confirmed=False)
    login_as(SUPPORT)
    start = _last_mail_id(app)
    response = client.post(f"/assistance/comptes/{uid}/lien-de-confirmation?email=paul.attente",
                           headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<section id="account-search"')
    assert "Un nouveau lien" in response.headers["HX-Trigger"].encode().decode("unicode_escape")
    assert len(_outbox(app, "paul.attente@exemple.test", start)) == 1


def test_confirmation_is_not_resent_to_a_confirmed_or_staff_account(client, login_as, app,
                                                                    factory):
    staff = factory.user("agent.invite@justice.test", role="agent", email_confirmed=False)
    confirmed = _user(app, "expert@demo.test")
    login_as(SUPPORT)
    start = _last_mail_id(app)
    assert "Renvoyer le lien de confirmation" not in client.get(
        "/assistance?email=agent.invite").get_data(as_text=True)
    refusals = ((confirmed.id, "expert@demo.test", "déjà confirmée"),
                (staff, "agent.invite@justice.test", "créé par l&#39;administrateur"))
    for uid, email, reason in refusals:
        response = client.post(f"/assistance/comptes/{uid}/lien-de-confirmation",
                               follow_redirects=True)
        assert reason in response.get_data(as_text=True)
        assert _outbox(app, email, start) == []


def test_reset_link_goes_to_the_owner_and_leaves_the_password_unchanged(client, login_as, app):
    before = _user(app, "expert@demo.test")
    login_as(SUPPORT)
    start = _last_mail_id(app)
    response = client.post(f"/assistance/comptes/{before.id}/lien-de-reinitialisation"
                           "?email=expert@demo.test")
    assert response.status_code == 303
    [mail] = _outbox(app, "expert@demo.test", start)
    assert mail.subject == "Réinitialisation du mot de passe — Portail FJ"
    after = _user(app, "expert@demo.test")
    assert after.password_hash == before.password_hash and after.is_enabled
    client.post("/deconnexion")
    assert client.get(_path(mail.body, "/mot-de-passe-oublie/")).status_code == 200


def test_a_disabled_account_gets_no_link_and_stays_disabled(client, login_as, app, factory):
    uid = factory.user("ancien@exemple.test", is_enabled=False, email_confirmed=False)
    login_as(SUPPORT)
    start = _last_mail_id(app)
    page = client.get("/assistance?email=ancien@").get_data(as_text=True)
    assert "Désactivé" in page and "seul l'administrateur peut le réactiver" in page
    assert "Envoyer un lien" not in page and "Renvoyer le lien" not in page
    for action in ("lien-de-confirmation", "lien-de-reinitialisation"):
        response = client.post(f"/assistance/comptes/{uid}/{action}", follow_redirects=True)
        assert "Ce compte est désactivé" in response.get_data(as_text=True)
    assert _outbox(app, "ancien@exemple.test", start) == []
    assert not _user(app, "ancien@exemple.test").is_enabled


def test_actions_need_the_csrf_token(client, login_as, app):
    target = _user(app, "expert@demo.test")
    login_as(SUPPORT)
    start = _last_mail_id(app)
    response = client.post(f"/assistance/comptes/{target.id}/lien-de-reinitialisation",
                           csrf=False)
    assert response.status_code == 400
    assert _outbox(app, "expert@demo.test", start) == []


def test_an_unknown_account_answers_404(client, login_as):
    login_as(SUPPORT)
    assert client.post("/assistance/comptes/999999/lien-de-reinitialisation").status_code == 404


# ------------------------------------------------------------------ « Suivre un mémoire »

def _paid_memoire(app):
    """A sent mémoire with lines, attachments, a bank account and messages."""
    with app.app_context():
        has_messages = select(Message.memoire_id)
        memoire = db.session.scalar(
            select(Memoire).where(Memoire.numero_mj.is_not(None),
                                  Memoire.bank_account_id.is_not(None),
                                  Memoire.id.in_(has_messages))
            .order_by(Memoire.id))
        assert memoire is not None and memoire.lines and memoire.attachments
        secrets = {
            formatting.amount(memoire.total_ttc), memoire.bank_account.iban,
            memoire.bank_account.masked_iban, memoire.bank_account.bic,
            *(a.filename for a in memoire.attachments),
            *(line.numero_affaire for line in memoire.lines),
            *(m.body[:40] for m in db.session.scalars(
                select(Message).where(Message.memoire_id == memoire.id))),
        }
        if memoire.montant_retenu is not None:
            secrets.add(formatting.amount(memoire.montant_retenu))
        facts = (memoire.numero_mj, memoire.numero_tmp, lifecycle.label(memoire.status),
                 memoire.juridiction.label, memoire.structure.raison_sociale)
        return facts, secrets


def test_support_follows_a_memoire_without_any_money_data(client, login_as, app):
    (numero, numero_tmp, status, juridiction, raison_sociale), secrets = _paid_memoire(app)
    login_as(SUPPORT)
    response = client.get("/assistance/memoires", query_string={"numero": f" {numero.lower()} "})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for fact in (numero, numero_tmp, status, juridiction, raison_sociale, "Historique",
                 "Envoyé le", "Dernier changement d'état"):
        assert fact in page, fact
    assert "<td>Brouillon</td><td>Envoyé</td><td>Prestataire</td>" in page
    section = page.split('id="memoire-search"', 1)[1]
    for secret in secrets:
        assert secret not in section, secret
    assert "€" not in section and "IBAN" not in section
    assert "/pieces" not in section and "/messages" not in section


def test_the_history_reads_as_the_providers_without_names(client, login_as, app):
    with app.app_context():
        memoire = db.session.scalar(select(Memoire).where(
            Memoire.status == lifecycle.MIS_EN_PAIEMENT).order_by(Memoire.id))
        numero = memoire.numero_mj
        names = {t.actor.full_name for t in memoire.transitions if t.actor}
    login_as(SUPPORT)
    section = client.get(f"/assistance/memoires?numero={numero}").get_data(
        as_text=True).split('id="memoire-search"', 1)[1]
    assert "Mis à disposition — " in section  # the court's steps, as on the provider's panel
    assert "Agent de juridiction" in section
    for name in names:
        assert name not in section


def test_a_draft_is_found_by_its_tmp_number(client, login_as, app):
    with app.app_context():
        numero = db.session.scalar(select(Memoire.numero_tmp).where(
            Memoire.status == lifecycle.BROUILLON).order_by(Memoire.id))
    login_as(SUPPORT)
    page = client.get(f"/assistance/memoires?numero={numero}").get_data(as_text=True)
    assert f"Mémoire {numero}" in page and "<strong>Brouillon</strong>" in page
    assert "Pas encore envoyé" in page


def test_an_unknown_number_says_so(client, login_as, app):
    with app.app_context():
        count = db.session.scalar(select(func.count(Memoire.id)))
    login_as(SUPPORT)
    response = client.get(f"/assistance/memoires?numero=MJ{count + 9999:010d}",
                          headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Aucun mémoire ne porte ce numéro." in response.get_data(as_text=True)


@pytest.mark.parametrize("numero", ["", "12345", "MJ12A", "FACTURE-2024"])
def test_an_invalid_number_answers_422_next_to_the_field(client, login_as, numero):
    login_as(SUPPORT)
    response = client.get("/assistance/memoires", query_string={"numero": numero})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<small id="numero-erreur" class="field-error">' in body
    assert "Aucun mémoire ne porte" not in body


# ------------------------------------------------------------------ security log

def test_lookups_and_actions_are_logged_escaped(client, login_as, app, caplog):
    caplog.set_level("INFO", logger="portail.security")
    support = _user(app, SUPPORT)
    target = _user(app, "expert@demo.test")
    login_as(SUPPORT)
    client.get("/assistance", query_string={"email": "exp\nert user=1"})
    client.get("/assistance?email=expert@")
    client.get("/assistance/memoires?numero=MJ0000000001")
    client.post(f"/assistance/comptes/{target.id}/lien-de-reinitialisation")
    lines = [r.getMessage() for r in caplog.records if r.name == "portail.security"
             and "event=support." in r.getMessage()]
    assert f"event=support.lookup user={support.id} kind=compte query=exp\\nert\\x20user\\x3d1 " \
           "found=invalide" in lines
    assert f"event=support.lookup user={support.id} kind=compte query=expert@ found=1" in lines
    assert any(line.startswith(f"event=support.lookup user={support.id} kind=memoire "
                               "query=MJ0000000001 found=") for line in lines)
    assert f"event=support.reset_sent user={support.id} target={target.id}" in lines
    assert all("\n" not in line for line in lines)
