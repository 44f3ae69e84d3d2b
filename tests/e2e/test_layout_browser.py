"""Layout in real Chromium, on a laptop (1280×800) and a phone (390×844): the page itself never
scrolls sideways (only a table's own wrapper may), the wide lists fit at 1280 with their last
columns in view, and the navigation marks exactly one tab as the current page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.lifecycle_support import GREFFE, INTERPRETE, in_state

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1280", "390"])


@pytest.fixture
def app_config():
    return {"LOGIN_RATE_LIMIT": "1000 per minute"}


def _tabs(page):
    return page.get_by_role("navigation", name="Frais de justice")


def _open_tab(page, name):
    _tabs(page).get_by_role("link", name=name, exact=True).click()
    expect(_tabs(page).get_by_role("link", name=name, exact=True)).to_have_attribute(
        "aria-current", "page")


def _assert_no_page_scroll(page, where):
    scroll, inner = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{where} : la page fait {scroll} px pour {inner} px de large"


def _right_edge(locator) -> float:
    box = locator.bounding_box()
    return box["x"] + box["width"]


@VIEWPORTS
def test_provider_pages_never_scroll_sideways(app, page, live_server, login_page, viewport):
    with app.app_context():
        sent, draft = in_state("ENVOYE").id, in_state("BROUILLON").id
    page.set_viewport_size(viewport)
    login_page(page, live_server, INTERPRETE)
    _assert_no_page_scroll(page, "Accueil")
    # « Se déconnecter » stays on screen, even on a phone.
    assert _right_edge(page.get_by_role("button", name="Se déconnecter")) <= viewport["width"]
    for tab in ("Synthèse", "Rechercher", "Archives", "Tableau de bord", "Liste fiscale",
                "Ma structure", "Mes habilitations"):
        _open_tab(page, tab)
        _assert_no_page_scroll(page, tab)
    page.goto(f"{live_server}/habilitations/gerer")
    _assert_no_page_scroll(page, "Gérer mes habilitations")
    for memoire_id in (sent, draft):
        page.goto(f"{live_server}/memoires/{memoire_id}")
        _assert_no_page_scroll(page, f"mémoire {memoire_id}")


@VIEWPORTS
def test_greffe_pages_never_scroll_sideways(app, page, live_server, login_page, viewport):
    with app.app_context():
        numero = in_state("A_CONTROLER").numero
    page.set_viewport_size(viewport)
    login_page(page, live_server, GREFFE)
    _assert_no_page_scroll(page, "Accueil")
    for tab in ("Rechercher", "Archives", "Tableau de bord", "Mémoires reçus"):
        _open_tab(page, tab)
        _assert_no_page_scroll(page, tab)
    page.get_by_role("link", name=numero).click()
    expect(page.get_by_role("heading", name=f"Mémoire {numero}")).to_be_visible()
    _assert_no_page_scroll(page, f"mémoire {numero}")


def test_wide_lists_show_their_last_columns_at_1280(page, live_server, login_page):
    page.set_viewport_size(LAPTOP)
    login_page(page, live_server, INTERPRETE)
    _open_tab(page, "Tableau de bord")
    matrix = page.get_by_role("region", name="Mémoires par état")
    paid = matrix.get_by_role("columnheader", name="Mis en paiement")
    expect(paid).to_be_visible()
    assert _right_edge(paid) <= LAPTOP["width"]
    _open_tab(page, "Rechercher")
    actions = page.get_by_role("columnheader", name="Actions", exact=True)
    expect(actions).to_be_visible()
    assert _right_edge(actions) <= LAPTOP["width"]
    _open_tab(page, "Archives")
    assert _right_edge(page.get_by_role("columnheader", name="Actions", exact=True)) <= 1280


def test_greffe_queue_shows_the_attribution_column_at_1280(app, page, live_server, login_page):
    with app.app_context():
        in_state("A_CONTROLER")
    page.set_viewport_size(LAPTOP)
    login_page(page, live_server, GREFFE)
    _open_tab(page, "Mémoires reçus")
    attribution = page.get_by_role("columnheader", name="Attribué à")
    expect(attribution).to_be_visible()
    assert _right_edge(attribution) <= LAPTOP["width"]
    expect(page.get_by_role("cell", name="aujourd'hui").first).to_be_visible()


def test_exactly_one_tab_is_current_on_ma_structure(page, live_server, login_page, axe):
    login_page(page, live_server, INTERPRETE)
    _tabs(page).get_by_role("link", name="Ma structure").click()
    current = _tabs(page).locator("[aria-current='page']")
    expect(current).to_have_count(1)
    expect(current).to_have_text("Ma structure")
    assert axe(page) == []
    page.set_viewport_size(PHONE)
    assert axe(page) == []
