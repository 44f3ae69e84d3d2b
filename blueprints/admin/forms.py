from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import BaseForm, FrenchDateField, FrenchDecimalField, as_choices
from models.juridiction import JURIDICTION_TYPES


class JuridictionForm(BaseForm):
    code = StringField("Code", description="Ex. tj75056 (tribunal judiciaire + code INSEE).",
                       validators=[InputRequired("Saisissez le code."), Length(max=40)])
    nom = StringField("Nom", validators=[InputRequired("Saisissez le nom."), Length(max=200)])
    departement = StringField("Département", validators=[
        InputRequired("Saisissez le département."), Length(max=3)])
    type = SelectField("Type", choices=as_choices(JURIDICTION_TYPES.items()),
                       validators=[InputRequired("Choisissez le type.")])


class RenameForm(BaseForm):
    nom = StringField("Nom", validators=[InputRequired("Saisissez le nom."), Length(max=200)])


class StaffForm(BaseForm):
    full_name = StringField("Nom et prénom", validators=[
        InputRequired("Saisissez le nom et le prénom."), Length(max=200)])
    email = EmailField("Adresse électronique", validators=[
        InputRequired("Saisissez l'adresse électronique."), Length(max=254)])


class TariffForm(BaseForm):
    amount = FrenchDecimalField("Montant HT (€)", validators=[InputRequired("Saisissez le montant.")])
    valid_from = FrenchDateField("Début de validité", validators=[
        InputRequired("Saisissez la date de début.")])
    reference = StringField("Texte de référence", validators=[
        InputRequired("Saisissez le texte de référence."), Length(max=200)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])


class EditTariffForm(BaseForm):
    valid_to = FrenchDateField("Fin de validité", validators=[Optional()])
    reference = StringField("Texte de référence", validators=[
        InputRequired("Saisissez le texte de référence."), Length(max=200)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)])
