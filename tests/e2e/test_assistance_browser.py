"""« Assistance » in Chromium, JavaScript on and off: the support agent finds an account that is
waiting for its confirmation, resends the link, then follows a mémoire; every assistance page
passes axe-core (with JavaScript: axe needs it)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Memoire, OutboxMessage


def _no_audit(page) -> list:
    return []


def _mails_to(app, to: str) -> list[str]:
    with app.app_context():
        subjects = list(db.session.scalars(select(OutboxMessage.subject)
                                           .where(OutboxMessage.recipient == to)))
        db.session.remove()
    return subjects


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_support_finds_an_account_resends_its_link_and_follows_a_memoire(
        request, app, live_server, login_page, axe, factory, js):
    page = request.getfixturevalue("page" if js else "nojs_page")
    axe = axe if js else _no_audit  # axe-core needs JavaScript
    factory.user("lea.attente@exemple.test", email_confirmed=False)
    with app.app_context():
        numero = db.session.scalar(select(Memoire.numero_mj).where(Memoire.numero_mj.is_not(None))
                                   .order_by(Memoire.id))
        db.session.remove()

    login_page(page, live_server, "support@demo.test")
    page.get_by_role("link", name="Rechercher un compte").click()
    expect(page.get_by_role("heading", name="Rechercher un compte", level=1)).to_be_visible()
    assert axe(page) == []

    search = page.get_by_role("search")
    search.get_by_label("Adresse électronique").fill("ab")
    search.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("Saisissez au moins 3 caractères.")).to_be_visible()
    expect(page.get_by_label("Adresse électronique")).to_have_value("ab")
    assert axe(page) == []

    page.get_by_label("Adresse électronique").fill("LEA.attente")
    page.get_by_role("search").get_by_role("button", name="Rechercher").click()
    account = page.get_by_role("article", name=re.compile("lea.attente@exemple.test"))
    expect(account).to_be_visible()
    expect(page).to_have_url(re.compile(r"/assistance\?email=LEA\.attente$"))
    assert axe(page) == []

    if js:
        page.once("dialog", lambda dialog: dialog.accept())
    account.get_by_role("button", name=re.compile("Renvoyer le lien de confirmation")).click()
    expect(page.locator("#toasts")).to_contain_text(
        "Un nouveau lien vient d'être envoyé à lea.attente@exemple.test")
    expect(page.get_by_role("article", name=re.compile("lea.attente"))).to_be_visible()
    assert _mails_to(app, "lea.attente@exemple.test") == ["Confirmez votre adresse — Portail FJ"]
    assert axe(page) == []

    page.get_by_role("link", name="Suivre un mémoire").click()
    expect(page.get_by_role("heading", name="Suivre un mémoire", level=1)).to_be_visible()
    assert axe(page) == []
    page.get_by_label("Numéro du mémoire").fill("FACT-12")
    page.get_by_role("search").get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("commence par MJ ou TMP suivi de chiffres")).to_be_visible()
    page.get_by_label("Numéro du mémoire").fill("MJ9999999999")
    page.get_by_role("search").get_by_role("button", name="Rechercher").click()
    expect(page.get_by_text("Aucun mémoire ne porte ce numéro.")).to_be_visible()
    page.get_by_label("Numéro du mémoire").fill(numero.lower())
    page.get_by_role("search").get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("heading", name=f"Mémoire {numero}")).to_be_visible()
    expect(page.get_by_role("region", name="Historique")).to_contain_text("Prestataire")
    expect(page.locator("main")).not_to_contain_text("€")
    assert axe(page) == []
