"""« Saisir mémoire »: the header, the prestation lines and the draft actions, on one page.

Each view: check the right, read the form, call one service, render the page or its blocks.
JavaScript off, every form posts and redirects (303); with htmx, the named blocks are swapped.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from blueprints.htmx import client_redirect, is_fragment_request, no_swap, render, toast
from blueprints.saisie.forms import (
    HeaderForm,
    LineForm,
    apply_errors,
    rate_value,
    to_int,
)
from extensions import db
from models import (
    AutoriteRequerante,
    CategoriePrestataire,
    PrestationLine,
    Structure,
    TexteReference,
    TypePrestation,
)
from models.organisation import ROLE_PRESTATAIRE, VAT_TYPES
from services import lifecycle, memoires, permissions
from services.formatting import number
from services.memoires import MemoireError, NotEditableError, StaleMemoireError
from services.reference_data import active_vat_rates, choices

bp = Blueprint("saisie", __name__)
TEMPLATE = "saisie/memoire.html"


# ------------------------------------------------------------------------------ header


@bp.route("/memoires/nouveau", methods=["GET", "POST"])
@login_required
def new():
    """« Saisir mémoire »: the header form; « Enregistrer » creates the draft."""
    if current_user.role != ROLE_PRESTATAIRE:
        abort(403)
    structures = permissions.structures(db.session, current_user, permissions.WRITE)
    if not structures:
        abort(403, description="Saisir un mémoire demande le profil « Frais de justice "
                               "modification » sur une structure : demandez-le à son gestionnaire "
                               "dans « Mes habilitations ».")
    form = HeaderForm()
    if request.method == "GET":
        structure = _chosen_structure(structures, request.args.get("structure_id"))
        _apply_defaults(form, structure)
        if request.args.get("structure_id") and is_fragment_request():
            # The structure changed: its address, services, accounts and defaults, in place.
            _header_choices(form, structures, structure)
            return render(TEMPLATE, ["prestataire_details", "vat_type"],
                          **_context(None, header_form=form, structure=structure,
                                     oob={"vat_type"}))
    else:
        structure = _chosen_structure(structures, form.structure_id.data)
    _header_choices(form, structures, structure)
    if request.method == "POST" and _refresh_requested(form, structure):
        return _render_page(None, "saisie", header_form=form, structure=structure)
    if form.validate_on_submit():
        try:
            memoire = memoires.create_draft(db.session, current_user, **form.header_fields())
        except MemoireError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            db.session.commit()
            message = f"Le mémoire {memoire.numero} est enregistré à l'état « Brouillon »."
            if is_fragment_request():
                response = _render_page(memoire, "saisie")
                response.headers["HX-Push-Url"] = url_for("saisie.show", memoire_id=memoire.id)
                return toast(response, message, "success")
            flash(message, "success")
            return redirect(url_for("saisie.show", memoire_id=memoire.id), 303)
    status = 422 if form.errors else 200
    return _render_page(None, "saisie", status, header_form=form, structure=structure)


@bp.get("/memoires/<int:memoire_id>")
@login_required
def show(memoire_id: int):
    """The mémoire page: editable for a draft and « modification », read-only otherwise."""
    memoire = _memoire(memoire_id)
    return _render_page(memoire)


@bp.post("/memoires/<int:memoire_id>/en-tete")
@login_required
def update_header(memoire_id: int):
    memoire = _memoire(memoire_id, permissions.WRITE)
    _require_draft(memoire)
    structures = permissions.structures(db.session, current_user, permissions.WRITE)
    form = HeaderForm()
    structure = _chosen_structure(structures, form.structure_id.data)
    _header_choices(form, structures, structure)
    if _refresh_requested(form, structure):
        return _render_page(memoire, "header", header_form=form, structure=structure)
    status = 422
    if form.validate_on_submit():
        try:
            memoires.update_header(db.session, current_user, memoire,
                                   to_int(form.version.data) or 0, **form.header_fields())
            db.session.commit()
        except StaleMemoireError as exc:
            return _stale(memoire, form, structure, exc.message)
        except StaleDataError:
            return _stale(memoire, form, structure, StaleMemoireError().message)
        except MemoireError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            message = f"Le mémoire {memoire.numero} est enregistré."
            if is_fragment_request():
                response = _render_page(memoire, ["header", "lines", "totals"],
                                        oob={"lines", "totals"})
                return toast(response, message, "success")
            flash(message, "success")
            return redirect(url_for("saisie.show", memoire_id=memoire.id), 303)
    return _render_page(memoire, "header", status, header_form=form, structure=structure)


def _stale(memoire, form, structure, message):
    """Two tabs: the second save is refused, its typed values stay on screen."""
    db.session.rollback()
    db.session.refresh(memoire)
    response = _render_page(memoire, "header", 409, header_form=form, structure=structure,
                            stale=message)
    if is_fragment_request():
        no_swap(response)  # htmx keeps what is typed; the toast says why
        toast(response, message, "error")
    return response


# ------------------------------------------------------------------------------ lines


@bp.get("/memoires/<int:memoire_id>/lignes/nouvelle")
@login_required
def line_new(memoire_id: int):
    """« Ajouter ligne de prestation »: the line form, in place (or on the page without JS)."""
    memoire = _memoire(memoire_id, permissions.WRITE)
    _require_draft(memoire)
    form = LineForm(formdata=None)
    _line_choices(form, memoire)
    return _render_page(memoire, "line_form", line_form=form)


@bp.get("/memoires/<int:memoire_id>/lignes/<int:line_id>/modifier")
@login_required
def line_edit(memoire_id: int, line_id: int):
    memoire = _memoire(memoire_id, permissions.WRITE)
    _require_draft(memoire)
    line = _line(memoire, line_id)
    form = LineForm(formdata=None)
    form.fill(memoires.line_data(line))
    form.version.data = str(memoire.version)
    _line_choices(form, memoire)
    return _render_page(memoire, "line_form", line_form=form, line=line)


@bp.post("/memoires/<int:memoire_id>/lignes")
@login_required
def line_create(memoire_id: int):
    memoire = _memoire(memoire_id, permissions.WRITE)
    _require_draft(memoire)
    return _save_line(memoire, None)


@bp.post("/memoires/<int:memoire_id>/lignes/<int:line_id>")
@login_required
def line_update(memoire_id: int, line_id: int):
    memoire = _memoire(memoire_id, permissions.WRITE)
    _require_draft(memoire)
    return _save_line(memoire, _line(memoire, line_id))


def _save_line(memoire, line):
    """« Valider et fermer » / « Valider et ajouter une nouvelle ligne », or a bordereau row
    added or removed (the form comes back as typed, nothing saved)."""
    form = LineForm()
    _line_choices(form, memoire)
    action = request.form.get("action", "fermer")
    if action not in ("fermer", "nouvelle"):
        form = _edit_bordereau(form, memoire, action)
        _prefill_tariff(form)
        return _render_page(memoire, "line_form", line_form=form, line=line)
    if form.validate_on_submit():
        try:
            if line is None:
                memoires.add_line(db.session, current_user, memoire, form.line_data())
            else:
                memoires.update_line(db.session, current_user, line, form.line_data(),
                                     expected_version=to_int(form.version.data))
            db.session.commit()
        except StaleMemoireError as exc:
            return _stale_line(memoire, form, line, exc.message)
        except MemoireError as exc:
            db.session.rollback()
            apply_errors(form, exc.errors)
        else:
            if not is_fragment_request():
                flash("La ligne de prestation est enregistrée.", "success")
                target = (url_for("saisie.line_new", memoire_id=memoire.id) + "#line-form"
                          if action == "nouvelle" else
                          url_for("saisie.show", memoire_id=memoire.id) + "#lines")
                return redirect(target, 303)
            next_form = None
            if action == "nouvelle":
                next_form = LineForm(formdata=None)
                _line_choices(next_form, memoire)
            response = _render_page(memoire, ["line_form", "lines", "totals", "header_version"],
                                    line_form=next_form,
                                    oob={"lines", "totals", "header_version"})
            return toast(response, "La ligne de prestation est enregistrée.", "success")
    else:
        _service_errors(form, memoire)
    return _render_page(memoire, "line_form", 422, line_form=form, line=line)


def _stale_line(memoire, form, line, message):
    """The line was changed in another tab since this form was opened: refuse, keep the input."""
    db.session.rollback()
    db.session.refresh(memoire)
    response = _render_page(memoire, "line_form", 409, line_form=form, line=line, stale=message)
    if is_fragment_request():
        no_swap(response)
        toast(response, message, "error")
    return response


def _edit_bordereau(form, memoire, action):
    """Add or remove a row of the bordereau des frais divers; keep everything else typed."""
    rebuilt = LineForm(formdata=None)
    _line_choices(rebuilt, memoire)
    for name in ("numero_affaire", "date_requisition", "autorite_code", "type_code",
                 "date_prestation", "quantite", "tarif_ht", "taux_tva", "frais_divers",
                 "debours", "remise", "tarif_auto", "version"):
        source, target = getattr(form, name), getattr(rebuilt, name)
        target.raw_data, target.data = source.raw_data, source.data
        if hasattr(source, "raw"):
            target.raw = source.raw
    removed = action.removeprefix("retirer_") if action.startswith("retirer_") else None
    for entry in form.frais:
        if entry.name == removed:
            continue
        new = rebuilt.frais.append_entry()
        for sub in ("date", "nature", "quantite", "montant"):
            getattr(new.form, sub).raw_data = getattr(entry.form, sub).raw_data
            getattr(new.form, sub).data = getattr(entry.form, sub).data
    if action == "ajouter_frais":
        new = rebuilt.frais.append_entry()
        new.form.date.data = rebuilt.date_prestation.data
    if rebuilt.frais.entries:
        rebuilt.frais_divers.raw_data = None
        rebuilt.frais_divers.data = memoires.frais_total(rebuilt.line_data().frais)
    return rebuilt


@bp.post("/memoires/<int:memoire_id>/lignes/apercu")
@login_required
def line_preview(memoire_id: int):
    """While typing: the amounts of the line, its regulated tariff, the frais divers total."""
    memoire = _memoire(memoire_id, permissions.WRITE)
    _require_draft(memoire)
    form = LineForm()
    _line_choices(form, memoire)
    blocks, oob = ["line_amounts", "tarif_hint"], {"tarif_hint"}
    if _prefill_tariff(form):
        blocks.append("tarif_input")
        oob.add("tarif_input")
    if form.frais.entries:
        form.frais_divers.raw_data = None
        form.frais_divers.data = memoires.frais_total(form.line_data().frais)
        blocks.append("frais_divers_input")
        oob.add("frais_divers_input")
    return _render_page(memoire, blocks, line_form=form, oob=oob)


@bp.get("/memoires/<int:memoire_id>/lignes/fermer")
@login_required
def line_close(memoire_id: int):
    """« Annuler »: the line form closes, nothing saved."""
    memoire = _memoire(memoire_id)
    if not is_fragment_request():
        return redirect(url_for("saisie.show", memoire_id=memoire.id) + "#lines", 303)
    return _render_page(memoire, "line_form")


@bp.route("/memoires/<int:memoire_id>/lignes/<int:line_id>/supprimer", methods=["GET", "POST"])
@login_required
def line_delete(memoire_id: int, line_id: int):
    """Delete a line: confirmed in the browser (data-confirm) or on this page without JS."""
    memoire = _memoire(memoire_id, permissions.WRITE)
    _require_draft(memoire)
    line = _line(memoire, line_id)
    if request.method == "GET":
        return _render_page(memoire, confirm_line=line)
    position = line.position
    memoires.delete_line(db.session, current_user, line)
    db.session.commit()
    message = f"La ligne de prestation n° {position} est supprimée."
    if is_fragment_request():
        response = _render_page(memoire, ["lines", "totals", "header_version"],
                                oob={"lines", "totals", "header_version"})
        return toast(response, message, "success")
    flash(message, "success")
    return redirect(url_for("saisie.show", memoire_id=memoire.id) + "#lines", 303)


# ------------------------------------------------------------------------------ draft actions


@bp.post("/memoires/<int:memoire_id>/dupliquer")
@login_required
def duplicate(memoire_id: int):
    memoire = _memoire(memoire_id, permissions.WRITE)
    copy = memoires.duplicate(db.session, current_user, memoire)
    db.session.commit()
    flash(f"Le mémoire {copy.numero} a été créé en dupliquant le mémoire {memoire.numero}.",
          "success")
    return client_redirect(url_for("saisie.show", memoire_id=copy.id))


@bp.route("/memoires/<int:memoire_id>/supprimer", methods=["GET", "POST"])
@login_required
def delete(memoire_id: int):
    """« Supprimer »: drafts only, after confirmation (this page without JS)."""
    memoire = _memoire(memoire_id, permissions.WRITE)
    _require_draft(memoire)
    if request.method == "GET":
        return _render_page(memoire, confirm_delete=True)
    numero = memoires.delete_draft(db.session, current_user, memoire)
    db.session.commit()
    flash(f"Le mémoire {numero} a été supprimé.", "success")
    return client_redirect(url_for("saisie.new"))


# ------------------------------------------------------------------------------ helpers


def _memoire(memoire_id: int, right: str = permissions.READ):
    try:
        return permissions.get_memoire(db.session, current_user, memoire_id, right)
    except permissions.NotFound:
        abort(404)
    except permissions.Forbidden:
        abort(403, "Votre profil « Frais de justice consultation » ne permet pas de modifier ce "
                   "mémoire.")


def _require_draft(memoire) -> None:
    if memoire.status not in lifecycle.EDITABLE:
        abort(409, NotEditableError(memoire).message)


def _line(memoire, line_id: int) -> PrestationLine:
    line = db.session.get(PrestationLine, line_id)
    if line is None or line.memoire_id != memoire.id:
        abort(404)
    return line


def _chosen_structure(structures: list[Structure], wanted) -> Structure | None:
    wanted_id = to_int(wanted)
    for structure in structures:
        if structure.id == wanted_id:
            return structure
    return structures[0] if structures else None


def _refresh_requested(form: HeaderForm, structure) -> bool:
    """JS off: « Actualiser le prestataire » reloads the structure's details, nothing saved."""
    if request.form.get("action") != "actualiser":
        return False
    if structure is not None:
        _apply_defaults(form, structure, force=True)
        _header_choices(form, permissions.structures(db.session, current_user,
                                                     permissions.WRITE), structure)
    return True


