"""Form pieces shared by every area: French messages, French decimals and dates."""
from __future__ import annotations

from datetime import date, datetime

from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import TextInput

from services.money import AmountError, parse_decimal


def as_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def field_error(form, exc, default: str) -> None:
    """Show a domain error (with its `field`, else `default`) next to that field of the form."""
    field = getattr(form, exc.field or default, None) or getattr(form, default)
    field.errors = list(field.errors) + [str(exc)]


class BaseForm(FlaskForm):
    class Meta:
        locales = ["fr_FR", "fr"]


class DecimalInput(TextInput):
    """A text input with a decimal keyboard: type=number would refuse « 12,50 »."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("inputmode", "decimal")
        kwargs.setdefault("autocomplete", "off")
        return super().__call__(field, **kwargs)


class FrenchDecimalField(Field):
    """Accepts « 1 200,50 », « 150 », « 150,00 », « 12.5 »; shows values the French way."""

    widget = DecimalInput()

    def __init__(self, label=None, validators=None, places: int = 2, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.places = places
        self.raw = ""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        from services.formatting import number

        return number(self.data)

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        if not valuelist:
            return
        try:
            self.data = parse_decimal(valuelist[0], self.places)
        except AmountError as exc:
            self.data = None
            raise ValueError(str(exc)) from exc


class FrenchDateField(StringField):
    """A native date input (ISO), also accepting « 25/07/2019 » typed by hand."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {})["type"] = "date"
        super().__init__(label, validators, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                self.data = datetime.strptime(text, fmt).date()
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError("Date invalide : utilisez le format jj/mm/aaaa.")
