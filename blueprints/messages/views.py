"""The message thread of a mémoire (provider's structure ↔ juridiction) and the in-app
notifications (list, counter in the header)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required

from blueprints.files import send_stored
from blueprints.htmx import is_fragment_request, render, toast
from blueprints.messages.forms import MessageForm
from extensions import db
from models import Memoire
from services import attachments, lifecycle, messages, notifications, permissions

bp = Blueprint("messages", __name__)


@bp.app_template_global()
def notification_count() -> int:
    if not current_user.is_authenticated:
        return 0
    return notifications.unread_count(db.session, current_user)


def _memoire(memoire_id: int) -> Memoire:
    try:
        memoire = permissions.get_memoire(db.session, current_user, memoire_id, permissions.READ)
    except permissions.NotFound:
        abort(404)
    if memoire.status not in lifecycle.SENT:
        abort(404)  # a draft has no thread: the juridiction does not know it yet
    return memoire


def _render(memoire: Memoire, form: MessageForm, status: int = 200):
    return render("messages/thread.html", "thread", status, memoire=memoire, form=form,
                  thread=messages.thread(db.session, memoire),
                  can_post=messages.can_post(db.session, current_user, memoire))


@bp.route("/memoires/<int:memoire_id>/messages", methods=["GET", "POST"])
@login_required
def thread(memoire_id: int):
    memoire = _memoire(memoire_id)
    if request.method == "GET":
        return _render(memoire, MessageForm(formdata=None))
    if not messages.can_post(db.session, current_user, memoire):
        abort(403)
    form = MessageForm()
    if form.validate_on_submit():
        limit = current_app.config["ATTACHMENT_MAX_BYTES"]
        uploads = [messages.Upload(f.filename or "", f.read(limit + 1))
                   for f in (form.fichiers.data or []) if f and f.filename]
        try:
            messages.post(db.session, current_user, memoire, form.body.data, uploads,
                          max_bytes=limit, max_pixels=current_app.config["IMAGE_MAX_PIXELS"],
                          settings=current_app.config)
        except messages.MessageError as exc:
            db.session.rollback()
            getattr(form, exc.field).errors.append(str(exc))
        else:
            db.session.commit()
            if is_fragment_request():
                return toast(_render(memoire, MessageForm(formdata=None)), "Message envoyé.",
                             "success")
            flash("Message envoyé.", "success")
            return redirect(url_for("messages.thread", memoire_id=memoire.id) + "#messages", 303)
    return _render(memoire, form, 422)


def _attachment(attachment_id: int):
    try:
        return messages.get_attachment(db.session, current_user, attachment_id)
    except permissions.NotFound:
        abort(404)


def _send(found, inline: bool):
    return send_stored(found.file, found.filename, inline)


@bp.get("/messages/pieces-jointes/<int:attachment_id>/telecharger")
@login_required
def attachment_download(attachment_id: int):
    return _send(_attachment(attachment_id), inline=False)


@bp.get("/messages/pieces-jointes/<int:attachment_id>/visualiser")
@login_required
def attachment_view(attachment_id: int):
    found = _attachment(attachment_id)
    return _send(found, inline=found.extension in attachments.VIEWABLE_EXTENSIONS)


# ---------------------------------------------------------------- notifications

@bp.get("/notifications", endpoint="notifications")
@login_required
def notifications_page():
    return render("messages/notifications.html", "notifications",
                  items=notifications.for_user(db.session, current_user),
                  unread=notifications.unread_count(db.session, current_user))


@bp.post("/notifications/tout-lire")
@login_required
def read_all():
    notifications.mark_read(db.session, current_user)
    db.session.commit()
    if is_fragment_request():
        return toast(notifications_page(), "Notifications marquées comme lues.", "success")
    flash("Notifications marquées comme lues.", "success")
    return redirect(url_for("messages.notifications"), 303)


@bp.post("/notifications/<int:notification_id>")
@login_required
def open_notification(notification_id: int):
    found = notifications.get(db.session, current_user, notification_id)
    if found is None:
        abort(404)
    notifications.mark_read(db.session, current_user, found)
    db.session.commit()
    if found.memoire_id is None:
        return redirect(url_for("messages.notifications"), 303)
    from blueprints.decisions.views import memoire_link

    try:
        memoire = permissions.get_memoire(db.session, current_user, found.memoire_id)
    except permissions.NotFound:
        return redirect(url_for("messages.notifications"), 303)
    if found.kind == notifications.KIND_MESSAGE:
        return redirect(url_for("messages.thread", memoire_id=memoire.id) + "#messages", 303)
    return redirect(memoire_link(memoire), 303)
