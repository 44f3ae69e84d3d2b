"""The access matrix (SECURITY.md #13, #14, #20): every route that takes an object id, called
with the objects of another structure, answers 404 and changes nothing; with a consultation
profile, every write answers 403 (or 404 where only the gestionnaire may act) and changes nothing.

Routes are read from app.url_map, so a new route is covered as soon as it exists: if one takes
a parameter this file cannot fill, the test fails and names it.
"""
from __future__ import annotations

import hashlib
import re
from itertools import product

from sqlalchemy import select, text

from extensions import db
from models import (
    Attachment, Habilitation, Juridiction, Memoire, OutboxMessage, Structure, Tariff, User,
)
from models.lifecycle import Notification
from services import lifecycle, storage
from services.demo import rib_pdf

# Routes that take a parameter but no object: public links and static files.
PUBLIC = {"static", "inscription.confirm", "inscription.reset"}
# Only the structure's gestionnaire (or the owner) acts there: others do not see the object.
GESTIONNAIRE_ONLY = {"organisation.decide", "organisation.remove", "organisation.withdraw"}


def _structure_objects(app, identifier: str, owner_email: str, draft_only: bool = False):
    """Candidate values per URL parameter, all belonging to one structure."""
    with app.app_context():
        session = db.session
        structure = session.scalar(select(Structure).where(Structure.identifier == identifier))
        owner = session.scalar(select(User).where(User.email == owner_email))
        stored = storage.store(session, rib_pdf("Y", "FR76", "BIC"), "application/pdf")
        document = Attachment(structure_id=structure.id, sha256=stored.sha256,
                              filename="doc.pdf", designation="Document de test",
                              type_code="AUTRE", extension="pdf", uploaded_by_id=owner.id)
        session.add(document)
        message = OutboxMessage(recipient=owner.email, subject="Test", body="Corps")
        session.add(message)
        notification = Notification(user_id=owner.id, kind="message", text="Test")
        session.add(notification)
        session.commit()
        memoires = session.scalars(select(Memoire).where(Memoire.structure_id == structure.id)
                                   .order_by(Memoire.id)).all()
        if draft_only:
            memoires = [m for m in memoires if m.status in lifecycle.EDITABLE]
        assert memoires, "the demo data gives this structure mémoires"
        values = {
            "structure_id": [structure.id],
            "service_id": [s.id for s in structure.services],
            "account_id": [a.id for a in structure.bank_accounts],
            "document_id": [document.id],
            "habilitation_id": list(session.scalars(select(Habilitation.id).where(
                Habilitation.structure_id == structure.id))),
            "memoire_id": [m.id for m in memoires],
            "attachment_id": [document.id] + list(session.scalars(select(Attachment.id).where(
                Attachment.memoire_id.in_([m.id for m in memoires])))),
            "juridiction_id": [session.scalar(select(Juridiction.id).where(
                Juridiction.code == "tj69123"))],
            "user_id": [owner.id],
            "type_code": ["TRAD_ORALE"],
            "tariff_id": [session.scalar(select(Tariff.id).where(Tariff.type_code == "TRAD_ORALE"))],
            "message_id": [message.id],
            "notification_id": [notification.id],
        }
        lines = {m.id: [line.id for line in m.lines] for m in memoires}
        for key, found in values.items():
            assert found and all(v is not None for v in found), f"no object for {key}"
        return values, lines


def _options(rule, name):
    match = re.search(r"<any\(([^)]*)\):" + name + ">", rule.rule)
    return [o.strip() for o in match.group(1).split(",")] if match else None