def _apply_defaults(form: HeaderForm, structure, force: bool = False) -> None:
    if structure is None:
        return
    defaults = memoires.structure_defaults(structure)
    form.structure_id.data = str(structure.id)
    for name, value in defaults.items():
        target = getattr(form, name)
        if force or not target.data:
            target.data = str(value) if value is not None else ""
    if not form.devise.data:
        form.devise.data = "EUR"


def _header_choices(form: HeaderForm, structures, structure) -> None:
    form.structure_id.choices = {str(s.id): s.label for s in structures}
    form.juridiction_id.choices = {"": "Sélectionner une juridiction", **{
        str(j.id): j.label for j in memoires.juridictions(db.session)}}
    services = [s for s in structure.services if s.is_active] if structure else []
    form.service_id.choices = {"": "Sélectionner un service",
                               **{str(s.id): s.label for s in services}}
    # « Service * » as in the webinar when the structure has services (services.memoires checks it).
    form.service_id.flags.required = bool(services)
    form.categorie_code.choices = {"": "Sélectionner une catégorie",
                                   **dict(choices(db.session, CategoriePrestataire))}
    accounts = [a for a in structure.bank_accounts if a.is_active] if structure else []
    form.bank_account_id.choices = {"": "Sélectionner des références bancaires",
                                    **{str(a.id): a.label for a in accounts}}
    form.texte_code.choices = {"": "Sélectionner un texte",
                               **dict(choices(db.session, TexteReference))}


