"""« Se connecter », « Se déconnecter », « Mon compte »."""
from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.auth.forms import ChangePasswordForm, LoginForm
from blueprints.auth.resume import take_pending_post
from blueprints.htmx import client_redirect
from extensions import db, limiter
from services import accounts
from services.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

bp = Blueprint("auth", __name__)
log = logging.getLogger("portail.security")

GENERIC_LOGIN_ERROR = "Adresse électronique ou mot de passe incorrect."


def _login_email_key() -> str:
    return "login-email:" + accounts.normalize_email(request.form.get("email", ""))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response) -> bool:
    """Only refused attempts count: a room of webinar attendees behind one address can all log in."""
    return response.status_code >= 400


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_email_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    form = LoginForm()
    message = session.pop("login_message", None)
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.email.data, form.password.data)
        if user is not None:
            pending = session.get("pending_post")
            session.clear()  # a new session on login
            if pending:
                session["pending_post"] = pending
            login_user(user)
            db.session.commit()
            log.info("event=auth.success user=%s", user.id)
            if pending:
                return client_redirect(url_for("auth.resume"))
            return client_redirect(_next_url())
        log.info("event=auth.fail email=%s", form.email.data.encode("unicode_escape").decode())
        form.password.errors.append(GENERIC_LOGIN_ERROR)
    status = 422 if form.errors else 200
    demo = DEMO_ACCOUNTS if current_app.config["DEMO"] else []
    return render_template("auth/login.html", form=form, message=message, demo_accounts=demo,
                           demo_password=DEMO_PASSWORD), status


def _next_url() -> str:
    target = request.args.get("next", "")
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("main.home")


@bp.post("/deconnexion")
@login_required
def logout():
    user = current_user._get_current_object()
    accounts.end_sessions(user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    response = client_redirect(url_for("auth.login"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.get("/reprendre")
@login_required
def resume():
    """Send again the form that was interrupted by an expired session."""
    pending = take_pending_post()
    if not pending:
        return redirect(url_for("main.home"))
    return render_template("auth/resume.html", pending=pending)


@bp.route("/mon-compte", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.new.data,
                                     current_app.config)
        except accounts.PasswordError as exc:
            field = form.current if "actuel" in str(exc) else form.new
            field.errors.append(str(exc))
        else:
            db.session.commit()
            # The password change ended every session, this one included: open a fresh one.
            login_user(current_user._get_current_object())
            flash("Votre mot de passe a été modifié. Vos autres sessions sont fermées.", "success")
            return redirect(url_for("auth.account"), 303)
    status = 422 if form.errors else 200
    return render_template("auth/account.html", form=form), status
