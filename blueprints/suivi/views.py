"""Suivre ses mémoires: « Synthèse », « Rechercher » (CSV export, actions on a selection),
« Tableau de bord », « Liste fiscale » and « Archives » — for providers over their structures
and for juridiction agents over what their juridiction received (services.permissions)."""
from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.forms import as_choices
from blueprints.htmx import is_fragment_request, render, toast
from blueprints.suivi.forms import FiscalForm, SearchForm
from extensions import db
from models import CategoriePrestataire, Service, TexteReference, TypePrestation
from models.organisation import ROLE_AGENT, ROLE_PRESTATAIRE
from models.types import utcnow
from services import (
    charts,
    dashboard,
    exports,
    lifecycle,
    permissions,
    search,
    selection,
)
from services.memoires import juridictions
from services.reference_data import choices

bp = Blueprint("suivi", __name__, url_prefix="/memoires")

PROVIDER = {ROLE_PRESTATAIRE}
BOTH = {ROLE_PRESTATAIRE, ROLE_AGENT}
SYNTHESE_PER_PAGE = 20
FISCAL_PER_PAGE = 50


def _require(roles: set[str]) -> None:
    if current_user.role not in roles:
        abort(403)


def _context() -> search.Context:
    return search.Context(utcnow(), current_app.config["ARCHIVE_AFTER_MONTHS"])


def _can_write() -> bool:
    return current_user.role == ROLE_PRESTATAIRE and bool(
        permissions.structures(db.session, current_user, permissions.WRITE))


def _page_number() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


# ---------------------------------------------------------------- Synthèse

@bp.get("/synthese")
@login_required
def synthese():
    _require(PROVIDER)
    return _render_synthese()


def _render_synthese(status: int = 200, outcome=None):
    page = search.search(db.session, current_user, search.needing_action(), _context(),
                         page=_page_number(), per_page=SYNTHESE_PER_PAGE)
    return render("suivi/synthese.html", "synthese_list", status, page=page,
                  can_write=_can_write(), outcome=outcome,
                  page_url=lambda n: url_for("suivi.synthese", page=n))


@bp.post("/synthese")
@login_required
def synthese_actions():
    _require(PROVIDER)
    return _bulk(lambda outcome: _render_synthese(outcome=outcome),
                 url_for("suivi.synthese", **request.args))


def _bulk(render_list, back_url: str, allowed=("abandonner", "supprimer", "telecharger")):
    """Apply the chosen action to the selected mémoires; the list again (htmx) or PRG."""
    action = request.form.get("action", "")
    if action not in allowed:
        abort(400)
    ids = selection.parse_ids(request.form.getlist("ids"))
    right = permissions.READ if action == "telecharger" else permissions.WRITE
    try:
        rows = selection.selected(db.session, current_user, ids, right)
    except selection.SelectionError as exc:
        return _refused(str(exc), render_list, back_url)
    except permissions.NotFound:
        abort(404)
    except permissions.Forbidden:
        abort(403, "Votre profil « Frais de justice consultation » ne permet pas de modifier "
                   "ces mémoires.")
    if action == "telecharger":
        return _zip(rows)
    try:
        if action == "abandonner":
            outcome = selection.abandon(db.session, current_user, rows, current_app.config)
        else:
            outcome = selection.delete(db.session, current_user, rows)
    except lifecycle.ConflictError as exc:
        db.session.rollback()
        return _refused(str(exc), render_list, back_url, 409)
    db.session.commit()
    verb = "abandonné(s)" if action == "abandonner" else "supprimé(s)"
    if is_fragment_request():
        response = render_list(outcome)
        if outcome.done:
            toast(response, f"{len(outcome.done)} mémoire(s) {verb}.", "success")
        return response
    if outcome.done:
        flash(f"{len(outcome.done)} mémoire(s) {verb} : {', '.join(outcome.done)}.", "success")
    for numero, why in outcome.skipped:
        flash(f"{numero} non traité : {why}.", "error")
    return redirect(back_url, 303)


