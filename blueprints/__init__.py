"""Blueprints: one package per area, each with views.py and forms.py."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints.admin.views import bp as admin_bp
    from blueprints.assistance.views import bp as assistance_bp
    from blueprints.auth.views import bp as auth_bp
    from blueprints.decisions.views import bp as decisions_bp
    from blueprints.envoi.views import bp as envoi_bp
    from blueprints.inscription.views import bp as inscription_bp
    from blueprints.juridiction.views import bp as juridiction_bp
    from blueprints.main.views import bp as main_bp
    from blueprints.messages.views import bp as messages_bp
    from blueprints.organisation.views import bp as organisation_bp
    from blueprints.pieces.views import bp as pieces_bp
    from blueprints.saisie.views import bp as saisie_bp
    from blueprints.suivi.views import bp as suivi_bp
    from blueprints.verification.views import bp as verification_bp

    for bp in (main_bp, auth_bp, inscription_bp, organisation_bp, saisie_bp,
               pieces_bp, envoi_bp, verification_bp, admin_bp,
               juridiction_bp, decisions_bp, messages_bp, suivi_bp, assistance_bp):
        app.register_blueprint(bp)
