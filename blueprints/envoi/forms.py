"""Form of the « Confirmation d'envoi » dialog."""
from wtforms import HiddenField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from blueprints.forms import BaseForm
from services.submission import JUSTIFICATION_MAX


class ConfirmForm(BaseForm):
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    justification_forclusion = TextAreaField(
        "Justification du dépôt tardif",
        validators=[Optional(), Length(max=JUSTIFICATION_MAX,
                                       message=f"{JUSTIFICATION_MAX} caractères au plus.")],
    )
