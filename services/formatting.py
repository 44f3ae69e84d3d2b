"""French display of numbers, amounts and dates (Babel)."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

LOCALE = "fr_FR"


def amount(value: Decimal | None) -> str:
    """1200.5 -> '1 200,50' (no currency)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.00", locale=LOCALE)


def money(value: Decimal | None, currency: str = "EUR") -> str:
    """1200.5 -> '1 200,50 EUR', as on the certificate."""
    if value is None:
        return ""
    return f"{amount(value)} {currency}"


def number(value: Decimal | None) -> str:
    """Quantities and rates: 1 -> '1', 5.50 -> '5,5', 2.25 -> '2,25'."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##", locale=LOCALE)


PARIS = ZoneInfo("Europe/Paris")


def _aware(value: datetime) -> datetime:
    """Datetimes are stored in UTC without a zone."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _paris_day(value: date | datetime) -> date:
    """The day in Paris of a stored UTC moment (23:13 UTC on the 26th is the 27th in Paris)."""
    return _aware(value).astimezone(PARIS).date() if isinstance(value, datetime) else value


def day(value: date | datetime | None) -> str:
    """25/07/2019"""
    if value is None:
        return ""
    return format_date(_paris_day(value), format="dd/MM/yyyy", locale=LOCALE)


def long_day(value: date | datetime | None) -> str:
    """25 juil. 2019"""
    if value is None:
        return ""
    return format_date(_paris_day(value), format="medium", locale=LOCALE)


def moment(value: datetime | None) -> str:
    """25/07/2019 14:03 (UTC stored, shown in Paris time)."""
    if value is None:
        return ""
    return format_datetime(_aware(value), format="dd/MM/yyyy HH:mm", tzinfo=PARIS, locale=LOCALE)


def nonbreaking(text: str) -> str:
    """Typography of running text: « 375 000 € » never breaks inside the number or before €/%."""
    text = re.sub(r"(?<=\d) (?=\d{3}\b)", "\u202f", text)
    return re.sub(r" (?=[€%])", "\u00a0", text)
