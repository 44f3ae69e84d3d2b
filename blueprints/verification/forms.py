"""Form of the public verification page (a GET form: nothing changes, no CSRF token)."""
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Regexp

from blueprints.forms import BaseForm


class VerificationForm(BaseForm):
    class Meta:
        csrf = False

    numero = StringField("Numéro du mémoire", validators=[
        InputRequired("Saisissez le numéro du mémoire (MJ suivi de 10 chiffres)."),
        Regexp(r"^\s*[Mm][Jj]\d{10}\s*$",
               message="Le numéro d'un mémoire envoyé commence par MJ suivi de 10 chiffres."),
    ])
    empreinte = StringField("Empreinte", validators=[
        InputRequired("Saisissez l'empreinte du certificat de dépôt."),
        Length(max=100, message="L'empreinte compte 44 caractères."),
    ])
