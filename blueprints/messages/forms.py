"""Form of the message thread of a mémoire."""
from flask_wtf.file import MultipleFileField
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from blueprints.forms import BaseForm
from services.messages import MAX_BODY


class MessageForm(BaseForm):
    body = TextAreaField("Votre message", validators=[
        InputRequired("Saisissez votre message."),
        Length(max=MAX_BODY, message=f"{MAX_BODY} caractères au plus."),
    ])
    fichiers = MultipleFileField("Pièces jointes (facultatif)",
                                 description="PDF, JPEG, PNG ou TIFF ; 5 fichiers au plus.")
