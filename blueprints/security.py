"""What every request and response goes through: sessions, headers, errors, static files.

SECURITY.md items: session version and inactivity timeout (#9, #10), headers and CSP (#43, #44),
no-store on authenticated pages (#12), Sec-Fetch-Site (#23), generic error pages (#42),
authorization failures logged (#18).
"""
from __future__ import annotations

import logging
import secrets
import time

from flask import (
    Flask,
    current_app,
    make_response,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf
from jinja2 import StrictUndefined
from werkzeug.exceptions import Forbidden as HTTPForbidden
from werkzeug.exceptions import HTTPException, NotFound

from blueprints.htmx import client_redirect, no_swap, toast, trigger
from extensions import db, login_manager
from services import formatting, permissions

log = logging.getLogger("portail.security")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}

ERROR_MESSAGES = {
    400: ("Requête invalide", "La demande n'a pas pu être traitée."),
    401: ("Connexion requise", "Connectez-vous pour accéder à cette page."),
    403: ("Accès refusé", "Vous n'avez pas les droits nécessaires pour cette action."),
    404: ("Page introuvable", "Cette page n'existe pas ou vous n'y avez pas accès."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible ici."),
    409: ("Conflit", "Cette donnée a été modifiée entre-temps. Rechargez la page."),
    413: ("Envoi trop volumineux", "Le fichier ou le formulaire envoyé est trop volumineux."),
    422: ("Données invalides", "Corrigez les champs signalés."),
    429: ("Trop de tentatives", "Trop de tentatives. Patientez une minute avant de réessayer."),
    500: ("Erreur du serveur", "Une erreur inattendue est survenue. Réessayez plus tard."),
}


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.session_protection = None  # session versions do the job, without IP pinning

    # First of all, before CSRFProtect reads the form.
    app.before_request_funcs.setdefault(None, []).insert(0, _limit_plain_bodies)
    app.before_request(_reject_cross_site_writes)
    app.before_request(_enforce_inactivity_timeout)
    app.after_request(_security_headers)

    for code in ERROR_MESSAGES:
        app.register_error_handler(code, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(permissions.NotFound, _not_found)
    app.register_error_handler(permissions.Forbidden, _forbidden)
    app.register_error_handler(Exception, _unexpected_error)

    if app.config.get("TESTING"):
        app.jinja_env.undefined = StrictUndefined
    app.jinja_env.globals.update(csrf_token=generate_csrf)
    app.jinja_env.filters.update(
        amount=formatting.amount, money=formatting.money, number=formatting.number,
        day=formatting.day, long_day=formatting.long_day, moment=formatting.moment,
        nonbreaking=formatting.nonbreaking,
    )


# ---------------------------------------------------------------- sessions

def _load_user(user_id: str):
    from models import User

    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except ValueError:
        return None
    user = db.session.get(User, uid)
    # Logout, a password change or a disabled account bump or block the session version.
    if user is None or not user.is_enabled or user.session_version != version:
        return None
    return user


def _enforce_inactivity_timeout():
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    last_seen = session.get("last_seen", now)
    limit = int(current_app.config["INACTIVITY_TIMEOUT"].total_seconds())
    if now - last_seen > limit:
        logout_user()
        session.clear()
        return _unauthorized(expired=True)
    if now - last_seen > 60 or "last_seen" not in session:  # rewrite the cookie at most once a minute
        session["last_seen"] = now
    return None


def _unauthorized(expired: bool = False):
    """Send the user to the login page, keeping any form they were sending."""
    from blueprints.auth.resume import keep_pending_post

    if request.method in MUTATING:
        keep_pending_post()
    message = "Votre session a expiré : reconnectez-vous." if expired else None
    if message:
        session["login_message"] = message
    return client_redirect(url_for("auth.login", next=_safe_next()))


def _safe_next() -> str | None:
    if request.method in MUTATING:
        return None
    path = request.full_path.rstrip("?")
    return path if path.startswith("/") and not path.startswith("//") else None


def _limit_plain_bodies():
    """Only file uploads may be large: other bodies stay under the form memory limit."""
    if request.mimetype != "multipart/form-data":
        request.max_content_length = current_app.config["MAX_FORM_MEMORY_SIZE"]


def _reject_cross_site_writes():
    if request.method in MUTATING and request.headers.get("Sec-Fetch-Site") == "cross-site":
        return _error_response(403)
    return None


# ---------------------------------------------------------------- headers

def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if current_app.config["SECURE_COOKIES"]:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    if request.endpoint != "static":
        if current_user.is_authenticated or "Set-Cookie" in headers:
            headers["Cache-Control"] = "no-store"
        else:
            headers.setdefault("Cache-Control", "no-cache")
    if request.htmx or response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response


# ---------------------------------------------------------------- errors

def _error_response(code: int, message: str | None = None, extra: dict | None = None):
    title, default = ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])
    text = message or default
    if request.htmx:
        # htmx does not swap error pages: a toast says what happened, the page stays as it is.
        response = make_response("", code)
        toast(no_swap(response), text, "error")
        return response
    context = {"code": code, "title": title, "message": text, **(extra or {})}
    return make_response(render_template("errors/error.html", **context), code)


def _http_error(exc: HTTPException):
    code = exc.code or 500
    if code in (403, 404) and current_user.is_authenticated:
        log.info("event=authz.denied user=%s path=%s status=%s", current_user.id,
                 _escape(request.path), code)
    return _error_response(code, _custom_description(exc))


def _custom_description(exc: HTTPException) -> str | None:
    """Keep a French description given by our own abort(); drop Werkzeug's English defaults."""
    description = getattr(exc, "description", None)
    default = type(exc).description if hasattr(type(exc), "description") else None
    if description and description != default and not description.isascii():
        return description
    return None


def _not_found(exc: permissions.NotFound):
    """A foreign object is simply not found: its existence is not told."""
    db.session.rollback()
    return _http_error(NotFound())


def _forbidden(exc: permissions.Forbidden):
    db.session.rollback()
    message = exc.args[0] if exc.args and isinstance(exc.args[0], str) else None
    return _http_error(HTTPForbidden(description=message))


def _csrf_error(exc: CSRFError):
    """An expired or missing token: nothing typed is lost, the user sends again."""
    log.info("event=csrf.fail path=%s", _escape(request.path))
    message = "Le formulaire a expiré. Vos données sont conservées : renvoyez-le."
    if request.htmx:
        response = make_response("", 400)
        # The page refreshes its token (static/app.js); the user just clicks again.
        trigger(toast(no_swap(response), message, "error"), "csrf-token", generate_csrf())
        return response
    from blueprints.auth.resume import form_fields

    return _error_response(400, message, {
        "resubmit_url": request.path, "resubmit_fields": form_fields(),
    })


def _unexpected_error(exc: Exception):
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    error_id = secrets.token_hex(4)
    log.exception("event=error.unexpected id=%s path=%s", error_id, _escape(request.path))
    db.session.rollback()
    return _error_response(500, f"Une erreur inattendue est survenue (référence {error_id}).")


def _escape(value: str) -> str:
    return value.encode("unicode_escape").decode("ascii")
