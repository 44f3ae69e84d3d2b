"""« Créer un compte », e-mail confirmation, « Mot de passe oublié », first structure."""
from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    render_template,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user

from blueprints.forms import as_choices, field_error
from blueprints.htmx import client_redirect, render
from blueprints.inscription.forms import (
    ConfirmForm,
    CreateStructureForm,
    ForgotForm,
    JoinStructureForm,
    ResetForm,
    SignupForm,
)
from extensions import db, limiter
from models import CategoriePrestataire
from models.organisation import ROLE_PRESTATAIRE
from services import accounts, habilitations, identifiers, organisation, registration
from services.reference_data import choices

bp = Blueprint("inscription", __name__)
log = logging.getLogger("portail.security")

SENT_MESSAGE = ("Si l'adresse {email} peut recevoir ce message, un courriel vient de lui être "
                "envoyé. Ouvrez le lien qu'il contient (valable 24 heures).")


def _rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def links() -> registration.Links:
    return registration.Links(
        confirm=lambda token: url_for("inscription.confirm", token=token, _external=True),
        reset=lambda token: url_for("inscription.reset", token=token, _external=True),
        forgot=url_for("inscription.forgot", _external=True),
        login=url_for("auth.login", _external=True),
    )


@bp.route("/inscription", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            registration.sign_up(db.session, current_app.config, links(), form.email.data,
                                 form.full_name.data, form.password.data)
        except accounts.PasswordError as exc:
            form.password.errors.append(str(exc))
        else:
            db.session.commit()
            session["sent_to"] = accounts.normalize_email(form.email.data)
            return client_redirect(url_for("inscription.sent", motif="inscription"))
    return render("inscription/signup.html", "form", 422 if form.errors else 200, form=form)


@bp.get("/inscription/message-envoye")
def sent():
    email = session.get("sent_to", "indiquée")
    return render_template("inscription/sent.html", message=SENT_MESSAGE.format(email=email))


@bp.route("/inscription/confirmer/<token>", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def confirm(token: str):
    """GET only shows a button: mail scanners that open links must not use the token."""
    form = ConfirmForm()
    try:
        registration.find_token(db.session, token, "confirmation")
    except registration.TokenError as exc:
        return render_template("inscription/invalid_link.html", message=str(exc)), 410
    if form.validate_on_submit():
        try:
            user = registration.confirm_email(db.session, token)
        except registration.TokenError as exc:
            db.session.rollback()
            return render_template("inscription/invalid_link.html", message=str(exc)), 410
        db.session.commit()
        session.clear()
        login_user(user)
        log.info("event=auth.email_confirmed user=%s", user.id)
        flash("Votre adresse est confirmée. Rattachez-vous maintenant à une structure.", "success")
        return client_redirect(url_for("inscription.structure"))
    return render_template("inscription/confirm.html", form=form, token=token)


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        registration.request_reset(db.session, current_app.config, links(), form.email.data)
        db.session.commit()
        session["sent_to"] = accounts.normalize_email(form.email.data)
        return client_redirect(url_for("inscription.sent", motif="mot-de-passe"))
    return render("inscription/forgot.html", "form", 422 if form.errors else 200, form=form)


@bp.route("/mot-de-passe-oublie/<token>", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def reset(token: str):
    form = ResetForm()
    try:
        registration.find_token(db.session, token, "reinitialisation")
    except registration.TokenError as exc:
        return render_template("inscription/invalid_link.html", message=str(exc)), 410
    if form.validate_on_submit():
        try:
            user = registration.reset_password(db.session, token, form.password.data)
        except accounts.PasswordError as exc:
            form.password.errors.append(str(exc))
        except registration.TokenError as exc:
            db.session.rollback()
            return render_template("inscription/invalid_link.html", message=str(exc)), 410
        else:
            db.session.commit()
            log.info("event=auth.password_reset user=%s", user.id)
            session.clear()
            flash("Votre mot de passe a été modifié. Toutes vos sessions ont été fermées : "
                  "connectez-vous.", "success")
            return client_redirect(url_for("auth.login"))
    return render("inscription/reset.html", "form", 422 if form.errors else 200,
                  form=form, token=token)


# ------------------------------------------------------------------ first structure

def _structure_forms(create=None, join=None):
    create = create or CreateStructureForm(prefix="creer", meta={"csrf": False})
    join = join or JoinStructureForm(prefix="rejoindre", meta={"csrf": False})
    create.pays.choices = as_choices(identifiers.countries())
    if not create.pays.data:
        create.pays.data = "FR"
    create.categorie_code.choices = as_choices(
        [("", "— Choisir —")] + choices(db.session, CategoriePrestataire))
    return create, join


def _provider_only():
    if current_user.role != ROLE_PRESTATAIRE:
        abort(404)


@bp.get("/inscription/structure")
@login_required
def structure():
    _provider_only()
    create, join = _structure_forms()
    return render_template("inscription/structure.html", create=create, join=join)


@bp.post("/inscription/structure/creer")
@login_required
def create_structure():
    _provider_only()
    create, join = _structure_forms(create=CreateStructureForm(prefix="creer", meta={"csrf": False}))
    if create.validate_on_submit():
        try:
            created = organisation.create_structure(
                db.session, current_user, identifier_type=create.identifier_type.data,
                identifier=create.identifier.data, raison_sociale=create.raison_sociale.data,
                pays=create.pays.data, categorie_code=create.categorie_code.data or None,
                regime=create.regime.data or None)
        except organisation.OrganisationError as exc:
            db.session.rollback()
            field_error(create, exc, "identifier")
        else:
            db.session.commit()
            flash(f"La structure « {created.raison_sociale} » est créée : vous en êtes le "
                  "gestionnaire.", "success")
            return client_redirect(url_for("organisation.show", structure_id=created.id))
    return render("inscription/structure.html", "create_form", 422, create=create, join=join)


@bp.post("/inscription/structure/rejoindre")
@login_required
def join_structure():
    _provider_only()
    create, join = _structure_forms(join=JoinStructureForm(prefix="rejoindre", meta={"csrf": False}))
    if join.validate_on_submit():
        try:
            habilitations.request_profile_by_identifier(
                db.session, current_app.config, current_user, join.identifier_type.data,
                join.identifier.data, join.service_code.data, join.profile.data,
                manage_url=lambda: url_for("organisation.manage_habilitations", _external=True))
        except (organisation.OrganisationError, habilitations.HabilitationError) as exc:
            db.session.rollback()
            field_error(join, exc, "identifier")
        else:
            db.session.commit()
            flash("Votre demande est envoyée au gestionnaire de la structure. Vous aurez accès "
                  "à ses mémoires dès qu'il l'aura accordée.", "success")
            return client_redirect(url_for("organisation.habilitations"))
    return render("inscription/structure.html", "join_form", 422, create=create, join=join)
