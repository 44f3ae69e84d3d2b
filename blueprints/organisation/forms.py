from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import BaseForm, as_choices
from models.organisation import REGIMES, VAT_TYPES
from services.organisation import BANK_ACCOUNT_TYPES


class StructureForm(BaseForm):
    raison_sociale = StringField("Raison sociale", validators=[
        InputRequired("Saisissez la raison sociale."), Length(max=200)])
    numero_rcs = StringField("Numéro RCS", validators=[Optional(), Length(max=60)])
    tva_intracom = StringField("Numéro TVA intracommunautaire",
                               description="Exemple : FR19812345676 (code pays, clé, SIREN).",
                               validators=[Optional(), Length(max=20)])
    email = EmailField("Adresse électronique", validators=[Optional(), Length(max=254)])
    adresse = StringField("Adresse", validators=[Optional(), Length(max=200)])
    complement1 = StringField("Complément d'adresse 1", validators=[Optional(), Length(max=200)])
    complement2 = StringField("Complément d'adresse 2", validators=[Optional(), Length(max=200)])
    code_postal = StringField("Code postal", validators=[Optional(), Length(max=20)])
    ville = StringField("Ville", validators=[Optional(), Length(max=100)])
    pays = SelectField("Pays", validators=[InputRequired("Choisissez un pays.")])
    telephone = StringField("Téléphone", validators=[Optional(), Length(max=30)])
    categorie_code = SelectField("Catégorie Prestataire", validators=[Optional()])
    regime = RadioField("Régime / Statut", choices=as_choices(REGIMES.items()), validators=[Optional()])
    droit_option = BooleanField(
        "Droit d'option exercé (interprètes et traducteurs)",
        description="Rattachement des sommes perçues aux revenus non salariés (art. D. 311-4 "
                    "CSS) : joignez l'attestation de vigilance URSSAF et l'accusé de réception "
                    "du droit d'option dans les documents de la structure.")
    default_vat_type = RadioField("Type de TVA par défaut", choices=as_choices(VAT_TYPES.items()),
                                  validators=[Optional()])


class ServiceForm(BaseForm):
    code = StringField("Code", validators=[InputRequired("Saisissez le code du service."),
                                           Length(max=40)])
    libelle = StringField("Libellé", validators=[
        InputRequired("Saisissez le libellé du service."), Length(max=200)])


class RenameServiceForm(BaseForm):
    libelle = StringField("Nouveau libellé", validators=[
        InputRequired("Saisissez le libellé du service."), Length(max=200)])


AIDE_SAISIE = (
    "Saisir les données des coordonnées bancaires les unes à la suite des autres sans "
    "séparateur, seulement des caractères alphanumériques."
)


class RequiredMark:
    """Marks a field required (asterisk, `required`) whose presence the service checks: a RIB
    already joined after a refused submission counts as the file."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        return None


class BankAccountForm(BaseForm):
    nom = StringField("Nom de coordonnée bancaire", validators=[
        InputRequired("Saisissez le nom de la coordonnée bancaire."), Length(max=100)])
    structure_id = SelectField("Structure", coerce=int, validators=[
        InputRequired("Choisissez la structure.")])
    affactureur = StringField("Affactureur", validators=[Optional(), Length(max=200)])
    type = SelectField("Type", choices=as_choices(BANK_ACCOUNT_TYPES.items()),
                       validators=[InputRequired("Choisissez le type.")])
    pays = SelectField("Pays", validators=[InputRequired("Choisissez le pays.")])
    bban = StringField("Identification nationale du compte bancaire (BBAN)",
                       description="Pour la France, 23 caractères : code banque, code guichet, "
                                   "numéro de compte et clé RIB.",
                       validators=[InputRequired("Saisissez l'identification nationale du "
                                                 "compte."), Length(max=30)])
    cle_iban = StringField("Clé IBAN", description="2 caractères.", validators=[
        InputRequired("Saisissez la clé IBAN."), Length(max=4)])
    bic = StringField("BIC ou SWIFT", description="8 ou 11 caractères alphanumériques.",
                      validators=[InputRequired("Saisissez le BIC ou SWIFT."), Length(max=15)])
    information = TextAreaField("Information", validators=[
        InputRequired("Saisissez une information."), Length(max=1000)])
    piece_jointe = FileField("Pièce jointe", description="Le RIB : PDF, JPEG, PNG ou TIFF.",
                             validators=[RequiredMark()])


class DocumentForm(BaseForm):
    designation = StringField("Désignation", validators=[
        InputRequired("Indiquez une désignation explicite."), Length(max=100)])
    type_code = SelectField("Type de pièce jointe", validators=[
        InputRequired("Choisissez un type de pièce jointe.")])
    fichier = FileField("Fichier", description="PDF, JPEG, PNG ou TIFF.")


class TransferForm(BaseForm):
    user_id = SelectField("Nouveau gestionnaire", coerce=int, validators=[
        InputRequired("Choisissez un utilisateur.")])


class SearchForm(BaseForm):
    q = StringField("Rechercher", validators=[Optional(), Length(max=100)])


class EmptyForm(BaseForm):
    token = HiddenField()
