"""« Valider et envoyer »: the checks, the « Confirmation d'envoi » dialog, the sending, the
récapitulatif, and the PDFs (certificat de dépôt, whole mémoire)."""
from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    request,
    url_for,
)
from flask_login import current_user, login_required

from blueprints.envoi.forms import ConfirmForm
from blueprints.htmx import client_redirect, is_fragment_request, no_swap, render, toast
from blueprints.pieces.views import memoire_or_abort, memoire_url
from extensions import db
from models import Certificate, Memoire
from services import pdf, permissions, submission, transmission
from services.memoires import amounts

bp = Blueprint("envoi", __name__)

CONFLICT_MESSAGE = ("Le mémoire a été modifié depuis sa validation. Rechargez la page, vérifiez-le "
                    "puis cliquez à nouveau sur « Valider et envoyer ».")


def _months() -> dict:
    return {"warning_months": current_app.config["FORCLUSION_WARNING_MONTHS"],
            "forclusion_months": current_app.config["FORCLUSION_MONTHS"]}


def _render_check(memoire: Memoire, problems: list, form: ConfirmForm, status: int | None = None):
    errors = submission.blocking(problems, except_justification=True)
    justification = next((p for p in problems if p.code == submission.FORCLOSED), None)
    warnings = [p for p in problems if not p.blocking and p is not justification]
    return render(
        "envoi/validate.html", "envoi", status or (422 if errors else 200),
        memoire=memoire, errors=errors, warnings=warnings, justification=justification,
        form=form, honour=submission.HONOUR_STATEMENT, modal=is_fragment_request(),
        back_url=memoire_url(memoire),
        field_url=_field_url(memoire),
    )


def _field_url(memoire: Memoire):
    base = memoire_url(memoire)

    def link(problem) -> str:
        if problem.field_id == "attachments" and base.endswith(".pdf"):
            return url_for("pieces.manage", memoire_id=memoire.id)
        return f"{base}#{problem.field_id}"

    return link


@bp.post("/memoires/<int:memoire_id>/envoi")
@login_required
def validate(memoire_id: int):
    memoire = memoire_or_abort(memoire_id, permissions.WRITE)
    if memoire.numero_mj:
        return client_redirect(url_for("envoi.recap", memoire_id=memoire.id))
    problems = submission.check_before_sending(db.session, memoire, date.today(), **_months())
    return _render_check(memoire, problems, ConfirmForm(formdata=None, version=memoire.version))


@bp.post("/memoires/<int:memoire_id>/envoi/confirmation")
@login_required
def confirm(memoire_id: int):
    memoire = memoire_or_abort(memoire_id, permissions.WRITE)
    if memoire.numero_mj:  # a second click after the first one went through
        return _recap_response(memoire)
    form = ConfirmForm()
    if not form.validate_on_submit():
        problems = submission.check_before_sending(db.session, memoire, date.today(), **_months())
        return _retarget(_render_check(memoire, problems, form, 422))
    try:
        submission.submit(db.session, memoire, current_user, request.remote_addr,
                          submission.HONOUR_VERSION, form.justification_forclusion.data,
                          expected_version=form.version.data, **_months())
    except submission.SubmissionError as exc:
        db.session.rollback()
        memoire = memoire_or_abort(memoire_id, permissions.WRITE)
        for problem in exc.problems:
            if problem.code == submission.FORCLOSED:
                form.justification_forclusion.errors.append(
                    "Saisissez la justification du dépôt tardif (2 000 caractères au plus).")
        problems = submission.check_before_sending(db.session, memoire, date.today(), **_months())
        return _retarget(_render_check(memoire, problems, form, 422))
    except submission.SubmissionConflict:
        db.session.rollback()
        memoire = memoire_or_abort(memoire_id, permissions.READ)
        if memoire.numero_mj:
            return _recap_response(memoire)
        return _conflict(memoire)
    db.session.commit()
    # The juridiction receives it at once, recorded as a transition of the system.
    transmission.transmit(db.session, memoire, current_app.config)
    return _recap_response(memoire)


def _retarget(response: Response) -> Response:
    """Errors of the dialog's form replace the dialog (#envoi), not the page."""
    if is_fragment_request():
        response.headers["HX-Retarget"] = "#envoi"
        response.headers["HX-Reswap"] = "innerHTML"
    return response


def _conflict(memoire: Memoire) -> Response:
    if is_fragment_request():
        return toast(no_swap(make_response("", 409)), CONFLICT_MESSAGE, "error")
    abort(409, description=CONFLICT_MESSAGE)


def _sent_or_abort(memoire_id: int) -> tuple[Memoire, Certificate]:
    memoire = memoire_or_abort(memoire_id)
    certificate = db.session.get(Certificate, memoire.id)
    if not memoire.numero_mj or certificate is None:
        abort(404)
    return memoire, certificate


def _recap_context(memoire: Memoire, certificate: Certificate) -> dict:
    _, totals = amounts(memoire)
    return {"memoire": memoire, "certificate": certificate, "totals": totals,
            "memoire_url": memoire_url(memoire)}


def _recap_response(memoire: Memoire) -> Response:
    """The récapitulatif in place of the page (htmx), or Post/Redirect/Get to it."""
    recap_url = url_for("envoi.recap", memoire_id=memoire.id)
    if not is_fragment_request():
        return client_redirect(recap_url)
    memoire, certificate = _sent_or_abort(memoire.id)
    response = render("envoi/recap.html", "recap", **_recap_context(memoire, certificate))
    response.headers["HX-Push-Url"] = recap_url
    return response


@bp.get("/memoires/<int:memoire_id>/recapitulatif")
@login_required
def recap(memoire_id: int):
    memoire, certificate = _sent_or_abort(memoire_id)
    return render("envoi/recap.html", "recap", **_recap_context(memoire, certificate))


def _pdf(data: bytes, filename: str) -> Response:
    response = make_response(data)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/memoires/<int:memoire_id>/certificat-de-depot.pdf")
@login_required
def certificate_pdf(memoire_id: int):
    memoire, certificate = _sent_or_abort(memoire_id)
    verify_url = url_for("verification.verify", numero=memoire.numero_mj,
                         empreinte=certificate.empreinte, _external=True)
    return _pdf(pdf.certificate_pdf(memoire, certificate, verify_url),
                f"certificat-de-depot-{memoire.numero_mj}.pdf")


@bp.get("/memoires/<int:memoire_id>/memoire.pdf")
@login_required
def memoire_pdf(memoire_id: int):
    memoire = memoire_or_abort(memoire_id)
    return _pdf(pdf.memoire_pdf(memoire), f"memoire-{memoire.numero}.pdf")

