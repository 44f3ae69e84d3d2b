"""Forms of « Saisir mémoire »: the header, a prestation line and its bordereau des frais divers.

Format checks only (required, numbers, dates); the domain rules live in services.memoires and
its errors are put back next to their fields with `apply_errors`.
"""
from __future__ import annotations

from decimal import Decimal

from wtforms import (
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import BaseForm, FrenchDateField, FrenchDecimalField
from models.memoire import FRAIS_NATURES
from models.organisation import VAT_TYPES
from services import formatting
from services.memoires import DEVISES, FraisData, LineData
from services.money import AmountError, parse_decimal


class AmountField(FrenchDecimalField):
    """An amount shown with its cents: « 12,40 »."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return formatting.amount(self.data) if self.data is not None else ""


def to_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def to_rate(value) -> Decimal | None:
    try:
        return parse_decimal(value, 2)
    except AmountError:
        return None


class HeaderForm(BaseForm):
    juridiction_id = SelectField("Juridiction", validate_choice=False, validators=[
        InputRequired("Choisissez la juridiction destinataire.")])
    structure_id = SelectField("Structure", validate_choice=False, validators=[
        InputRequired("Choisissez une structure.")])
    service_id = SelectField("Service", validate_choice=False)
    categorie_code = SelectField("Catégorie de prestataire", validate_choice=False, validators=[
        InputRequired("Choisissez la catégorie de prestataire.")])
    bank_account_id = SelectField("Références bancaires", validate_choice=False, validators=[
        InputRequired("Choisissez les références bancaires du paiement.")])
    devise = SelectField("Devise du mémoire", choices=dict(DEVISES), default="EUR",
                         validate_choice=False, validators=[InputRequired("Choisissez la devise.")])
    texte_code = SelectField("Texte de référence", validate_choice=False, validators=[
        InputRequired("Choisissez le texte de référence.")])
    vat_type = RadioField("Type de TVA", choices=dict(VAT_TYPES), validate_choice=False,
                          validators=[InputRequired("Choisissez le type de TVA.")])
    numero_facture = StringField("Numéro de facture", validators=[Optional(), Length(max=50)],
                                 description="Facultatif : le numéro de votre propre facture.")
    version = HiddenField()

    def header_fields(self) -> dict:
        return {
            "structure_id": to_int(self.structure_id.data),
            "service_id": to_int(self.service_id.data),
            "juridiction_id": to_int(self.juridiction_id.data),
            "categorie_code": self.categorie_code.data or "",
            "bank_account_id": to_int(self.bank_account_id.data),
            "devise": self.devise.data or "",
            "texte_code": self.texte_code.data or "",
            "vat_type": self.vat_type.data or "",
            "numero_facture": self.numero_facture.data,
        }


class FraisForm(Form):
    """A row of the bordereau (a sub-form: the CSRF token is the line form's)."""

    date = FrenchDateField("Date", validators=[InputRequired("Saisissez la date du frais.")])
    nature = SelectField("Nature", choices={"": "Choisir…", **FRAIS_NATURES},
                         validate_choice=False)
    quantite = FrenchDecimalField("Quantité", validators=[
        InputRequired("Saisissez la quantité.")])
    montant = AmountField("Montant", validators=[InputRequired("Saisissez le montant.")])


class LineForm(BaseForm):
    # Version of the mémoire when an existing line was opened: two tabs never overwrite a line.
    version = HiddenField()
    numero_affaire = StringField("N° d'affaire", validators=[
        InputRequired("Saisissez le numéro d'affaire figurant sur la réquisition."),
        Length(max=50, message="50 caractères au plus.")])
    date_requisition = FrenchDateField("Date de la réquisition", validators=[
        InputRequired("Saisissez la date de la réquisition.")])
    autorite_code = SelectField("Autorité requérante", validate_choice=False, validators=[
        InputRequired("Choisissez l'autorité requérante.")])
    type_code = SelectField("Type de la prestation", validate_choice=False, validators=[
        InputRequired("Choisissez le type de la prestation.")])
    date_prestation = FrenchDateField("Date de la prestation", validators=[
        InputRequired("Saisissez la date de la prestation.")])
    quantite = FrenchDecimalField("Quantité", validators=[InputRequired("Saisissez la quantité.")])
    tarif_ht = AmountField("Tarif de la prestation HT", validators=[
        InputRequired("Saisissez le tarif de la prestation HT.")])
    taux_tva = SelectField("Taux TVA", validate_choice=False, validators=[
        InputRequired("Choisissez le taux de TVA.")])
    frais_divers = AmountField("Frais divers", validators=[Optional()])
    debours = AmountField("Débours (non soumis à la TVA)", validators=[Optional()])
    remise = AmountField("Remise", validators=[Optional()])
    frais = FieldList(FormField(FraisForm), min_entries=0)
    # The tariff last pre-filled by the server: a price the user typed is never replaced.
    tarif_auto = HiddenField()

    def line_data(self) -> LineData:
        """What was typed, readable even when some fields are invalid (None where unreadable)."""
        rows = [FraisData(date=entry.form.date.data, nature=entry.form.nature.data or "",
                          quantite=entry.form.quantite.data, montant=entry.form.montant.data)
                for entry in self.frais]
        return LineData(
            numero_affaire=self.numero_affaire.data or "",
            date_requisition=self.date_requisition.data, autorite_code=self.autorite_code.data,
            type_code=self.type_code.data, date_prestation=self.date_prestation.data,
            quantite=self.quantite.data, tarif_ht=self.tarif_ht.data,
            taux_tva=to_rate(self.taux_tva.data), frais_divers=self.frais_divers.data,
            debours=self.debours.data, remise=self.remise.data, frais=rows,
        )

    def fill(self, data: LineData) -> None:
        self.numero_affaire.data = data.numero_affaire
        self.date_requisition.data = data.date_requisition
        self.autorite_code.data = data.autorite_code
        self.type_code.data = data.type_code
        self.date_prestation.data = data.date_prestation
        self.quantite.data = data.quantite
        self.tarif_ht.data = data.tarif_ht
        self.taux_tva.data = rate_value(data.taux_tva)
        self.frais_divers.data = data.frais_divers
        self.debours.data = data.debours
        self.remise.data = data.remise
        for row in data.frais:
            self.frais.append_entry({"date": row.date, "nature": row.nature,
                                     "quantite": row.quantite, "montant": row.montant})


def rate_value(rate: Decimal | None) -> str:
    """The option value of a VAT rate: 5.50 -> '5.5', 20.00 -> '20'."""
    if rate is None:
        return ""
    text = format(rate.normalize(), "f")
    return text


def apply_errors(form, errors: dict[str, str]) -> None:
    """Put the service's messages next to their fields (frais-0-montant -> form.frais[0].montant)."""
    for name, message in errors.items():
        if name.startswith("frais-"):
            _, index, sub = name.split("-", 2)
            entries = form.frais.entries
            if index.isdigit() and int(index) < len(entries):
                _append(getattr(entries[int(index)].form, sub), message)
            continue
        target = getattr(form, name, None)
        if target is not None:
            _append(target, message)


def _append(field, message: str) -> None:
    if not isinstance(field.errors, list):
        field.errors = list(field.errors)
    if message not in field.errors:
        field.errors.append(message)
