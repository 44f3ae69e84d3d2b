"""Blueprints: one package per area, each with views.py and forms.py."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from blueprints.auth.views import bp as auth_bp
    from blueprints.main.views import bp as main_bp

    for bp in (main_bp, auth_bp):
        app.register_blueprint(bp)