def _urls(app, values, lines, endpoints=None):
    """(endpoint, method, url) for every rule with parameters, filled with the given objects."""
    calls, unknown = [], set()
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if not rule.arguments or rule.endpoint in PUBLIC:
                continue
            if endpoints and not endpoints(rule.endpoint):
                continue
            choices = {}
            for name in rule.arguments:
                if name == "line_id":
                    continue
                options = _options(rule, name)
                if options:
                    choices[name] = options
                elif name in values:
                    choices[name] = values[name]
                else:
                    unknown.add(f"{rule.endpoint}:{name}")
            if any(f"{rule.endpoint}:" in u for u in unknown):
                continue
            names = list(choices)
            for combo in product(*(choices[n] for n in names)):
                args = dict(zip(names, combo))
                if "line_id" in rule.arguments:
                    memoire_lines = lines.get(args.get("memoire_id"), [])
                    if not memoire_lines:
                        continue
                    args["line_id"] = memoire_lines[0]
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    calls.append((rule.endpoint, method, url_for(rule.endpoint, **args)))
    assert not unknown, f"Paramètres sans objet de test : {sorted(unknown)}"
    return calls


def _snapshot(app) -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            order = ", ".join(c.name for c in table.primary_key.columns) or "1"
            for row in db.session.execute(text(f"SELECT * FROM {table.name} ORDER BY {order}")):
                digest.update(repr((table.name, tuple(row))).encode())
        db.session.remove()
    return digest.hexdigest()


def test_objects_of_another_structure_answer_404_and_nothing_changes(app, client, login_as):
    values, lines = _structure_objects(app, "84256791900019", "expert@demo.test")
    calls = _urls(app, values, lines)
    assert len(calls) > 40
    login_as("interprete@demo.test")
    before = _snapshot(app)
    wrong = []
    for endpoint, method, url in calls:
        response = client.open(url, method=method, data={})
        if response.status_code == 404:
            continue
        wrong.append((endpoint, method, url, response.status_code))
    assert not wrong, wrong
    assert _snapshot(app) == before


def test_htmx_requests_on_foreign_objects_get_404_too(app, client, login_as):
    values, lines = _structure_objects(app, "84256791900019", "expert@demo.test")
    login_as("interprete@demo.test")
    for endpoint, method, url in _urls(app, values, lines)[:60]:
        response = client.open(url, method=method, data={}, headers={"HX-Request": "true"})
        assert response.status_code == 404, (endpoint, method, url)


def _is_provider_write_area(endpoint: str) -> bool:
    return endpoint.split(".")[0] in {"organisation", "saisie", "pieces", "envoi"}


def test_consultation_profile_cannot_write_anything(app, client, login_as):
    values, lines = _structure_objects(app, "81234567600017", "interprete@demo.test",
                                       draft_only=True)
    # A user may always give up their own profile (organisation.withdraw): not a write on X.
    calls = [c for c in _urls(app, values, lines, _is_provider_write_area)
             if c[1] == "POST" and c[0] != "organisation.withdraw"]
    login_as("consultation@demo.test")
    before = _snapshot(app)
    wrong = []
    for endpoint, method, url in calls:
        response = client.open(url, method=method, data={})
        expected = {404} if endpoint in GESTIONNAIRE_ONLY else {403}
        if endpoint.startswith("organisation.") and response.status_code not in expected:
            wrong.append((endpoint, url, response.status_code))
        elif response.status_code not in (403, 404):
            wrong.append((endpoint, url, response.status_code))
    assert not wrong, wrong
    assert _snapshot(app) == before


def test_consultation_profile_reads(app, client, login_as):
    values, lines = _structure_objects(app, "81234567600017", "interprete@demo.test")
    gets = [c for c in _urls(app, values, lines, lambda e: e.startswith("organisation."))
            if c[1] == "GET" and "nouvelle" not in c[2]]
    login_as("consultation@demo.test")
    for endpoint, _, url in gets:
        assert client.get(url).status_code == 200, (endpoint, url)


def test_get_requests_change_nothing(app, client, login_as):
    """No state change on GET (SECURITY.md #20), on one's own objects either (this area)."""
    values, lines = _structure_objects(app, "81234567600017", "interprete@demo.test")
    mine = ("organisation.", "inscription.", "admin.")
    gets = [c for c in _urls(app, values, lines, lambda e: e.startswith(mine)) if c[1] == "GET"]
    login_as("interprete@demo.test")
    before = _snapshot(app)
    for _, _, url in gets:
        client.get(url)
    assert _snapshot(app) == before
