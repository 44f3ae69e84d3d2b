from wtforms import EmailField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from blueprints.forms import BaseForm


class LoginForm(BaseForm):
    email = EmailField("Adresse électronique", validators=[
        InputRequired("Saisissez votre adresse électronique."), Length(max=254)])
    password = PasswordField("Mot de passe", validators=[
        InputRequired("Saisissez votre mot de passe."), Length(max=256)])


class ChangePasswordForm(BaseForm):
    current = PasswordField("Mot de passe actuel", validators=[
        InputRequired("Saisissez votre mot de passe actuel.")])
    new = PasswordField("Nouveau mot de passe", validators=[
        InputRequired("Saisissez un nouveau mot de passe."), Length(max=256)],
        description="Au moins 12 caractères ; une phrase de plusieurs mots est idéale.")
    confirm = PasswordField("Confirmer le nouveau mot de passe", validators=[
        InputRequired("Confirmez le nouveau mot de passe."),
        EqualTo("new", "Les deux mots de passe ne sont pas identiques.")])

