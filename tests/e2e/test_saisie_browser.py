"""The webinar's « Saisir mémoire » steps in Chromium, JS on and off: header, two lines, totals.
axe-core after each step; byte budgets of PERFORMANCE.md §2."""
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

TODAY = date.today()


def _text_of(locator) -> str:
    return locator.inner_text().replace("\u202f", " ").replace("\u00a0", " ")


def _fill_header(page):
    page.get_by_label("Juridiction").select_option(label="75 - Tribunal judiciaire de Paris")
    page.get_by_label("Service").select_option(label="INTERP - Interprétariat")
    page.get_by_label("Texte de référence").select_option(
        label="Article R 92 CPP (procédure pénale)")
    page.get_by_label("TVA sur les débits").check()
    page.get_by_label("Numéro de facture").fill("F-2025-001")


def _fill_line(page, numero, type_label, quantite, tarif, taux, js):
    form = page.locator("#line-form")
    form.get_by_label("N° d'affaire").fill(numero)
    form.get_by_label("Date de la réquisition").fill((TODAY - timedelta(days=16)).isoformat())
    form.get_by_label("Autorité requérante").select_option(label="Officier de Police Judiciaire")
    form.get_by_label("Date de la prestation").fill((TODAY - timedelta(days=2)).isoformat())
    form.get_by_label("Type de la prestation").select_option(label=type_label)
    form.get_by_label(re.compile(r"^Quantité")).fill(quantite)
    if tarif is not None:
        form.get_by_label("Tarif de la prestation HT").fill(tarif)
    form.get_by_label("Taux TVA").select_option(label=taux)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_webinar_header_then_two_lines(request, live_server, login_page, axe, js):
    page = request.getfixturevalue("page" if js else "nojs_page")
    if not js:  # axe-core runs as JavaScript: with JS off the same markup is audited by [js]
        axe = lambda page: []  # noqa: E731
    login_page(page, live_server, "interprete@demo.test")
    page.get_by_role("navigation", name="Frais de justice").get_by_role(
        "link", name="Saisir mémoire").click()
    expect(page.get_by_role("heading", name="Saisie mémoire de frais de justice")).to_be_visible()
    expect(page.get_by_text("12 rue des Traducteurs")).to_be_visible()
    assert axe(page) == []

    _fill_header(page)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".memoire-meta")).to_contain_text("Brouillon")
    expect(page.locator(".memoire-meta")).to_contain_text(f"TMP{TODAY.year}")
    expect(page.get_by_role("heading", name="Lignes de prestation")).to_be_visible()
    assert axe(page) == []

    # Line 1: the webinar's 1 × 150,00 at 5,5 %.
    page.get_by_role("button", name="Ajouter ligne de prestation").click()
    expect(page.get_by_role("heading", name="Saisie d'une ligne de prestation")).to_be_visible()
    _fill_line(page, "20190XX", "Autres (préciser)", "1", "150", "5,5 %", js)
    if js:  # the server recomputes while the user types
        expect(page.locator("#line-amounts")).to_contain_text("158,25")
    assert axe(page) == []
    page.get_by_role("button", name="Valider et fermer").click()
    row = page.locator("#lines tbody tr").first
    expect(row).to_contain_text("20190XX")
    expect(row).to_contain_text("158,25")
    assert axe(page) == []

    # Line 2: Traduction orale, 3 h; with JS the regulated tariff is pre-filled.
    page.get_by_role("button", name="Ajouter ligne de prestation").click()
    _fill_line(page, "2019/00", "Traduction orale (interprétariat)", "3",
               None if js else "30", "20 %", js)
    if js:
        expect(page.get_by_label("Tarif de la prestation HT")).to_have_value("30,00")
        expect(page.locator("#tarif-hint")).to_contain_text("A. 43-7 CPP")
        expect(page.locator("#line-amounts")).to_contain_text("108,00")
    page.get_by_role("button", name="Valider et fermer").click()
    expect(page.locator("#lines tbody tr")).to_have_count(2)
    expect(page.locator("#totals")).to_contain_text("266,25")
    totals = _text_of(page.locator("#totals"))
    assert "Montant HT après remise globale" in totals and "240,00 EUR" in totals
    assert "Montant TVA" in totals and "26,25 EUR" in totals
    assert "Montant TTC total" in totals and "266,25 EUR" in totals
    assert axe(page) == []


def test_saisie_page_and_fragments_fit_the_byte_budgets(page, live_server, login_page):
    login_page(page, live_server, "interprete@demo.test")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    wire: dict[str, int] = {}
    urls: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent",
           lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished",
           lambda e: wire.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(f"{live_server}/memoires/1")
    page.wait_for_load_state("networkidle")
    first_visit = sum(wire.values())
    assert len(wire) <= 6, list(urls.values())
    assert first_visit <= 45 * 1024, first_visit

    wire.clear()
    page.get_by_role("button", name="Ajouter ligne de prestation").click()
    form = page.locator("#line-form")
    expect(form.get_by_label("N° d'affaire")).to_be_visible()
    _fill_line(page, "X1", "Traduction orale (interprétariat)", "2", None, "20 %", True)
    expect(page.locator("#line-amounts")).to_contain_text("72,00")
    page.get_by_role("button", name="Valider et fermer").click()
    expect(page.locator("#lines tbody tr")).to_have_count(2)
    page.wait_for_load_state("networkidle")
    assert wire, "no htmx request seen"
    too_big = {urls.get(rid): size for rid, size in wire.items() if size > 4096}
    assert not too_big, too_big
