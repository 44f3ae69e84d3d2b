"""Public verification of a certificat de dépôt (no login): does this number and empreinte
match what was filed? Only the date, the juridiction and the amount are told."""
from __future__ import annotations

from flask import Blueprint, current_app, request

from blueprints.htmx import render
from blueprints.verification.forms import VerificationForm
from extensions import db, limiter
from services import certificate

bp = Blueprint("verification", __name__)


def _limit() -> str:
    return current_app.config.get("VERIFICATION_RATE_LIMIT", "30 per minute")


@bp.get("/verification")
@limiter.limit(_limit)
def verify():
    form = VerificationForm(request.args)
    result = None
    submitted = "numero" in request.args or "empreinte" in request.args
    if submitted and form.validate():
        result = certificate.verify(db.session, form.numero.data, form.empreinte.data)
    elif not submitted:
        form = VerificationForm(formdata=None)
    return render("verification/verify.html", "verification", 422 if form.errors else 200,
                  form=form, result=result)
