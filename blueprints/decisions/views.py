"""Provider-side lifecycle actions on a refused mémoire (« Abandonner », « Dupliquer »), the
« Suivi du mémoire » page (status, history, refusal), and the template globals used by the
lifecycle panel (templates/lifecycle/_panel.html)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, url_for
from flask_login import current_user, login_required

from blueprints.htmx import client_redirect, render
from blueprints.juridiction.forms import VersionForm
from blueprints.main.navigation import has_endpoint
from extensions import db
from models import Certificate, Memoire
from models.organisation import ROLE_AGENT
from services import decisions, lifecycle, permissions

bp = Blueprint("decisions", __name__)


# ---------------------------------------------------------------- template globals

@bp.app_template_global()
def lifecycle_refusal(memoire: Memoire):
    return decisions.refusal(memoire)


@bp.app_template_global()
def lifecycle_label(status: str | None) -> str:
    return lifecycle.label(status)


@bp.app_template_global()
def lifecycle_state_label(status: str | None, step: str | None) -> str:
    return lifecycle.state_label(status, step)


@bp.app_template_global()
def amount_modified(memoire: Memoire) -> bool:
    return decisions.amount_modified(memoire)


@bp.app_template_global()
def refusal_label(code: str) -> str:
    found = decisions.reason(code)
    return found.libelle if found else code


@bp.app_template_global()
def memoire_by_id(memoire_id: int) -> Memoire | None:
    try:
        return permissions.get_memoire(db.session, current_user, memoire_id)
    except permissions.NotFound:
        return None


@bp.app_template_global()
def duplicates_of(memoire: Memoire) -> list[Memoire]:
    """The mémoires duplicated from this one that the user may see."""
    return list(db.session.scalars(
        permissions.visible_memoires(db.session, current_user)
        .where(Memoire.duplicated_from_id == memoire.id).order_by(Memoire.id)))


@bp.app_template_global()
def certificate_of(memoire: Memoire) -> Certificate | None:
    """The certificat de dépôt of a sent mémoire (the panel links to it again after sending)."""
    return db.session.get(Certificate, memoire.id) if memoire.numero_mj else None


@bp.app_template_global()
def memoire_link(memoire: Memoire) -> str:
    """The page of a mémoire for this user: the back office for an agent, else the mémoire page."""
    if current_user.role == ROLE_AGENT and has_endpoint("juridiction.memoire"):
        return url_for("juridiction.memoire", memoire_id=memoire.id)
    if has_endpoint("saisie.show"):
        return url_for("saisie.show", memoire_id=memoire.id)
    return url_for("decisions.history", memoire_id=memoire.id)


@bp.app_template_global()
def has_messages_endpoint() -> bool:
    return has_endpoint("messages.thread")


# ---------------------------------------------------------------- pages and actions

def _memoire(memoire_id: int, right: str = permissions.READ) -> Memoire:
    return permissions.get_memoire(db.session, current_user, memoire_id, right)


@bp.get("/memoires/<int:memoire_id>/suivi")
@login_required
def history(memoire_id: int):
    memoire = _memoire(memoire_id)
    can_write = current_user.role != ROLE_AGENT and permissions.can(
        db.session, current_user, memoire.structure_id, permissions.WRITE)
    return render("decisions/history.html", memoire=memoire, can_write=can_write)


def _act(memoire_id: int, call, success):
    if current_user.role == ROLE_AGENT:
        abort(403)
    memoire = _memoire(memoire_id, permissions.WRITE)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = call(memoire, form.expected_version)
    except lifecycle.ConflictError as exc:
        db.session.rollback()
        abort(409, description=str(exc))
    except lifecycle.TransitionError as exc:
        db.session.rollback()
        abort(403, description=str(exc))
    except permissions.Forbidden:
        db.session.rollback()
        abort(403)
    db.session.commit()
    message, target = success(memoire, result)
    flash(message, "success")
    return client_redirect(target)


@bp.post("/memoires/<int:memoire_id>/abandonner")
@login_required
def abandon(memoire_id: int):
    return _act(memoire_id, lambda m, v: decisions.abandon(
        db.session, current_user, m, v, current_app.config),
        lambda m, _: (f"Le mémoire {m.numero} est abandonné.", memoire_link(m)))


@bp.post("/memoires/<int:memoire_id>/dupliquer-apres-refus")
@login_required
def duplicate_after_refusal(memoire_id: int):
    return _act(memoire_id, lambda m, v: decisions.duplicate_after_refusal(
        db.session, current_user, m, v, current_app.config),
        lambda m, copy: (f"Le mémoire {m.numero} est dupliqué : corrigez le nouveau mémoire "
                         f"{copy.numero} puis envoyez-le.", memoire_link(copy)))
