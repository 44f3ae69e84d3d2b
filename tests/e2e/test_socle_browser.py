"""The socle in real Chromium: log in and out with the demo accounts, JS on and off, accessibility."""
import pytest
from playwright.sync_api import expect

PROVIDER_TABS_WITHOUT_SCREENS = ["Dépôt flux"]


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_provider_logs_in_sees_navigation_and_logs_out(request, live_server, login_page, js):
    page = request.getfixturevalue("page" if js else "nojs_page")
    login_page(page, live_server, "interprete@demo.test")
    expect(page.get_by_role("heading", name="Bonjour Claire Lefèvre")).to_be_visible()
    nav = page.get_by_role("navigation", name="Frais de justice")
    expect(nav.get_by_role("link", name="Mon compte")).to_be_visible()
    for missing in PROVIDER_TABS_WITHOUT_SCREENS:
        expect(nav.get_by_role("link", name=missing)).to_have_count(0)
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/connexion?next=/")


def test_wrong_password_shows_generic_message_next_to_field(page, live_server):
    page.goto(f"{live_server}/connexion")
    page.get_by_label("Adresse électronique").fill("interprete@demo.test")
    page.get_by_label("Mot de passe").fill("pas le bon mot de passe")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_text("Adresse électronique ou mot de passe incorrect.")).to_be_visible()
    expect(page.get_by_label("Adresse électronique")).to_have_value("interprete@demo.test")


@pytest.mark.parametrize("email", ["interprete@demo.test", "greffe@demo.test", "admin@demo.test"])
def test_login_and_home_pages_have_no_accessibility_violations(page, live_server, login_page, axe,
                                                               email):
    page.goto(f"{live_server}/connexion")
    assert axe(page) == []
    login_page(page, live_server, email)
    assert axe(page) == []
    page.goto(f"{live_server}/mon-compte")
    assert axe(page) == []


def test_accessibility_audit_catches_an_unlabelled_input(page, live_server, axe):
    """Canary: if axe stopped working, every audit above would pass silently."""
    page.goto(f"{live_server}/connexion")
    page.evaluate("() => { const i = document.createElement('input'); i.type = 'text';"
                  " document.querySelector('main').appendChild(i); }")
    assert any(v["id"] == "label" for v in axe(page))


HOSTILE_FRAGMENT = (
    '<div id="recu">'
    "<script>window.parScript = 1</script>"
    '<button type="button" hx-on:click="window.parHxOn = 1">hx-on</button>'
    '<img alt="" src="data:," onerror="window.parAttribut = 1" onload="window.parAttribut = 1">'
    "</div>"
)


@pytest.fixture
def hostile_routes(app):
    """A page that swaps in a fragment full of script attempts (SECURITY.md #41)."""
    from flask import render_template_string

    @app.get("/essai/scripts")
    def hostile_page():
        return render_template_string(
            '{% extends "base.html" %}{% block content %}'
            '<button type="button" hx-get="/essai/fragment" hx-target="#cible">Charger</button>'
            '<div id="cible"></div>{% endblock %}')

    @app.get("/essai/fragment")
    def hostile_fragment():
        return HOSTILE_FRAGMENT


def test_scripts_in_a_swapped_fragment_never_run(hostile_routes, live_server, browser):
    """htmx allowScriptTags/allowEval off and the CSP: nothing from a fragment executes."""
    page = browser.new_context().new_page()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"{live_server}/essai/scripts")
    page.get_by_role("button", name="Charger").click()
    expect(page.get_by_role("button", name="hx-on")).to_be_visible()
    page.get_by_role("button", name="hx-on").click()
    page.wait_for_timeout(300)
    ran = page.evaluate("[window.parScript, window.parHxOn, window.parAttribut]")
    assert ran == [None, None, None]
    assert any("inline event handler" in text for text in violations), violations
    page.context.close()