def _refused(message: str, render_list, back_url: str, status: int = 422):
    if is_fragment_request():
        return toast(render_list(None), message, "error")
    flash(message, "error")
    return redirect(back_url, 303)


def _zip(rows) -> Response:
    response = make_response(exports.pdf_zip(rows))
    response.mimetype = "application/zip"
    response.headers["Content-Disposition"] = 'attachment; filename="memoires.zip"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------- Rechercher / Archives

def _search_form() -> SearchForm:
    form = SearchForm(request.args)
    agent = current_user.role == ROLE_AGENT
    structures = [] if agent else permissions.structures(db.session, current_user)
    services = [] if agent else db.session.scalars(
        select(Service).where(Service.structure_id.in_([s.id for s in structures]))
        .order_by(Service.code)).all()
    statuses = [(s, lifecycle.label(s)) for s in lifecycle.STATUSES
                if not agent or s in lifecycle.RECEIVED_BY_JURIDICTION]
    form.set_choices(
        juridictions=[] if agent else [(str(j.id), j.label) for j in juridictions(db.session)],
        statuses=statuses, categories=choices(db.session, CategoriePrestataire),
        structures=[(str(s.id), s.label) for s in structures],
        services=[(str(s.id), s.label) for s in services],
        textes=choices(db.session, TexteReference), types=choices(db.session, TypePrestation))
    return form


def _search_page(scope: str | None, template_mode: str, status: int | None = None,
                 outcome=None):
    form = _search_form()
    valid = form.validate()
    criteria = form.criteria(scope)
    page = None
    if valid:
        page = search.search(db.session, current_user, criteria, _context(),
                             sort=form.tri.data, descending=form.ordre.data != "asc",
                             page=_page_number(), per_page=int(form.lignes.data))
    endpoint = "suivi.archives" if template_mode == "archives" else "suivi.search"
    args = request.args.to_dict()
    args.pop("page", None)
    return render(
        "suivi/search.html", "results", status or (200 if valid else 422), form=form, page=page,
        mode=template_mode, endpoint=endpoint, args=args, agent=current_user.role == ROLE_AGENT,
        can_write=_can_write() and template_mode != "archives", outcome=outcome,
        page_url=lambda n: url_for(endpoint, **dict(args, page=n)),
        sort_url=lambda key, desc: url_for(endpoint, **dict(args, tri=key,
                                                            ordre="desc" if desc else "asc")),
        export_url=url_for("suivi.export", **dict(args, vue=template_mode)),
        action_url=url_for(f"{endpoint}_actions" if template_mode == "archives"
                           else "suivi.search_actions", **args),
    )


@bp.get("/recherche", endpoint="search")
@login_required
def search_view():
    _require(BOTH)
    return _search_page(None, "search")


@bp.post("/recherche")
@login_required
def search_actions():
    _require(BOTH)
    return _bulk(lambda outcome: _search_page(None, "search", 200, outcome),
                 url_for("suivi.search", **request.args))


@bp.get("/archives")
@login_required
def archives():
    _require(BOTH)
    return _search_page(search.ARCHIVED, "archives")


@bp.post("/archives")
@login_required
def archives_actions():
    _require(BOTH)
    return _bulk(lambda outcome: _search_page(search.ARCHIVED, "archives", 200, outcome),
                 url_for("suivi.archives", **request.args), allowed=("telecharger",))


@bp.get("/recherche/export.csv")
@login_required
def export():
    """« Exporter les résultats »: every result of the criteria, streamed as CSV."""
    _require(BOTH)
    form = _search_form()
    if not form.validate():
        abort(422, "Critères de recherche invalides : corrigez-les avant d'exporter.")
    scope = search.ARCHIVED if request.args.get("vue") == "archives" else None
    rows = search.iter_rows(db.session, current_user, form.criteria(scope), _context(),
                            sort=form.tri.data, descending=form.ordre.data != "asc")
    name = "archives" if scope else "recherche"
    return _csv(exports.search_csv(rows), f"memoires-{name}-{date.today():%Y%m%d}.csv")


