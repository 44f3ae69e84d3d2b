"""Browser harness: Debian's Chromium driven by Playwright, a fresh app per test on a free
loopback port, JS on (`page`) and off (`nojs_page`), an axe-core audit, CSP/JS error watch."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from services.demo import DEMO_PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _chromium_available():
    if not Path(CHROMIUM).exists():
        message = f"Chromium introuvable ({CHROMIUM}) : apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must never skip the browser tests
        pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"],
    }


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


class PageErrors(list):
    """JavaScript exceptions and CSP violations seen by a page: must stay empty."""

    def watch(self, page):
        page.on("pageerror", lambda exc: self.append(f"pageerror: {exc}"))
        page.on("console", self._console)
        return page

    def _console(self, message):
        text = message.text
        if message.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.append(f"console: {text}")


@pytest.fixture
def page_errors():
    errors = PageErrors()
    yield errors
    assert not errors, f"Erreurs dans le navigateur : {list(errors)}"


@pytest.fixture
def page(page, page_errors):
    page.set_default_timeout(10_000)
    return page_errors.watch(page)


@pytest.fixture
def nojs_page(browser, page_errors):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page_errors.watch(page)
    yield page
    context.close()


def login(page, base_url: str, email: str, password: str = DEMO_PASSWORD):
    page.goto(f"{base_url}/connexion")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/connexion" not in url)


@pytest.fixture
def login_page():
    return login


def axe_violations(page, context: str | None = None) -> list[dict]:
    """Run axe-core (WCAG 2.1 A/AA) on the page, or on a CSS selector; injected with evaluate
    because the CSP blocks added script tags."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """([context, tags]) => axe.run(context ? document.querySelector(context) : document,
                {runOnly: {type: 'tag', values: tags}})""",
        [context, AXE_TAGS],
    )
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["html"][:200] for n in v["nodes"]]}
        for v in result["violations"]
    ]


@pytest.fixture
def axe():
    return axe_violations
