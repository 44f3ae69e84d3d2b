"""Forms of the « Gestion des pièces jointes » page."""
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Length

from blueprints.forms import BaseForm
from services.attachments import MAX_DESIGNATION


class AttachmentForm(BaseForm):
    fichier = FileField("Sélection de la pièce jointe",
                        validators=[FileRequired("Sélectionnez un fichier.")])
    designation = StringField("Désignation", validators=[
        InputRequired("Indiquez une désignation explicite."),
        Length(max=MAX_DESIGNATION, message=f"{MAX_DESIGNATION} caractères au plus."),
    ])
    type_code = SelectField("Type de pièce jointe", choices=[],
                            validators=[InputRequired("Choisissez un type de pièce jointe.")])

    def set_types(self, choices: list[tuple[str, str]]) -> None:
        self.type_code.choices = [("", "Choisissez un type")] + choices
