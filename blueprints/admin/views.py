"""« Administration » (administrators only; anyone else gets 404): juridictions and their
agents, support agents, users, tariffs, and the outbox of e-mails."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from blueprints.admin.forms import (
    EditTariffForm,
    JuridictionForm,
    RenameForm,
    StaffForm,
    TariffForm,
)
from blueprints.forms import field_error
from blueprints.htmx import client_redirect, render
from blueprints.inscription.views import links
from extensions import db
from models import Juridiction, OutboxMessage, Structure, Tariff, TypePrestation, User
from models.organisation import ROLE_ADMIN, ROLE_AGENT, ROLE_SUPPORT
from services import accounts, administration

bp = Blueprint("admin", __name__, url_prefix="/administration")


@bp.before_request
@login_required
def _admins_only():
    if current_user.role != ROLE_ADMIN:
        abort(404)


def _get(model, object_id):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


@bp.get("")
def index():
    counts = {
        "Juridictions actives": db.session.scalar(
            select(func.count(Juridiction.id)).where(Juridiction.is_active.is_(True))),
        "Utilisateurs": db.session.scalar(select(func.count(User.id))),
        "Structures": db.session.scalar(select(func.count(Structure.id))),
        "Courriels dans la boîte d'envoi": db.session.scalar(select(func.count(OutboxMessage.id))),
    }
    return render("admin/index.html", counts=counts)


# ------------------------------------------------------------------ juridictions

@bp.get("/juridictions")
def juridictions(form=None, status=200):
    q = request.args.get("q", "")[:100]
    return render("admin/juridictions.html", "juridiction_form", status, q=q,
                  rows=administration.search_juridictions(db.session, q),
                  form=form or JuridictionForm(formdata=None))


@bp.post("/juridictions")
def create_juridiction():
    form = JuridictionForm()
    if form.validate_on_submit():
        try:
            juridiction = administration.create_juridiction(
                db.session, form.code.data, form.nom.data, form.departement.data, form.type.data)
        except administration.AdminError as exc:
            db.session.rollback()
            field_error(form, exc, "code")
        else:
            db.session.commit()
            flash(f"La juridiction « {juridiction.label} » est créée.", "success")
            return client_redirect(url_for("admin.juridiction", juridiction_id=juridiction.id))
    return juridictions(form, 422)


def _juridiction_page(juridiction, rename=None, staff=None, status=200, block=None):
    return render("admin/juridiction.html", block, status, juridiction=juridiction,
                  agents=administration.agents(db.session, juridiction),
                  rename=rename or RenameForm(formdata=None, nom=juridiction.nom),
                  staff=staff or StaffForm(formdata=None))


@bp.get("/juridictions/<int:juridiction_id>")
def juridiction(juridiction_id: int):
    return _juridiction_page(_get(Juridiction, juridiction_id))


@bp.post("/juridictions/<int:juridiction_id>")
def rename_juridiction(juridiction_id: int):
    item = _get(Juridiction, juridiction_id)
    form = RenameForm()
    if form.validate_on_submit():
        try:
            administration.rename_juridiction(db.session, item, form.nom.data)
        except administration.AdminError as exc:
            db.session.rollback()
            field_error(form, exc, "nom")
        else:
            db.session.commit()
            flash("La juridiction est renommée.", "success")
            return client_redirect(url_for("admin.juridiction", juridiction_id=item.id))
    return _juridiction_page(item, rename=form, status=422, block="rename_form")


@bp.post("/juridictions/<int:juridiction_id>/<any(activer, desactiver):action>")
def juridiction_action(juridiction_id: int, action: str):
    item = _get(Juridiction, juridiction_id)
    administration.set_juridiction_active(db.session, item, action == "activer")
    db.session.commit()
    flash(f"La juridiction est {'activée' if action == 'activer' else 'désactivée'}.", "success")
    return client_redirect(url_for("admin.juridiction", juridiction_id=item.id))


@bp.post("/juridictions/<int:juridiction_id>/agents")
def create_agent(juridiction_id: int):
    item = _get(Juridiction, juridiction_id)
    form = StaffForm()
    if form.validate_on_submit():
        try:
            agent = administration.create_staff_account(
                db.session, current_app.config, links(), form.email.data, form.full_name.data,
                ROLE_AGENT, item)
        except administration.AdminError as exc:
            db.session.rollback()
            field_error(form, exc, "email")
        else:
            db.session.commit()
            flash(f"Le compte de {agent.full_name} est créé : un lien pour choisir son mot de "
                  "passe lui est envoyé.", "success")
            return client_redirect(url_for("admin.juridiction", juridiction_id=item.id))
    return _juridiction_page(item, staff=form, status=422, block="staff_form")


# ------------------------------------------------------------------ support agents

@bp.route("/support", methods=["GET", "POST"])
def support_agents():
    form = StaffForm(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            agent = administration.create_staff_account(
                db.session, current_app.config, links(), form.email.data, form.full_name.data,
                ROLE_SUPPORT)
        except administration.AdminError as exc:
            db.session.rollback()
            field_error(form, exc, "email")
        else:
            db.session.commit()
            flash(f"Le compte de {agent.full_name} est créé : un lien pour choisir son mot de "
                  "passe lui est envoyé.", "success")
            return client_redirect(url_for("admin.support_agents"))
    return render("admin/support.html", "staff_form", 422 if form.errors else 200, form=form,
                  agents=administration.support_agents(db.session))


# ------------------------------------------------------------------ users

@bp.get("/utilisateurs")
def users():
    q = request.args.get("q", "")[:100]
    rows = administration.search_users(db.session, q)
    shared = {u.id for u in rows if accounts.shared_demo_account(u, current_app.config)}
    return render("admin/users.html", "results", q=q, rows=rows, shared_ids=shared)


@bp.post("/utilisateurs/<int:user_id>/<any(activer, desactiver):action>")
def user_action(user_id: int, action: str):
    user = _get(User, user_id)
    try:
        administration.set_user_enabled(db.session, current_user, user, action == "activer",
                                        current_app.config)
    except administration.AdminError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Le compte de {user.full_name} est "
              f"{'réactivé' if action == 'activer' else 'désactivé : ses sessions sont fermées'}.",
              "success")
    return client_redirect(url_for("admin.users", q=request.args.get("q") or None))


# ------------------------------------------------------------------ tariffs

@bp.get("/tarifs")
def tariffs():
    return render("admin/tariffs.html", types=administration.types_with_tariffs(db.session))


def _tariff_page(type_prestation, form=None, status=200, edit_forms=None, block=None):
    edit_forms = edit_forms or {}
    for tariff in type_prestation.tariffs:
        if tariff.id not in edit_forms:
            edit_forms[tariff.id] = EditTariffForm(formdata=None, prefix=f"t{tariff.id}",
                                                   obj=tariff)
    return render("admin/tariff.html", block, status, type_prestation=type_prestation,
                  form=form or TariffForm(formdata=None), edit_forms=edit_forms)


@bp.get("/tarifs/<type_code>")
def tariff(type_code: str):
    return _tariff_page(_get(TypePrestation, type_code))


@bp.post("/tarifs/<type_code>")
def add_tariff(type_code: str):
    type_prestation = _get(TypePrestation, type_code)
    form = TariffForm()
    if form.validate_on_submit():
        try:
            administration.add_tariff(db.session, type_code, form.amount.data,
                                      form.valid_from.data, form.reference.data, form.note.data)
        except administration.AdminError as exc:
            db.session.rollback()
            field_error(form, exc, "amount")
        else:
            db.session.commit()
            flash("Le nouveau tarif est enregistré ; le précédent est clos la veille de son "
                  "début.", "success")
            return client_redirect(url_for("admin.tariff", type_code=type_code))
    return _tariff_page(type_prestation, form, 422, block="tariff_form")


@bp.post("/tarifs/<type_code>/<int:tariff_id>")
def edit_tariff(type_code: str, tariff_id: int):
    type_prestation = _get(TypePrestation, type_code)
    item = _get(Tariff, tariff_id)
    if item.type_code != type_code:
        abort(404)
    form = EditTariffForm(prefix=f"t{item.id}")
    if form.validate_on_submit():
        try:
            administration.edit_tariff(db.session, item, form.valid_to.data, form.reference.data,
                                       form.note.data)
        except administration.AdminError as exc:
            db.session.rollback()
            field_error(form, exc, "valid_to")
        else:
            db.session.commit()
            flash("Le tarif est modifié.", "success")
            return client_redirect(url_for("admin.tariff", type_code=type_code))
    return _tariff_page(type_prestation, status=422, edit_forms={item.id: form})


# ------------------------------------------------------------------ outbox

@bp.get("/courriels")
def outbox():
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())
                              .limit(200)).all()
    return render("admin/outbox.html", rows=rows)


@bp.get("/courriels/<int:message_id>")
def outbox_message(message_id: int):
    return render("admin/outbox_message.html", message=_get(OutboxMessage, message_id))


