"""Forms of the juridiction's back office: queue filters and the decisions on a mémoire."""
from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import BaseForm, FrenchDateField, FrenchDecimalField, as_choices
from services import lifecycle

ASSIGNMENT_FILTERS = {"": "Tous", "moi": "Attribués à moi", "aucun": "Non attribués"}
STATUS_FILTERS = {"": "À traiter (Mis à disposition)", "tous": "Tous les états",
                  **{s: lifecycle.label(s) for s in lifecycle.STATUSES
                     if s in lifecycle.RECEIVED_BY_JURIDICTION}}


class QueueFilterForm(BaseForm):
    """GET filters of « Mémoires reçus » (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False
        locales = ["fr_FR", "fr"]

    statut = SelectField("État", choices=as_choices(STATUS_FILTERS.items()), validators=[Optional()])
    type_code = SelectField("Type de prestation", validators=[Optional()])
    prestataire = StringField("Prestataire", validators=[Optional(), Length(max=100)],
                              description="Raison sociale ou identifiant (SIRET…).")
    du = FrenchDateField("Envoyé depuis le", validators=[Optional()])
    au = FrenchDateField("Envoyé jusqu'au", validators=[Optional()])
    montant_min = FrenchDecimalField("Montant TTC minimal", validators=[Optional()])
    montant_max = FrenchDecimalField("Montant TTC maximal", validators=[Optional()])
    attribution = SelectField("Attribution", choices=as_choices(ASSIGNMENT_FILTERS.items()),
                              validators=[Optional()])

    def set_types(self, pairs) -> None:
        self.type_code.choices = as_choices([("", "Tous les types"), *pairs])


class VersionForm(BaseForm):
    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class RefuseForm(VersionForm):
    reason_code = SelectField("Motif de refus", validators=[InputRequired("Choisissez un motif de refus.")])
    text = TextAreaField("Précisions pour le prestataire", validators=[Optional(), Length(max=2000)],
                         description="Ce texte est envoyé au prestataire avec le motif.")

    def set_reasons(self, reasons) -> None:
        self.reason_code.choices = as_choices([("", "Choisissez un motif"),
                                               *((r.code, r.libelle) for r in reasons)])


class CertifyForm(VersionForm):
    route = RadioField("Voie", choices=as_choices(lifecycle.CERTIFICATION_ROUTES.items()),
                       default=lifecycle.CERTIFIE,
                       validators=[InputRequired("Choisissez la voie : certification ou taxation.")])
    montant_retenu = FrenchDecimalField("Montant retenu TTC (€)",
                                        validators=[InputRequired("Saisissez le montant retenu.")])
    motif = TextAreaField("Motif du montant modifié", validators=[Optional(), Length(max=2000)],
                          description="Obligatoire si le montant retenu diffère du montant demandé.")


class PayForm(VersionForm):
    paid_on = FrenchDateField("Date de mise en paiement",
                              validators=[InputRequired("Saisissez la date de mise en paiement.")])
    reference = StringField("Référence du paiement",
                            validators=[InputRequired("Saisissez la référence du paiement."),
                                        Length(max=50, message="50 caractères au plus.")])


class AssignForm(VersionForm):
    assignee_id = SelectField("Attribuer à", validators=[Optional()])

    def set_agents(self, agents) -> None:
        self.assignee_id.choices = as_choices([("", "Non attribué"),
                                               *((str(a.id), a.full_name) for a in agents)])

    @property
    def assignee(self) -> int | None:
        try:
            return int(self.assignee_id.data) if self.assignee_id.data else None
        except (TypeError, ValueError):
            return None


class BatchForm(BaseForm):
    """« Certifier la sélection »: the checked mémoires come as the repeated field "ids"."""