def _line_choices(form: LineForm, memoire) -> None:
    form.autorite_code.choices = {"": "Sélectionner une autorité",
                                  **dict(choices(db.session, AutoriteRequerante))}
    categorie = memoire.categorie_code or ""
    types = db.session.query(TypePrestation).order_by(TypePrestation.position).all()
    # The types of the provider's catégorie come first.
    types.sort(key=lambda t: categorie not in (t.categories or "").split(";"))
    form.type_code.choices = {"": "Sélectionner un type", **{t.code: t.libelle for t in types}}
    if memoire.vat_type == memoires.EXONERE:
        form.taux_tva.choices = {"0": "0 % (Exonéré)"}
        form.taux_tva.data = "0"
    else:
        rates = sorted(active_vat_rates(db.session, date.today()), reverse=True)
        form.taux_tva.choices = {"": "Choisir", **{rate_value(r): f"{number(r)} %" for r in rates}}


def _prefill_tariff(form: LineForm) -> bool:
    """Pre-fill the regulated tariff, unless the user typed a price of their own
    (tarif_auto remembers the last value the server put there)."""
    hint = _tariff(form)
    if hint is None or (form.tarif_ht.raw or "") != (form.tarif_auto.data or ""):
        return False
    if form.tarif_ht.data == hint.amount:
        return False
    form.tarif_ht.raw_data = None
    form.tarif_ht.data = hint.amount
    form.tarif_auto.data = form.tarif_ht._value()
    return True