def _csv(chunks, filename: str) -> Response:
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.charset = "utf-8"
    return response


# ---------------------------------------------------------------- Tableau de bord

@bp.get("/tableau-de-bord", endpoint="dashboard")
@login_required
def dashboard_view():
    _require(BOTH)
    today = date.today()
    agent = current_user.role == ROLE_AGENT
    months = dashboard.monthly_amounts(db.session, current_user, today)
    delays = [] if agent else dashboard.payment_delays(db.session, current_user, today)
    return render(
        "suivi/dashboard.html", matrix=dashboard.status_matrix(db.session, current_user),
        statuses=[s for s in lifecycle.STATUSES
                  if not agent or s in lifecycle.RECEIVED_BY_JURIDICTION],
        agent=agent, ageing=dashboard.ageing(db.session, current_user, utcnow()) if agent else [],
        months=months, amounts_chart=charts.monthly_amounts_chart(months),
        delays=delays, delays_chart=charts.delays_chart(delays), chart_days=charts.days,
    )


# ---------------------------------------------------------------- Liste fiscale

def _fiscal_form() -> FiscalForm:
    form = FiscalForm(request.args)
    form.structure_id.choices = as_choices(
        (s.id, s.label) for s in permissions.structures(db.session, current_user))
    return form


def _fiscal_criteria(form: FiscalForm) -> search.Criteria:
    return search.fiscal(int(form.structure_id.data), form.du.data, form.au.data)


@bp.get("/liste-fiscale")
@login_required
def fiscal():
    _require(PROVIDER)
    form = _fiscal_form()
    if not request.args:
        return render("suivi/fiscal.html", "fiscal", form=form, page=None)
    if not form.validate():
        return render("suivi/fiscal.html", "fiscal", 422, form=form, page=None)
    criteria = _fiscal_criteria(form)
    context = _context()
    page = search.search(db.session, current_user, criteria, context, page=_page_number(),
                         per_page=FISCAL_PER_PAGE, descending=False)
    args = request.args.to_dict()
    args.pop("page", None)
    return render(
        "suivi/fiscal.html", "fiscal", form=form, page=page, args=args,
        total=search.fiscal_total(db.session, current_user, criteria, context),
        page_url=lambda n: url_for("suivi.fiscal", **dict(args, page=n)),
    )


def _valid_fiscal() -> tuple[FiscalForm, search.Criteria]:
    _require(PROVIDER)
    form = _fiscal_form()
    if not form.validate():
        abort(422, "Choisissez une structure et une période d'au plus un an.")
    return form, _fiscal_criteria(form)


@bp.get("/liste-fiscale.csv")
@login_required
def fiscal_csv():
    form, criteria = _valid_fiscal()
    rows = search.iter_rows(db.session, current_user, criteria, _context(), descending=False)
    return _csv(exports.fiscal_csv(rows),
                f"liste-fiscale-{form.du.data:%Y%m%d}-{form.au.data:%Y%m%d}.csv")


@bp.get("/liste-fiscale.pdf")
@login_required
def fiscal_pdf():
    form, criteria = _valid_fiscal()
    context = _context()
    structure = permissions.get_structure(db.session, current_user, criteria.structure_id)
    rows = search.iter_rows(db.session, current_user, criteria, context, descending=False)
    body = exports.fiscal_pdf(structure.label, form.du.data, form.au.data, rows,
                              search.fiscal_total(db.session, current_user, criteria, context))
    response = make_response(body)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="liste-fiscale-{form.du.data:%Y%m%d}-{form.au.data:%Y%m%d}.pdf"')
    response.headers["Cache-Control"] = "no-store"
    return response
