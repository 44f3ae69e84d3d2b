"""Look-up forms of « Assistance » (GET forms: bookmarkable, no CSRF token in the URL)."""
from __future__ import annotations

from wtforms import StringField
from wtforms.validators import InputRequired, Length, Regexp, ValidationError

from blueprints.forms import BaseForm
from services import assistance


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class GetForm(BaseForm):
    class Meta:
        csrf = False


class AccountSearchForm(GetForm):
    email = StringField(
        "Adresse électronique", description="L'adresse complète ou son début, par exemple "
                                            "« marie.dupont@ » (majuscules indifférentes).",
        validators=[
            InputRequired("Saisissez l'adresse électronique du compte ou son début."),
            Length(min=assistance.QUERY_MIN,
                   message=f"Saisissez au moins {assistance.QUERY_MIN} caractères."),
            Length(max=254, message="Une adresse électronique compte au plus 254 caractères."),
            Regexp(r"^\S+$", message="Une adresse électronique ne contient pas d'espace."),
        ],
        filters=[_strip],
        render_kw={"type": "search", "autocomplete": "off", "inputmode": "email",
                   "spellcheck": "false"})


class MemoireSearchForm(GetForm):
    numero = StringField(
        "Numéro du mémoire", description="MJ suivi de 10 chiffres (mémoire envoyé) ou TMP suivi "
                                         "de 12 chiffres (brouillon).",
        validators=[InputRequired("Saisissez le numéro du mémoire."),
                    Length(max=40, message="Ce numéro est trop long.")],
        filters=[_strip],
        render_kw={"type": "search", "autocomplete": "off", "spellcheck": "false"})

    def validate_numero(self, field):
        if not assistance.is_numero(field.data or ""):
            raise ValidationError("Un numéro de mémoire commence par MJ ou TMP suivi de "
                                  "chiffres, par exemple MJ0000002117.")
