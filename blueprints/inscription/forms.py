from wtforms import EmailField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError

from blueprints.forms import BaseForm, as_choices
from models.organisation import IDENTIFIER_TYPES, PROFILES, REGIMES

PASSWORD_HELP = "Au moins 12 caractères ; une phrase de plusieurs mots est idéale."


class SignupForm(BaseForm):
    full_name = StringField("Nom et prénom", validators=[
        InputRequired("Saisissez vos nom et prénom."), Length(max=200)])
    email = EmailField("Adresse électronique", validators=[
        InputRequired("Saisissez votre adresse électronique."), Length(max=254)])
    password = PasswordField("Mot de passe", description=PASSWORD_HELP, validators=[
        InputRequired("Choisissez un mot de passe."), Length(max=256)])
    confirm = PasswordField("Confirmer le mot de passe", validators=[
        InputRequired("Confirmez le mot de passe."),
        EqualTo("password", "Les deux mots de passe ne sont pas identiques.")])

    def validate_email(self, field):
        value = (field.data or "").strip()
        local, _, domain = value.rpartition("@")
        if not local or "." not in domain or " " in value:
            raise ValidationError("Adresse électronique invalide (exemple : nom@domaine.fr).")


class ForgotForm(BaseForm):
    email = EmailField("Adresse électronique", validators=[
        InputRequired("Saisissez votre adresse électronique."), Length(max=254)])


class ResetForm(BaseForm):
    password = PasswordField("Nouveau mot de passe", description=PASSWORD_HELP, validators=[
        InputRequired("Choisissez un mot de passe."), Length(max=256)])
    confirm = PasswordField("Confirmer le nouveau mot de passe", validators=[
        InputRequired("Confirmez le mot de passe."),
        EqualTo("password", "Les deux mots de passe ne sont pas identiques.")])


class ConfirmForm(BaseForm):
    pass


IDENTIFIER_HELP = ("SIRET : 14 chiffres. Particulier : les 10 premiers chiffres du numéro de "
                   "sécurité sociale suivis du NOM et du PRÉNOM. Union européenne hors France : "
                   "numéro de TVA intracommunautaire.")


class CreateStructureForm(BaseForm):
    identifier_type = SelectField("Type d'identifiant", choices=as_choices(IDENTIFIER_TYPES.items()),
                                  validators=[InputRequired("Choisissez un type d'identifiant.")])
    identifier = StringField("Identifiant", description=IDENTIFIER_HELP, validators=[
        InputRequired("Saisissez l'identifiant de la structure."), Length(max=60)])
    raison_sociale = StringField("Raison sociale", validators=[
        InputRequired("Saisissez la raison sociale (ou vos nom et prénom)."), Length(max=200)])
    pays = SelectField("Pays", validators=[InputRequired("Choisissez un pays.")])
    categorie_code = SelectField("Catégorie prestataire", validators=[Optional()])
    regime = RadioField("Régime / Statut", choices=as_choices(REGIMES.items()),
                        validators=[Optional()])


class JoinStructureForm(BaseForm):
    identifier_type = SelectField("Type d'identifiant", choices=as_choices(IDENTIFIER_TYPES.items()),
                                  validators=[InputRequired("Choisissez un type d'identifiant.")])
    identifier = StringField("Identifiant de la structure", validators=[
        InputRequired("Saisissez l'identifiant de la structure."), Length(max=60)])
    service_code = StringField("Code service (facultatif)", validators=[Length(max=40)])
    profile = RadioField("Profil", choices=as_choices(PROFILES.items()),
                         default="consultation",
                         validators=[InputRequired("Choisissez un profil.")])
