"""Criteria forms of the tracking screens (GET forms: bookmarkable, no CSRF token in the URL)."""
from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import BaseForm, FrenchDateField, FrenchDecimalField, as_choices
from services import search
from services.search import Criteria

ALL_OPTION = ("", "Tous")


class GetForm(BaseForm):
    class Meta:
        csrf = False


class SearchForm(GetForm):
    numero = StringField("Numéro de mémoire", validators=[Optional(), Length(max=20)],
                         render_kw={"type": "search", "autocomplete": "off"})
    juridiction_id = SelectField("Juridiction", default="")
    engagement = StringField("Numéro d'engagement juridique",
                             validators=[Optional(), Length(max=30)],
                             render_kw={"type": "search", "autocomplete": "off"})
    depot_du = FrenchDateField("Date de dépôt du")
    depot_au = FrenchDateField("Date de dépôt au")
    status = SelectField("État courant", default="")
    categorie_code = SelectField("Catégorie de prestataire", default="")
    structure_id = SelectField("Prestataire", default="")
    prestataire = StringField("Prestataire", validators=[Optional(), Length(max=100)],
                              description="Raison sociale ou SIRET",
                              render_kw={"type": "search", "autocomplete": "off"})
    service_id = SelectField("Service prestataire", default="")
    texte_code = SelectField("Texte de référence", default="")
    # « Critères avancés »
    affaire = StringField("N° d'affaire", validators=[Optional(), Length(max=50)],
                          render_kw={"type": "search", "autocomplete": "off"})
    type_code = SelectField("Type de prestation", default="")
    prestation_du = FrenchDateField("Date de prestation du")
    prestation_au = FrenchDateField("Date de prestation au")
    montant_min = FrenchDecimalField("Montant TTC minimum")
    montant_max = FrenchDecimalField("Montant TTC maximum")
    archives = BooleanField("Inclure les archives")
    tri = SelectField("Trier par", choices=as_choices(search.SORTS.items()),
                      default=search.DEFAULT_SORT)
    ordre = SelectField("Ordre", choices=as_choices([("desc", "Décroissant"),
                                                     ("asc", "Croissant")]),
                        default="desc")
    lignes = SelectField("Lignes par page",
                         choices=as_choices((n, str(n)) for n in search.PER_PAGE_CHOICES),
                         default=str(search.DEFAULT_PER_PAGE))

    def set_choices(self, *, juridictions, statuses, categories, structures, services, textes,
                    types) -> None:
        self.juridiction_id.choices = as_choices([("", "Toutes")] + juridictions)
        self.status.choices = as_choices([ALL_OPTION] + statuses)
        self.categorie_code.choices = as_choices([("", "Toutes")] + categories)
        self.structure_id.choices = as_choices([ALL_OPTION] + structures)
        self.service_id.choices = as_choices([ALL_OPTION] + services)
        self.texte_code.choices = as_choices([ALL_OPTION] + textes)
        self.type_code.choices = as_choices([ALL_OPTION] + types)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for start, end in ((self.depot_du, self.depot_au),
                           (self.prestation_du, self.prestation_au)):
            if start.data and end.data and end.data < start.data:
                end.errors = list(end.errors) + [
                    "La date de fin doit être postérieure ou égale à la date de début."]
                valid = False
        low, high = self.montant_min.data, self.montant_max.data
        if low is not None and high is not None and high < low:
            self.montant_max.errors = list(self.montant_max.errors) + [
                "Le montant maximum doit être supérieur ou égal au montant minimum."]
            valid = False
        return valid

    def criteria(self, scope: str | None = None) -> Criteria:
        """The criteria typed (call after validate; invalid fields are ignored)."""

        def number(value) -> int | None:
            return int(value) if value and str(value).isdigit() else None

        return Criteria(
            numero=self.numero.data or "", juridiction_id=number(self.juridiction_id.data),
            engagement=self.engagement.data or "", depot_du=self.depot_du.data,
            depot_au=self.depot_au.data, status=self.status.data or "",
            categorie_code=self.categorie_code.data or "",
            structure_id=number(self.structure_id.data), prestataire=self.prestataire.data or "",
            service_id=number(self.service_id.data), texte_code=self.texte_code.data or "",
            affaire=self.affaire.data or "", type_code=self.type_code.data or "",
            prestation_du=self.prestation_du.data, prestation_au=self.prestation_au.data,
            montant_min=self.montant_min.data, montant_max=self.montant_max.data,
            archives=scope or (search.ALL if self.archives.data else search.CURRENT),
        )

    @property
    def has_advanced(self) -> bool:
        return any(f.data not in (None, "") for f in (
            self.affaire, self.type_code, self.prestation_du, self.prestation_au,
            self.montant_min, self.montant_max)) or any(
            f.errors for f in (self.montant_min, self.montant_max, self.prestation_du,
                               self.prestation_au))


class FiscalForm(GetForm):
    structure_id = SelectField("Structure", default="")
    du = FrenchDateField("Date de l'état courant du", validators=[
        InputRequired("Indiquez la date de début de la période.")])
    au = FrenchDateField("Date de l'état courant au", validators=[
        InputRequired("Indiquez la date de fin de la période.")])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.du.errors or self.au.errors:
            return False
        problem = search.fiscal_period_error(self.du.data, self.au.data)
        if problem:
            field, message = problem
            getattr(self, field).errors = list(getattr(self, field).errors) + [message]
            return False
        return valid
