"""Page weight budgets of PERFORMANCE.md §2 for the socle pages."""
from tests.e2e.budget import Wire

FIRST_VISIT_BYTES = 45_000
WARM_VISIT_BYTES = 10_000


def test_login_and_home_first_visit_and_warm_cache_budgets(page, live_server, login_page):
    wire = Wire(page)
    page.goto(f"{live_server}/connexion")
    page.wait_for_load_state("networkidle")
    assert wire.total <= FIRST_VISIT_BYTES, wire.sizes
    assert wire.requests <= 6
    wire.reset()
    page.goto(f"{live_server}/connexion")
    page.wait_for_load_state("networkidle")
    assert wire.total <= WARM_VISIT_BYTES
    assert wire.requests == 1, list(wire.urls.values())
    login_page(page, live_server, "interprete@demo.test")
    wire.reset()
    page.goto(f"{live_server}/")
    page.wait_for_load_state("networkidle")
    assert wire.total <= WARM_VISIT_BYTES and wire.requests == 1
