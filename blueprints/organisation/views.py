"""« Ma structure » (Gérer une structure, services, coordonnées bancaires, documents) and
« Mes habilitations » / « Gérer mes habilitations »."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    url_for,
)
from flask_login import current_user, login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer

from blueprints.files import send_stored
from blueprints.forms import as_choices, field_error
from blueprints.htmx import client_redirect, is_fragment_request, render, toast
from blueprints.inscription.forms import JoinStructureForm
from blueprints.organisation.forms import (
    AIDE_SAISIE,
    BankAccountForm,
    DocumentForm,
    RenameServiceForm,
    SearchForm,
    ServiceForm,
    StructureForm,
    TransferForm,
)
from extensions import db
from models import CategoriePrestataire, StoredFile, TypePieceJointe
from models.organisation import HABILITATION_REQUESTED, ROLE_PRESTATAIRE
from services import csv_export, habilitations, identifiers, organisation, permissions
from services.permissions import READ, WRITE
from services.reference_data import choices

bp = Blueprint("organisation", __name__)



@bp.before_request
@login_required
def _providers_only():
    if current_user.role != ROLE_PRESTATAIRE:
        abort(404)


def _structure(structure_id: int, right: str = READ):
    try:
        return permissions.get_structure(db.session, current_user, structure_id, right)
    except permissions.NotFound:
        abort(404)
    except permissions.Forbidden:
        abort(403)


def _can_write(structure) -> bool:
    return permissions.can(db.session, current_user, structure.id, WRITE)


def _done(message: str, url: str, template: str | None = None, block: str | None = None,
          **context) -> Response:
    """After a change: htmx gets the refreshed block and a toast, a plain form a 303."""
    if template and block and is_fragment_request():
        return toast(render(template, block, **context), message, "success")
    flash(message, "success")
    return redirect(url, 303)


# ------------------------------------------------------------------ structures

@bp.get("/structure")
def structure():
    structures = permissions.structures(db.session, current_user, READ)
    return render("organisation/index.html", structures=structures,
                  managed={s.id for s in habilitations.managed_structures(db.session,
                                                                           current_user)})


def _structure_form(structure, formdata=None) -> StructureForm:
    form = StructureForm(formdata=formdata, obj=structure if formdata is None else None)
    form.pays.choices = as_choices(identifiers.countries())
    form.categorie_code.choices = as_choices(
        [("", "— Choisir —")] + choices(db.session, CategoriePrestataire))
    if formdata is None:
        form.categorie_code.data = structure.categorie_code or ""
    return form


@bp.route("/structure/<int:structure_id>", methods=["GET", "POST"])
def show(structure_id: int):
    """« Gérer une structure »: consultation reads, modification submits."""
    structure = _structure(structure_id, WRITE if request.method == "POST" else READ)
    form = _structure_form(structure, request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        data = organisation.StructureData(**{name: form[name].data for name in (
            "raison_sociale", "numero_rcs", "tva_intracom", "email", "adresse", "complement1",
            "complement2", "code_postal", "ville", "pays", "telephone", "categorie_code",
            "regime", "droit_option", "default_vat_type")})
        try:
            organisation.update_structure(db.session, structure, data)
        except organisation.OrganisationError as exc:
            db.session.rollback()
            field_error(form, exc, "raison_sociale")
        else:
            db.session.commit()
            return _done("Les informations de la structure sont enregistrées.",
                         url_for("organisation.show", structure_id=structure.id),
                         "organisation/show.html", "structure_form", structure=structure,
                         form=_structure_form(structure), can_write=True)
    status = 422 if form.errors else 200
    return render("organisation/show.html", "structure_form", status, structure=structure,
                  form=form, can_write=_can_write(structure))


# ------------------------------------------------------------------ services

def _services_page(structure, form=None, status: int = 200, block: str = "services"):
    return render("organisation/services.html", block, status, structure=structure,
                  form=form or ServiceForm(), can_write=_can_write(structure))


@bp.get("/structure/<int:structure_id>/services")
def services(structure_id: int):
    return _services_page(_structure(structure_id))


@bp.post("/structure/<int:structure_id>/services")
def add_service(structure_id: int):
    structure = _structure(structure_id, WRITE)
    form = ServiceForm()
    if form.validate_on_submit():
        try:
            service = organisation.add_service(db.session, structure, form.code.data,
                                               form.libelle.data)
        except organisation.OrganisationError as exc:
            db.session.rollback()
            field_error(form, exc, "code")
        else:
            db.session.commit()
            return _done(f"Le service {service.code} est créé.",
                         url_for("organisation.services", structure_id=structure.id),
                         "organisation/services.html", "services", structure=structure,
                         form=ServiceForm(formdata=None), can_write=True)
    return _services_page(structure, form, 422)


def _service(structure, service_id: int):
    service = organisation.get_service(db.session, structure, service_id)
    if service is None:
        abort(404)
    return service


@bp.post("/structure/<int:structure_id>/services/<int:service_id>")
def rename_service(structure_id: int, service_id: int):
    structure = _structure(structure_id, WRITE)
    service = _service(structure, service_id)
    form = RenameServiceForm(prefix=f"s{service.id}")
    if form.validate_on_submit():
        try:
            organisation.rename_service(db.session, service, form.libelle.data)
        except organisation.OrganisationError as exc:
            db.session.rollback()
            form.libelle.errors.append(str(exc))
        else:
            db.session.commit()
            return _done(f"Le service {service.code} est renommé.",
                         url_for("organisation.services", structure_id=structure.id),
                         "organisation/services.html", "services", structure=structure,
                         form=ServiceForm(formdata=None), can_write=True)
    message = " ".join(form.libelle.errors) or "Libellé invalide."
    flash(message, "error")
    return _services_page(structure, status=422)


@bp.post("/structure/<int:structure_id>/services/<int:service_id>/<any(activer, desactiver, supprimer):action>")
def service_action(structure_id: int, service_id: int, action: str):
    structure = _structure(structure_id, WRITE)
    service = _service(structure, service_id)
    if action == "supprimer":
        outcome = organisation.remove_service(db.session, service)
        message = (f"Le service {service.code} est supprimé." if outcome == "supprime" else
                   f"Le service {service.code} est utilisé par des mémoires ou des "
                   "habilitations : il a été désactivé (jamais supprimé).")
    else:
        organisation.set_service_active(db.session, service, action == "activer")
        message = f"Le service {service.code} est {'activé' if action == 'activer' else 'désactivé'}."
    db.session.commit()
    return _done(message, url_for("organisation.services", structure_id=structure.id),
                 "organisation/services.html", "services", structure=structure,
                 form=ServiceForm(formdata=None), can_write=True)


# ------------------------------------------------------------------ coordonnées bancaires

@bp.get("/structure/<int:structure_id>/coordonnees-bancaires")
def bank_accounts(structure_id: int):
    structure = _structure(structure_id)
    return render("organisation/bank_accounts.html", "accounts", structure=structure,
                  can_write=_can_write(structure))


def _bank_form(structure, formdata=None) -> BankAccountForm:
    form = BankAccountForm(formdata=formdata) if formdata is not None else BankAccountForm(
        formdata=None, structure_id=structure.id, pays=structure.pays or "FR", type="IBAN")
    form.structure_id.choices = as_choices(
        (s.id, s.label) for s in permissions.structures(db.session, current_user, WRITE))
    form.pays.choices = as_choices(identifiers.iban_countries())
    return form


@bp.route("/structure/<int:structure_id>/coordonnees-bancaires/nouvelle",
          methods=["GET", "POST"])
def new_bank_account(structure_id: int):
    """« Créer une coordonnée bancaire »: every error at once, the RIB kept across a refusal."""
    structure = _structure(structure_id, WRITE)
    if request.method == "GET":
        return render("organisation/bank_account_form.html", structure=structure,
                      form=_bank_form(structure), aide=AIDE_SAISIE, rib_kept=None)
    form = _bank_form(structure, request.form)
    form_ok = form.validate()
    owner = _write_structure_or_none(form.structure_id.data)
    upload = request.files.get("piece_jointe")
    kept = _kept_rib(request.form.get("rib_token"))
    if upload and upload.filename:
        rib_filename, rib_data = upload.filename, upload.read()
    elif kept is not None:
        rib_filename, rib_data = kept.name, kept.stored.data
    else:
        rib_filename, rib_data = "", b""
    data = organisation.BankAccountData(
        nom=form.nom.data, affactureur=form.affactureur.data, type=form.type.data,
        pays=form.pays.data, bban=form.bban.data, cle_iban=form.cle_iban.data,
        bic=form.bic.data, information=form.information.data,
        rib_filename=rib_filename, rib_data=rib_data)
    try:
        checked = organisation.check_bank_account(
            db.session, owner, data, current_app.config["ATTACHMENT_MAX_BYTES"])
    except organisation.BankAccountInvalid as exc:
        checked, rib = None, exc.rib
        for name, message in exc.errors.items():
            if not getattr(form, name).errors:  # the form's own message already says it
                getattr(form, name).errors = list(getattr(form, name).errors) + [message]
    else:
        rib = checked.rib
    if form_ok and checked is not None:
        account = organisation.add_bank_account(db.session, checked)
        db.session.commit()
        flash(f"La coordonnée bancaire « {account.nom} » est créée.", "success")
        return client_redirect(url_for("organisation.bank_accounts",
                                       structure_id=account.structure_id))
    db.session.rollback()
    if rib is not None:
        kept = _KeptRib(organisation.keep_rib(db.session, rib), rib.safe_name)
        db.session.commit()
    return render("organisation/bank_account_form.html", "bank_form", 422, structure=structure,
                  form=form, aide=AIDE_SAISIE, rib_kept=_rib_for_form(form, kept))


class _KeptRib:
    """A checked RIB stored while the rest of the form is corrected (« RIB déjà joint »)."""

    def __init__(self, sha256: str, name: str, stored: StoredFile | None = None):
        self.sha256, self.name, self.stored = sha256, name, stored


# A signed reference bound to the user: nobody else can attach the file, nor guess it.
_RIB_SALT = "organisation.rib-deja-joint"
_RIB_MAX_AGE = 4 * 3600


def _rib_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_RIB_SALT)


def _kept_rib(token: str | None) -> _KeptRib | None:
    if not token:
        return None
    try:
        payload = _rib_signer().loads(token, max_age=_RIB_MAX_AGE)
    except BadSignature:  # also expired
        return None
    if not isinstance(payload, dict) or payload.get("u") != current_user.id:
        return None
    stored = db.session.get(StoredFile, str(payload.get("f")))
    return _KeptRib(stored.sha256, str(payload.get("n")), stored) if stored else None


def _rib_for_form(form: BankAccountForm, kept: _KeptRib | None) -> dict | None:
    """What the form shows and carries for a kept RIB; the file input is then optional."""
    if kept is None:
        return None
    form.piece_jointe.flags.required = False
    token = _rib_signer().dumps({"u": current_user.id, "f": kept.sha256, "n": kept.name})
    return {"name": kept.name, "token": token}


def _write_structure_or_none(structure_id):
    try:
        return permissions.get_structure(db.session, current_user, int(structure_id), WRITE)
    except (permissions.NotFound, permissions.Forbidden, TypeError, ValueError):
        return None


def _account(structure, account_id: int):
    account = organisation.get_bank_account(db.session, structure, account_id)
    if account is None:
        abort(404)
    return account


@bp.post("/structure/<int:structure_id>/coordonnees-bancaires/<int:account_id>/<any(activer, desactiver, supprimer):action>")
def bank_account_action(structure_id: int, account_id: int, action: str):
    structure = _structure(structure_id, WRITE)
    account = _account(structure, account_id)
    if action == "supprimer":
        outcome = organisation.remove_bank_account(db.session, account)
        message = (f"La coordonnée bancaire « {account.nom} » est supprimée."
                   if outcome == "supprime" else
                   f"La coordonnée bancaire « {account.nom} » est utilisée par des mémoires : "
                   "elle a été désactivée (jamais supprimée).")
    else:
        organisation.set_bank_account_active(db.session, account, action == "activer")
        message = (f"La coordonnée bancaire « {account.nom} » est "
                   f"{'activée' if action == 'activer' else 'désactivée'}.")
    db.session.commit()
    return _done(message, url_for("organisation.bank_accounts", structure_id=structure.id),
                 "organisation/bank_accounts.html", "accounts", structure=structure,
                 can_write=True)


@bp.get("/structure/<int:structure_id>/coordonnees-bancaires/<int:account_id>/rib")
def bank_account_rib(structure_id: int, account_id: int):
    structure = _structure(structure_id)
    account = _account(structure, account_id)
    stored = db.session.get(StoredFile, account.rib_sha256) if account.rib_sha256 else None
    if stored is None:
        abort(404)
    return _download(stored, account.rib_filename or "rib.pdf")


def _download(stored: StoredFile, name: str) -> Response:
    return send_stored(stored, name)


# ------------------------------------------------------------------ documents de la structure

def _document_form(formdata=None) -> DocumentForm:
    form = DocumentForm(formdata=formdata) if formdata is not None else DocumentForm(formdata=None)
    form.type_code.choices = as_choices(
        [("", "— Choisir —")] + choices(db.session, TypePieceJointe))
    return form


@bp.route("/structure/<int:structure_id>/documents", methods=["GET", "POST"])
def documents(structure_id: int):
    structure = _structure(structure_id, WRITE if request.method == "POST" else READ)
    form = _document_form(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        upload = request.files.get("fichier")
        try:
            if upload is None or not upload.filename:
                raise organisation.OrganisationError("fichier", "Choisissez un fichier.")
            document = organisation.add_document(
                db.session, current_user, structure, upload.filename, upload.read(),
                form.designation.data, form.type_code.data,
                current_app.config["ATTACHMENT_MAX_BYTES"])
        except organisation.OrganisationError as exc:
            db.session.rollback()
            field_error(form, exc, "fichier")
        else:
            db.session.commit()
            flash(f"Le document « {document.designation} » est ajouté.", "success")
            return client_redirect(url_for("organisation.documents", structure_id=structure.id))
    status = 422 if form.errors else 200
    return render("organisation/documents.html", "document_form", status, structure=structure,
                  form=form, documents=organisation.documents(db.session, structure),
                  can_write=_can_write(structure))


def _document(structure, document_id: int):
    document = organisation.get_document(db.session, structure, document_id)
    if document is None:
        abort(404)
    return document


@bp.get("/structure/<int:structure_id>/documents/<int:document_id>")
def download_document(structure_id: int, document_id: int):
    structure = _structure(structure_id)
    document = _document(structure, document_id)
    return _download(document.file, document.filename)


@bp.post("/structure/<int:structure_id>/documents/<int:document_id>/supprimer")
def delete_document(structure_id: int, document_id: int):
    structure = _structure(structure_id, WRITE)
    document = _document(structure, document_id)
    designation = document.designation
    organisation.delete_document(db.session, current_user, document)
    db.session.commit()
    return _done(f"Le document « {designation} » est supprimé.",
                 url_for("organisation.documents", structure_id=structure.id),
                 "organisation/documents.html", "documents", structure=structure,
                 form=_document_form(), documents=organisation.documents(db.session, structure),
                 can_write=True)


# ------------------------------------------------------------------ habilitations

@bp.get("/habilitations", endpoint="habilitations")
def habilitations_page():
    """« Mes habilitations » (the tab's endpoint is organisation.habilitations)."""
    form = SearchForm(request.args, meta={"csrf": False})
    rows = habilitations.my_habilitations(db.session, current_user, form.q.data)
    return render("organisation/habilitations.html", "results", form=form, rows=rows,
                  requests=habilitations.my_requests(db.session, current_user),
                  status_labels=habilitations.STATUS_LABELS)


@bp.get("/habilitations/export.csv")
def export_habilitations():
    q = request.args.get("q", "")[:100]
    rows = habilitations.my_habilitations(db.session, current_user, q)
    body = csv_export.to_csv(habilitations.CSV_HEADER, habilitations.csv_rows(rows))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="mes-habilitations.csv"'
    return response


def _manage_context(request_form=None, transfer_forms=None):
    managed = habilitations.managed_structures(db.session, current_user)
    transfers = transfer_forms or {}
    for structure in managed:
        if structure.id not in transfers:
            transfers[structure.id] = TransferForm(prefix=f"t{structure.id}", formdata=None)
        candidates = habilitations.gestionnaire_candidates(db.session, structure)
        transfers[structure.id].user_id.choices = as_choices(
            (u.id, f"{u.full_name} ({u.email})") for u in candidates)
    return {
        "request_form": request_form or JoinStructureForm(prefix="demande",
                                                          meta={"csrf": False}, formdata=None),
        "managed": managed,
        "transfers": transfers,
        "pending": habilitations.managed_habilitations(db.session, current_user,
                                                       HABILITATION_REQUESTED),
        "granted": [h for h in habilitations.managed_habilitations(db.session, current_user)
                    if h.status == "accordee"],
        "mine": habilitations.my_habilitations(db.session, current_user),
        "requests": habilitations.my_requests(db.session, current_user),
        "status_labels": habilitations.STATUS_LABELS,
    }


@bp.route("/habilitations/gerer", methods=["GET", "POST"])
def manage_habilitations():
    """« Gérer mes habilitations »: ask for a profile; the gestionnaire decides."""
    if request.method == "GET":
        return render("organisation/manage_habilitations.html", **_manage_context())
    form = JoinStructureForm(prefix="demande", meta={"csrf": False})
    if form.validate():
        try:
            habilitations.request_profile_by_identifier(
                db.session, current_app.config, current_user, form.identifier_type.data,
                form.identifier.data, form.service_code.data, form.profile.data,
                manage_url=lambda: url_for("organisation.manage_habilitations", _external=True))
        except (organisation.OrganisationError, habilitations.HabilitationError) as exc:
            db.session.rollback()
            field_error(form, exc, "identifier")
        else:
            db.session.commit()
            flash("Votre demande est envoyée au gestionnaire de la structure.", "success")
            return client_redirect(url_for("organisation.manage_habilitations"))
    return render("organisation/manage_habilitations.html", "request_form", 422,
                  **_manage_context(request_form=form))


def _managed(habilitation_id: int):
    try:
        return habilitations.get_managed(db.session, current_user, habilitation_id)
    except habilitations.HabilitationNotFound:
        abort(404)


def _decision_done(message: str) -> Response:
    return _done(message, url_for("organisation.manage_habilitations"),
                 "organisation/manage_habilitations.html", "gestion", **_manage_context())


def _decision_refused(exc) -> Response:
    db.session.rollback()
    if is_fragment_request():
        from blueprints.htmx import no_swap

        return toast(no_swap(Response("", 409)), str(exc), "error")
    flash(str(exc), "error")
    return redirect(url_for("organisation.manage_habilitations"), 303)


@bp.post("/habilitations/<int:habilitation_id>/<any(accorder, refuser):action>")
def decide(habilitation_id: int, action: str):
    habilitation = _managed(habilitation_id)
    try:
        habilitations.decide(db.session, current_app.config, current_user, habilitation,
                             grant=action == "accorder")
    except habilitations.HabilitationError as exc:
        return _decision_refused(exc)
    db.session.commit()
    verdict = "accordé" if action == "accorder" else "refusé"
    return _decision_done(f"Profil « {habilitation.profile_label} » {verdict} à "
                          f"{habilitation.user.full_name}.")


@bp.post("/habilitations/<int:habilitation_id>/retirer")
def remove(habilitation_id: int):
    habilitation = _managed(habilitation_id)
    label, name = habilitation.profile_label, habilitation.user.full_name
    try:
        habilitations.remove(db.session, current_user, habilitation)
    except habilitations.HabilitationError as exc:
        return _decision_refused(exc)
    db.session.commit()
    return _decision_done(f"Profil « {label} » retiré à {name}.")


@bp.post("/habilitations/<int:habilitation_id>/abandonner")
def withdraw(habilitation_id: int):
    try:
        habilitations.withdraw(db.session, current_user, habilitation_id)
    except habilitations.HabilitationNotFound:
        abort(404)
    except habilitations.HabilitationError as exc:
        return _decision_refused(exc)
    db.session.commit()
    flash("Votre profil ou votre demande est supprimé.", "success")
    return client_redirect(url_for("organisation.manage_habilitations"))


@bp.post("/structure/<int:structure_id>/gestionnaire")
def transfer(structure_id: int):
    structure = _structure(structure_id, WRITE)
    if not permissions.is_gestionnaire(current_user, structure):
        abort(403)
    form = TransferForm(prefix=f"t{structure.id}")
    form.user_id.choices = as_choices(
        (u.id, u.full_name) for u in habilitations.gestionnaire_candidates(db.session, structure))
    new_id = form.user_id.data if form.validate_on_submit() else None
    try:
        new = habilitations.transfer_gestionnaire(db.session, current_app.config, current_user,
                                                  structure, new_id)
    except habilitations.HabilitationError as exc:
        return _decision_refused(exc)
    db.session.commit()
    flash(f"{new.full_name} est désormais gestionnaire de {structure.raison_sociale}.",
          "success")
    return client_redirect(url_for("organisation.manage_habilitations"))


@bp.app_template_global()
def structure_tabs(structure) -> list[tuple[str, str, bool]]:
    """Sub-navigation of a structure's pages: (label, url, current)."""
    items = [("Informations", "organisation.show"), ("Services", "organisation.services"),
             ("Coordonnées bancaires", "organisation.bank_accounts"),
             ("Documents de la structure", "organisation.documents")]
    current = request.endpoint
    aliases = {"organisation.new_bank_account": "organisation.bank_accounts"}
    current = aliases.get(current, current)
    return [(label, url_for(endpoint, structure_id=structure.id), endpoint == current)
            for label, endpoint in items]



@bp.app_template_global()
def format_iban(iban: str) -> str:
    return identifiers.format_iban(iban)
