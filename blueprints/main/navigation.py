"""The tabs of the « Frais de justice » space, by role. A tab shows only once its screen exists."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for

P, A, S, ADM = "prestataire", "agent", "support", "admin"

# (label, endpoint, roles): in the webinar's order for providers.
TABS = [
    ("Synthèse", "suivi.synthese", {P}),
    ("Rechercher", "suivi.search", {P, A}),
    ("Saisir mémoire", "saisie.new", {P}),
    ("Dépôt flux", "flux.index", {P}),
    ("Liste fiscale", "suivi.fiscal", {P}),
    ("Tableau de bord", "suivi.dashboard", {P, A}),
    ("Archives", "suivi.archives", {P, A}),
    ("Mémoires reçus", "juridiction.queue", {A}),
    ("Ma structure", "organisation.structure", {P}),
    ("Mes habilitations", "organisation.habilitations", {P}),
    ("Administration", "admin.index", {ADM}),
    ("Tickets", "support.index", {P, A, S}),
    ("Mon compte", "auth.account", {P, A, S, ADM}),
]


@dataclass(frozen=True)
class Tab:
    label: str
    url: str
    current: bool


def has_endpoint(endpoint: str) -> bool:
    return endpoint in current_app.view_functions


def navigation_for(role: str) -> list[Tab]:
    tabs = []
    for label, endpoint, roles in TABS:
        if role in roles and has_endpoint(endpoint):
            blueprint = endpoint.split(".")[0]
            current = request.endpoint == endpoint or (
                request.blueprint == blueprint and blueprint not in ("auth", "suivi")
            )
            tabs.append(Tab(label, url_for(endpoint), current))
    return tabs
