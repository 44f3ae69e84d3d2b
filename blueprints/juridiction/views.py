"""Back office of a juridiction (its agents only): « Mémoires reçus » and the mémoire page
with its checklist and the decisions « Refuser », « Certifier », « Mettre en paiement »,
batch certification and assignment. A mémoire of another juridiction is not found (404);
a user who is not an agent gets 403 (404 for a mémoire they cannot see at all).
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import exists, func, or_, select

from blueprints.htmx import client_redirect, render
from blueprints.juridiction.forms import (
    AssignForm,
    BatchForm,
    CertifyForm,
    PayForm,
    QueueFilterForm,
    RefuseForm,
)
from extensions import db
from models import Memoire, PrestationLine, Structure, TypePrestation
from models.organisation import ROLE_AGENT, VAT_TYPES
from services import control, decisions, lifecycle, permissions
from services.formatting import amount
from services.memoires import amounts
from services.reference_data import choices

bp = Blueprint("juridiction", __name__, url_prefix="/juridiction")

PAGE_SIZE = 50


@bp.cli.command("transmettre")
def transmit_command():
    """Transmet aux juridictions les mémoires encore « Envoyé »."""
    from services import transmission

    count = transmission.transmit_pending(db.session, current_app.config)
    print(f"{count} mémoire(s) mis à disposition.")


def _require_agent() -> None:
    if current_user.role != ROLE_AGENT:
        abort(403)


def _memoire(memoire_id: int) -> Memoire:
    """The mémoire for an agent of its juridiction. Anyone else who cannot see it gets 404
    (its existence is not told); a provider looking at their own mémoire gets 403."""
    try:
        memoire = permissions.get_memoire(db.session, current_user, memoire_id, permissions.READ)
    except permissions.NotFound:
        abort(404)
    _require_agent()
    return memoire


def _months() -> int:
    return current_app.config["FORCLUSION_MONTHS"]


# ---------------------------------------------------------------- queue

@bp.get("/memoires")
@login_required
def queue():
    _require_agent()
    form = QueueFilterForm(request.args)
    form.set_types(choices(db.session, TypePrestation))
    valid = form.validate()
    query = _filtered(form if valid else None)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Memoire.sent_at, Memoire.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    today = date.today()
    checks = {m.id: control.checklist(db.session, m, forclusion_months=_months())
              for m in rows if lifecycle.can_fire(m, lifecycle.CERTIFIER, ROLE_AGENT)}
    return render(
        "juridiction/queue.html", "results", 200 if valid else 422,
        form=form, rows=rows, checks=checks, total=total, page=page, page_size=PAGE_SIZE,
        age=lambda m: (today - (m.sent_at or m.created_at).date()).days,
        batch_form=BatchForm(formdata=None), agents=decisions.agents(db.session,
                                                                     current_user.juridiction_id),
        query_args=request.args.to_dict(),
    )


def _filtered(form: QueueFilterForm | None):
    query = permissions.visible_memoires(db.session, current_user)
    statut = form.statut.data if form else ""
    if not statut:
        query = query.where(Memoire.status.in_(lifecycle.TO_PROCESS))
    elif statut != "tous":
        query = query.where(Memoire.status == statut)
    if form is None:
        return query
    if form.type_code.data:
        query = query.where(exists().where(PrestationLine.memoire_id == Memoire.id,
                                           PrestationLine.type_code == form.type_code.data))
    if form.prestataire.data and form.prestataire.data.strip():
        needle = f"%{form.prestataire.data.strip().lower()}%"
        query = query.where(Memoire.structure_id.in_(select(Structure.id).where(or_(
            func.lower(Structure.raison_sociale).like(needle),
            func.lower(Structure.identifier).like(needle)))))
    if form.du.data:
        query = query.where(Memoire.sent_at >= form.du.data)
    if form.au.data:
        query = query.where(Memoire.sent_at < form.au.data + timedelta(days=1))
    if form.montant_min.data is not None:
        query = query.where(Memoire.total_ttc >= form.montant_min.data)
    if form.montant_max.data is not None:
        query = query.where(Memoire.total_ttc <= form.montant_max.data)
    if form.attribution.data == "moi":
        query = query.where(Memoire.assigned_to_id == current_user.id)
    elif form.attribution.data == "aucun":
        query = query.where(Memoire.assigned_to_id.is_(None))
    return query


@bp.post("/memoires/certification-par-lot")
@login_required
def batch_certify():
    _require_agent()
    form = BatchForm()
    if not form.validate_on_submit():
        abort(400)
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    try:
        result = decisions.batch_certify(db.session, current_user, ids,
                                         forclusion_months=_months(),
                                         settings=current_app.config)
    except decisions.DecisionError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return client_redirect(url_for("juridiction.queue"))
    except permissions.NotFound:
        db.session.rollback()
        abort(404)
    except lifecycle.ConflictError as exc:
        db.session.rollback()
        abort(409, description=str(exc))
    db.session.commit()
    if result.certified:
        flash(f"{len(result.certified)} mémoire(s) certifié(s) : "
              f"{', '.join(m.numero for m in result.certified)}.", "success")
    for memoire, why in result.skipped:
        flash(f"{memoire.numero} non certifié : {why}.", "error")
    return client_redirect(url_for("juridiction.queue"))


# ---------------------------------------------------------------- one mémoire

def _forms(memoire: Memoire, **given) -> dict:
    version = {"version": memoire.version}
    refuse = given.get("refuse") or RefuseForm(formdata=None, **version)
    refuse.set_reasons(decisions.reasons().values())
    certify = given.get("certify") or CertifyForm(formdata=None, montant_retenu=memoire.total_ttc,
                                                  **version)
    pay = given.get("pay") or PayForm(formdata=None, paid_on=date.today(), **version)
    assign = given.get("assign") or AssignForm(
        formdata=None, assignee_id=str(memoire.assigned_to_id or ""), **version)
    assign.set_agents(decisions.agents(db.session, memoire.juridiction_id))
    return {"refuse_form": refuse, "certify_form": certify, "pay_form": pay, "assign_form": assign}


def _page(memoire: Memoire, status: int = 200, **given):
    lines, totals = amounts(memoire)
    return render(
        "juridiction/memoire.html", "actions", status,
        memoire=memoire, lines=list(zip(memoire.lines, lines)), totals=totals,
        checklist=control.checklist(db.session, memoire, forclusion_months=_months()),
        can=lambda action: lifecycle.can_fire(memoire, action, ROLE_AGENT),
        lifecycle=lifecycle, vat_types=VAT_TYPES, **_forms(memoire, **given),
    )


@bp.get("/memoires/<int:memoire_id>")
@login_required
def memoire(memoire_id: int):
    return _page(_memoire(memoire_id))


def _decide(memoire: Memoire, action: str, form_name: str, form, call, success: str):
    """Check the state → validate → one service call → commit → back to the page (or the form
    again, 422). An action the state does not allow is refused (403) whatever the form says."""
    if form.expected_version is not None and form.expected_version != memoire.version:
        abort(409, description=str(lifecycle.ConflictError(memoire)))
    if not lifecycle.can_fire(memoire, action, current_user.role):
        abort(403, description=f"« {lifecycle.ACTION_LABELS[action]} » est impossible : le "
                               f"mémoire {memoire.numero} est à l'état "
                               f"« {lifecycle.state_label(memoire.status, memoire.court_step)} ».")
    if form.validate_on_submit():
        try:
            call(form)
        except decisions.DecisionError as exc:
            db.session.rollback()
            field = getattr(form, exc.field, None) if exc.field else None
            (field.errors if field is not None else form.form_errors).append(exc.message)
        except lifecycle.ConflictError as exc:
            db.session.rollback()
            abort(409, description=str(exc))
        except lifecycle.TransitionError as exc:
            db.session.rollback()
            abort(403, description=str(exc))
        except permissions.Forbidden:
            db.session.rollback()
            abort(403)
        except permissions.NotFound:
            db.session.rollback()
            abort(404)
        else:
            db.session.commit()
            flash(success, "success")
            return client_redirect(url_for("juridiction.memoire", memoire_id=memoire.id))
    return _page(memoire, 422, **{form_name: form})


@bp.post("/memoires/<int:memoire_id>/refuser")
@login_required
def refuse(memoire_id: int):
    memoire = _memoire(memoire_id)
    form = RefuseForm()
    form.set_reasons(decisions.reasons().values())
    return _decide(memoire, lifecycle.REFUSER, "refuse", form, lambda f: decisions.refuse(
        db.session, current_user, memoire, f.reason_code.data, f.text.data, f.expected_version,
        current_app.config), f"Le mémoire {memoire.numero} est refusé.")


@bp.post("/memoires/<int:memoire_id>/certifier")
@login_required
def certify(memoire_id: int):
    memoire = _memoire(memoire_id)
    form = CertifyForm()
    return _decide(memoire, lifecycle.CERTIFIER, "certify", form, lambda f: decisions.certify(
        db.session, current_user, memoire, f.montant_retenu.data, f.motif.data, f.route.data,
        f.expected_version, current_app.config),
        f"Le mémoire {memoire.numero} est certifié.")


@bp.post("/memoires/<int:memoire_id>/mise-en-paiement")
@login_required
def pay(memoire_id: int):
    memoire = _memoire(memoire_id)
    form = PayForm()
    return _decide(memoire, lifecycle.METTRE_EN_PAIEMENT, "pay", form, lambda f: decisions.pay(
        db.session, current_user, memoire, f.paid_on.data, f.reference.data, f.expected_version,
        date.today(), current_app.config), f"Le mémoire {memoire.numero} est mis en paiement.")


@bp.post("/memoires/<int:memoire_id>/attribution")
@login_required
def assign(memoire_id: int):
    memoire = _memoire(memoire_id)
    form = AssignForm()
    form.set_agents(decisions.agents(db.session, memoire.juridiction_id))
    back = request.form.get("retour")
    if form.validate_on_submit():
        try:
            assignee = decisions.assign(db.session, current_user, memoire, form.assignee,
                                        form.expected_version)
        except decisions.DecisionError as exc:
            db.session.rollback()
            form.assignee_id.errors.append(exc.message)
        except lifecycle.ConflictError as exc:
            db.session.rollback()
            abort(409, description=str(exc))
        else:
            db.session.commit()
            flash(f"Mémoire {memoire.numero} attribué à {assignee.full_name}." if assignee
                  else f"Mémoire {memoire.numero} : attribution retirée.", "success")
            target = url_for("juridiction.queue") if back == "liste" else \
                url_for("juridiction.memoire", memoire_id=memoire.id)
            return client_redirect(target)
    return _page(memoire, 422, assign=form)


@bp.app_template_filter("euros")
def euros(value) -> str:
    return f"{amount(value)} €" if value is not None else ""