def _tariff(form: LineForm):
    return memoires.tariff_hint(db.session, form.type_code.data, form.date_prestation.data,
                                form.tarif_ht.data)


def _service_errors(form: LineForm, memoire) -> None:
    """Show the domain rules too (dates, ranges) on a form that failed its format checks."""
    data = form.line_data()
    errors = memoires.validate_line(db.session, memoire, data, date.today())
    apply_errors(form, {k: v for k, v in errors.items() if not _has_errors(form, k)})


def _has_errors(form, name: str) -> bool:
    if name.startswith("frais-"):
        return True
    field = getattr(form, name, None)
    return field is None or bool(field.errors)


def _context(memoire, *, header_form=None, structure=None, line_form=None, line=None,
             oob=frozenset(), stale=None, tariff=None, confirm_line=None,
             confirm_delete=False, with_header: bool = True) -> dict:
    can_write = bool(memoire is not None and permissions.can(
        db.session, current_user, memoire.structure_id, permissions.WRITE))
    editable = memoire is None or (can_write and memoire.status in lifecycle.EDITABLE)
    if memoire is not None and editable and header_form is None and with_header:
        header_form = HeaderForm(formdata=None, obj=None)
        _fill_header(header_form, memoire)
        structures = permissions.structures(db.session, current_user, permissions.WRITE)
        structure = _chosen_structure(structures, memoire.structure_id)
        _header_choices(header_form, structures, structure)
    if memoire is not None and structure is None:
        structure = memoire.structure
    line_amounts, totals = memoires.amounts(memoire) if memoire is not None else ([], None)
    preview = None
    if line_form is not None:
        preview = memoires.preview(memoire, line_form.line_data())
        if tariff is None:
            tariff = _tariff(line_form)
    if memoire is None:
        title = "Saisie mémoire de frais de justice"
    elif editable:
        title = f"Saisie mémoire de frais de justice {memoire.numero}"
    else:
        title = f"Visualiser le mémoire de frais de justice {memoire.numero}"
    return {
        "memoire": memoire, "can_write": can_write, "editable": editable,
        "header_form": header_form if editable else None, "structure": structure,
        "lines": list(zip(memoire.lines, line_amounts)) if memoire is not None else [],
        "totals": totals, "line_form": line_form, "line": line, "preview": preview,
        "tariff": tariff, "oob": set(oob), "stale": stale, "page_title": title,
        "confirm_line": confirm_line, "confirm_delete": confirm_delete,
        "status_label": lifecycle.label, "today": date.today(), "vat_types": VAT_TYPES,
    }


def _fill_header(form: HeaderForm, memoire) -> None:
    form.structure_id.data = str(memoire.structure_id)
    form.service_id.data = str(memoire.service_id or "")
    form.juridiction_id.data = str(memoire.juridiction_id)
    form.categorie_code.data = memoire.categorie_code
    form.bank_account_id.data = str(memoire.bank_account_id or "")
    form.devise.data = memoire.devise
    form.texte_code.data = memoire.texte_code
    form.vat_type.data = memoire.vat_type
    form.numero_facture.data = memoire.numero_facture or ""
    form.version.data = str(memoire.version)


# The blocks that show the header form; a fragment without them (a line form, the lines table,
# the totals) does not build it: its pick lists (some 200 juridictions) are most of a page's cost.
HEADER_BLOCKS = {"saisie", "header", "prestataire_details", "vat_type"}


def _render_page(memoire, block=None, status: int = 200, **context):
    blocks = {block} if isinstance(block, str) else set(block or ())
    with_header = not (blocks and is_fragment_request()) or bool(blocks & HEADER_BLOCKS)
    return render(TEMPLATE, block, status, **_context(memoire, with_header=with_header, **context))
