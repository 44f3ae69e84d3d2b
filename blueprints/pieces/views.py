"""« Gestion des pièces jointes » (whole mémoire), « Lier pièces jointes » (one line), and the
download / inline view / delete of an attachment. Every object goes through services.permissions.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from blueprints.files import send_stored
from blueprints.htmx import is_fragment_request, render, toast
from blueprints.main.navigation import has_endpoint
from blueprints.pieces.forms import AttachmentForm
from extensions import db
from models import Memoire, PrestationLine, TypePieceJointe
from services import attachments, lifecycle, permissions
from services.reference_data import choices

bp = Blueprint("pieces", __name__)

TEMPLATE = "pieces/manage.html"


def memoire_or_abort(memoire_id: int, right: str = permissions.READ) -> Memoire:
    """The mémoire if the user may see it (else 404) and, for WRITE, change it (else 403)."""
    return permissions.get_memoire(db.session, current_user, memoire_id, right)


def can_write(memoire: Memoire) -> bool:
    return (memoire.status in lifecycle.EDITABLE and not memoire.numero_mj
            and permissions.can(db.session, current_user, memoire.structure_id, permissions.WRITE))


def memoire_url(memoire: Memoire) -> str:
    if has_endpoint("saisie.show"):
        return url_for("saisie.show", memoire_id=memoire.id)
    return url_for("envoi.memoire_pdf", memoire_id=memoire.id)


def _line_or_abort(memoire: Memoire, line_id: int | None) -> PrestationLine | None:
    if line_id is None:
        return None
    line = db.session.get(PrestationLine, line_id)
    if line is None or line.memoire_id != memoire.id:
        abort(404)
    return line


def _page_url(memoire: Memoire, line: PrestationLine | None) -> str:
    if line is not None:
        return url_for("pieces.line", memoire_id=memoire.id, line_id=line.id)
    return url_for("pieces.manage", memoire_id=memoire.id)


def _form() -> AttachmentForm:
    form = AttachmentForm()
    form.set_types(choices(db.session, TypePieceJointe))
    return form


def _render(memoire: Memoire, line: PrestationLine | None, form: AttachmentForm,
            status: int = 200):
    writable = can_write(memoire)
    listed = [a for a in memoire.attachments if line is None or a.line_id == line.id]
    positions = {l.id: index for index, l in enumerate(memoire.lines, start=1)}
    back = memoire_url(memoire) + (f"#line-{line.id}" if line is not None else "#attachments")
    return render(
        TEMPLATE, "pieces", status,
        memoire=memoire, line=line, line_number=positions.get(line.id) if line else None,
        form=form, can_write=writable, attachments=listed, positions=positions,
        library=(attachments.library(db.session, memoire.structure_id, importable=True)
                 if writable else []),
        page_url=_page_url(memoire, line), back_url=back,
        max_size=attachments.size_label(current_app.config["ATTACHMENT_MAX_BYTES"]),
        max_count=current_app.config["ATTACHMENTS_PER_MEMOIRE"],
        viewable=attachments.VIEWABLE_EXTENSIONS,
    )


def _done(memoire: Memoire, line: PrestationLine | None, message: str):
    """After a change: the refreshed block for htmx, Post/Redirect/Get otherwise."""
    if is_fragment_request():
        return toast(_render(memoire, line, _form_fresh()), message, "success")
    flash(message, "success")
    return redirect(_page_url(memoire, line), 303)


def _form_fresh() -> AttachmentForm:
    form = AttachmentForm(formdata=None)
    form.set_types(choices(db.session, TypePieceJointe))
    return form


@bp.route("/memoires/<int:memoire_id>/pieces-jointes", methods=["GET", "POST"])
@login_required
def manage(memoire_id: int):
    return _manage(memoire_id, None)


@bp.route("/memoires/<int:memoire_id>/lignes/<int:line_id>/pieces-jointes",
          methods=["GET", "POST"])
@login_required
def line(memoire_id: int, line_id: int):
    return _manage(memoire_id, line_id)


def _manage(memoire_id: int, line_id: int | None):
    writing = request.method == "POST"
    memoire = memoire_or_abort(memoire_id, permissions.WRITE if writing else permissions.READ)
    line = _line_or_abort(memoire, line_id)
    if not writing:
        return _render(memoire, line, _form_fresh())
    form = _form()
    if form.validate_on_submit():
        upload = form.fichier.data
        limit = current_app.config["ATTACHMENT_MAX_BYTES"]
        try:
            attachments.add_attachment(
                db.session, current_user, memoire, line, upload.filename or "",
                upload.read(limit + 1), form.designation.data, form.type_code.data,
                max_bytes=limit, max_count=current_app.config["ATTACHMENTS_PER_MEMOIRE"],
                max_pixels=current_app.config["IMAGE_MAX_PIXELS"],
            )
        except attachments.UploadError as exc:
            db.session.rollback()
            getattr(form, exc.field, form.fichier).errors.append(str(exc))
        else:
            db.session.commit()
            return _done(memoire, line, "Pièce jointe ajoutée.")
    return _render(memoire, line, form, 422)


@bp.post("/memoires/<int:memoire_id>/pieces-jointes/importer/<int:document_id>")
@login_required
def import_document(memoire_id: int, document_id: int):
    memoire = memoire_or_abort(memoire_id, permissions.WRITE)
    line = _line_or_abort(memoire, request.form.get("ligne", type=int))
    try:
        document = permissions.get_attachment(db.session, current_user, document_id)
    except permissions.NotFound:
        abort(404)
    if document.memoire_id is not None or document.structure_id != memoire.structure_id:
        abort(404)
    try:
        attachments.import_document(db.session, current_user, memoire, document, line,
                                    max_count=current_app.config["ATTACHMENTS_PER_MEMOIRE"])
    except attachments.UploadError as exc:
        db.session.rollback()
        abort(422, description=str(exc))
    db.session.commit()
    return _done(memoire, line, f"« {document.designation} » importée.")


def _attachment_or_abort(attachment_id: int, right: str = permissions.READ):
    return permissions.get_attachment(db.session, current_user, attachment_id, right)


def _send(attachment, inline: bool):
    stored = attachment.file
    return send_stored(stored, attachment.filename, inline)


@bp.get("/pieces-jointes/<int:attachment_id>/telecharger")
@login_required
def download(attachment_id: int):
    return _send(_attachment_or_abort(attachment_id), inline=False)


@bp.get("/pieces-jointes/<int:attachment_id>/visualiser")
@login_required
def view(attachment_id: int):
    attachment = _attachment_or_abort(attachment_id)
    return _send(attachment, inline=attachment.extension in attachments.VIEWABLE_EXTENSIONS)


@bp.post("/pieces-jointes/<int:attachment_id>/supprimer")
@login_required
def delete(attachment_id: int):
    attachment = _attachment_or_abort(attachment_id)
    if attachment.memoire_id is None:
        abort(404)  # library documents are managed with the structure
    memoire = memoire_or_abort(attachment.memoire_id, permissions.WRITE)
    line = _line_or_abort(memoire, request.form.get("ligne", type=int))
    designation = attachment.designation
    try:
        attachments.delete_attachment(db.session, current_user, attachment)
    except attachments.UploadError as exc:
        db.session.rollback()
        abort(409, description=str(exc))
    db.session.commit()
    return _done(memoire, line, f"« {designation} » supprimée.")
