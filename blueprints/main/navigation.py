"""The tabs of the « Frais de justice » space, by role. A tab shows only once its screen exists."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g, request, url_for
from flask_login import current_user

from extensions import db
from services import permissions
from services.permissions import READ, WRITE

P, A, S, ADM = "prestataire", "agent", "support", "admin"

# (label, endpoint, roles, need): in the webinar's order for providers. `need` is the right a
# provider must hold on some structure for the tab to make sense (WRITE: a profile
# « modification », READ: any profile); None for every tab of the other roles.
TABS = [
    ("Mémoires reçus", "juridiction.queue", {A}, None),  # an agent's working tab comes first
    ("Synthèse", "suivi.synthese", {P}, READ),
    ("Rechercher", "suivi.search", {P, A}, READ),
    ("Saisir mémoire", "saisie.new", {P}, WRITE),
    ("Dépôt flux", "flux.index", {P}, WRITE),
    ("Liste fiscale", "suivi.fiscal", {P}, READ),
    ("Tableau de bord", "suivi.dashboard", {P, A}, READ),
    ("Archives", "suivi.archives", {P, A}, READ),
    ("Ma structure", "organisation.structure", {P}, None),
    ("Mes habilitations", "organisation.habilitations", {P}, None),
    ("Administration", "admin.index", {ADM}, None),
    ("Assistance", "assistance.accounts", {S, ADM}, None),
    ("Tickets", "support.index", {P, A, S}, None),
    ("Mon compte", "auth.account", {P, A, S, ADM}, None),
]


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    current: bool


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def can_write_somewhere() -> bool:
    """A provider holding « modification » on a structure: « Saisir un nouveau mémoire » makes sense."""
    return (current_user.is_authenticated and current_user.role == P
            and WRITE in _provider_rights())


def _provider_rights() -> set[str]:
    """READ if the provider holds a profile on a structure, WRITE if « modification » on one;
    asked once per request (the tabs and the page's buttons both need it)."""
    if "provider_rights" not in g:
        if permissions.structures(db.session, current_user, WRITE):
            g.provider_rights = {READ, WRITE}
        elif permissions.structures(db.session, current_user, READ):
            g.provider_rights = {READ}
        else:
            g.provider_rights = set()
    return g.provider_rights


def _current_index(urls: list[str]) -> int | None:
    """The tab whose URL is the longest prefix of the path (« /structure/3/documents » belongs
    to « Ma structure »; « /memoires/3 » to no tab)."""
    path = request.path.rstrip("/") + "/"
    best, best_length = None, 0
    for index, url in enumerate(urls):
        prefix = url.rstrip("/") + "/"
        if path == prefix:
            return index
        if len(prefix) > 1 and path.startswith(prefix) and len(prefix) > best_length:
            best, best_length = index, len(prefix)
    return best


def navigation_for(role: str) -> list[Tab]:
    """The tabs this user may use; one at most is current: the tab of this endpoint, else the
    tab of the longest URL prefix."""
    rights = _provider_rights() if role == P and current_user.is_authenticated else None
    shown = [(label, endpoint) for label, endpoint, roles, need in TABS
             if role in roles and has_endpoint(endpoint)
             and (need is None or rights is None or need in rights)]
    urls = [url_for(endpoint) for _, endpoint in shown]
    exact = [i for i, (_, endpoint) in enumerate(shown) if endpoint == request.endpoint]
    current = exact[0] if exact else _current_index(urls)
    return [Tab(label, url, index == current) for index, ((label, _), url)
            in enumerate(zip(shown, urls))]
