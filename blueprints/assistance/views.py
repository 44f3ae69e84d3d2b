"""« Assistance »: the support agents' screens (the administrator may use them too).

« Rechercher un compte » (and sending its owner a confirmation or reset link) and « Suivre un
mémoire » (status and history, no money data). Anyone else gets 404, as for Administration.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from blueprints.assistance.forms import AccountSearchForm, MemoireSearchForm
from blueprints.htmx import is_fragment_request, render, toast
from blueprints.inscription.views import links
from extensions import db
from models.organisation import ROLE_ADMIN, ROLE_SUPPORT
from services import assistance

bp = Blueprint("assistance", __name__, url_prefix="/assistance")

ALLOWED_ROLES = (ROLE_SUPPORT, ROLE_ADMIN)


@bp.before_request
@login_required
def _support_only():
    if current_user.role not in ALLOWED_ROLES:
        abort(404)


def _account_page(query: str | None):
    """The search form and, for a valid query, the accounts found (logged as a lookup)."""
    form = AccountSearchForm(formdata=None if query is None else MultiDict({"email": query}))
    result, status = None, 200
    if query is not None:
        if form.validate():
            result = assistance.find_accounts(db.session, form.email.data)
        else:
            status = 422
        assistance.record(current_user, "support.lookup", kind="compte", query=query,
                          found=len(result.accounts) if result else "invalide")
    return render("assistance/accounts.html", "account_search", status, form=form,
                  result=result, query=form.email.data if result else None)


@bp.get("")
def accounts():
    return _account_page(request.args.get("email"))


def _after_action(action, user_id: int):
    """Send the link, then show the search again: in place for htmx, Post/Redirect/Get else."""
    query = request.args.get("email") or None
    try:
        user = action(db.session, current_app.config, links(), current_user, user_id)
    except assistance.AccountNotFound:
        abort(404)
    except assistance.AssistanceError as exc:
        db.session.rollback()
        message, level = str(exc), "error"
    else:
        db.session.commit()
        message, level = (f"Un nouveau lien vient d'être envoyé à {user.email}. Il est valable "
                          "24 heures ; les liens précédents ne fonctionnent plus."), "success"
    if is_fragment_request():
        return toast(_account_page(query), message, level)
    flash(message, level)
    return redirect(url_for("assistance.accounts", email=query), 303)


@bp.post("/comptes/<int:user_id>/lien-de-confirmation")
def resend_confirmation(user_id: int):
    return _after_action(assistance.resend_confirmation, user_id)


@bp.post("/comptes/<int:user_id>/lien-de-reinitialisation")
def send_reset(user_id: int):
    return _after_action(assistance.send_reset, user_id)


@bp.get("/memoires")
def memoire():
    numero = request.args.get("numero")
    form = MemoireSearchForm(formdata=None if numero is None else MultiDict({"numero": numero}))
    summary, searched, status = None, False, 200
    if numero is not None:
        if form.validate():
            searched = True
            summary = assistance.find_memoire(db.session, form.numero.data)
        else:
            status = 422
        assistance.record(current_user, "support.lookup", kind="memoire", query=numero,
                          found=("oui" if summary else "non") if searched else "invalide")
    return render("assistance/memoire.html", "memoire_search", status, form=form,
                  summary=summary, searched=searched)
