"""Home page (« Accueil ») and the navigation shared by every page."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from blueprints.main.navigation import can_write_somewhere, has_endpoint, navigation_for
from extensions import db
from models import Habilitation, Juridiction, Memoire, Structure, User
from models.organisation import HABILITATION_GRANTED, ROLE_AGENT, ROLE_PRESTATAIRE
from services import lifecycle, permissions

bp = Blueprint("main", __name__)


@bp.app_context_processor
def navigation_context():
    def navigation():
        return navigation_for(current_user.role) if current_user.is_authenticated else []

    return {"navigation": navigation, "has_endpoint": has_endpoint,
            "can_write_somewhere": can_write_somewhere, "status_label": lifecycle.label}


@bp.get("/")
@login_required
def home():
    context = {}
    if current_user.role == ROLE_PRESTATAIRE:
        context["habilitations"] = db.session.scalars(
            select(Habilitation).where(Habilitation.user_id == current_user.id)
            .order_by(Habilitation.structure_id, Habilitation.profile)
        ).all()
    if current_user.role in (ROLE_PRESTATAIRE, ROLE_AGENT):
        context["recent"] = db.session.scalars(
            permissions.visible_memoires(db.session, current_user)
            .order_by(Memoire.updated_at.desc(), Memoire.id.desc()).limit(10)
        ).all()
    if current_user.role == "admin":
        context["counts"] = {
            "Utilisateurs": db.session.scalar(select(func.count(User.id))),
            "Structures": db.session.scalar(select(func.count(Structure.id))),
            "Juridictions": db.session.scalar(select(func.count(Juridiction.id))),
            "Mémoires": db.session.scalar(select(func.count(Memoire.id))),
        }
    return render_template("main/home.html", granted=HABILITATION_GRANTED, **context)
