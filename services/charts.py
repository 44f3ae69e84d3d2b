"""Charts drawn on the server as inline SVG (no chart library in the browser).

This module computes the geometry (bars, ticks, legend); templates/suivi/_charts.html writes
the SVG with autoescaping, as <svg role="img"> with a <title> and a <desc>, and the same numbers
as a data table next to it for screen readers and for printing.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from services import formatting, lifecycle
from services.dashboard import Delay, MonthAmounts

# Colours with at least 3:1 contrast against white (WCAG 1.4.11, graphical objects).
STATUS_COLOURS = {
    lifecycle.BROUILLON: "#5f6b7a",
    lifecycle.ENVOYE: "#1d4ed8",
    lifecycle.MIS_A_DISPOSITION: "#0e7490",
    lifecycle.REFUSE: "#b91c1c",
    lifecycle.DUPLIQUE_POST_REFUS: "#a16207",
    lifecycle.ABANDONNE: "#6d28d9",
    lifecycle.MIS_EN_PAIEMENT: "#15803d",
}
MEDIAN_COLOUR = "#1d4ed8"
P90_COLOUR = "#b45309"
MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
          "nov.", "déc."]


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # the bar's value in words (tooltip)


@dataclass
class Text:
    x: float
    y: float
    text: str
    anchor: str = "middle"
    title: str = ""  # the full text when `text` is abbreviated


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[Text] = field(default_factory=list)
    grid: list[tuple[float, float, float, float]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.bars


def nice_step(maximum, ticks: int = 4):
    """A round step (1, 2 or 5 × 10^n) so that `ticks` steps cover `maximum`, in the type of
    `maximum` (Decimal for amounts, which never become floats)."""
    number = type(maximum)
    if maximum <= 0:
        return number(1)
    raw = maximum / ticks
    magnitude = number(10) ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def month_label(month) -> str:
    return f"{MONTHS[month.month - 1]} {month.strftime('%y')}"


def monthly_amounts_chart(months: list[MonthAmounts], chart_id: str = "montants") -> Chart:
    """Stacked bars: Montant TTC per month, one colour per status."""
    width, height = 720, 300
    left, right, top, bottom = 84, 10, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(m.amounts.values(), Decimal(0)) for m in months]
    maximum = max(totals, default=Decimal(0))
    step = nice_step(maximum)
    top_value = step * max(1, math.ceil(maximum / step)) if maximum else step
    chart = Chart(chart_id, "Montants TTC par mois et par état",
                  "Montant TTC des mémoires selon le mois de leur état courant, sur "
                  f"{len(months)} mois, empilé par état.", width, height)
    value = Decimal(0)
    while value <= top_value:
        y = top + plot_h - plot_h * value / top_value
        chart.grid.append((left, y, width - right, y))
        chart.labels.append(Text(left - 6, y + 4, formatting.number(value) + " €", "end"))
        value += step
    slot = plot_w / max(len(months), 1)
    used = set()
    for index, month in enumerate(months):
        x = left + index * slot + slot * 0.15
        base = top + plot_h
        for status in lifecycle.STATUSES:
            amount = month.amounts.get(status, Decimal(0))
            if not amount:
                continue
            used.add(status)
            bar_h = plot_h * amount / top_value
            base -= bar_h
            chart.bars.append(Bar(x, base, slot * 0.7, bar_h, STATUS_COLOURS[status],
                                  f"{month_label(month.month)} — {lifecycle.label(status)} : "
                                  f"{formatting.amount(amount)} €"))
        chart.labels.append(Text(x + slot * 0.35, height - bottom + 16, month_label(month.month)))
    chart.legend = [(STATUS_COLOURS[s], lifecycle.label(s)) for s in lifecycle.STATUSES
                    if s in used]
    return chart


def delays_chart(delays: list[Delay], chart_id: str = "delais") -> Chart:
    """Horizontal bars per juridiction: median and 90th percentile of the days from sending to
    payment."""
    names = [short_juridiction(d.juridiction) for d in delays]
    # The names' margin: about 7 px per character at 12 px.
    row_h, right, top = 44, 60, 24
    left = min(max(16 + 7 * max((len(n) for n in names), default=0), 80), 16 + 7 * LABEL_CHARS)
    width = 720
    height = top + row_h * max(len(delays), 1) + 12
    plot_w = width - left - right
    maximum = max((d.p90 for d in delays), default=0.0)
    step = nice_step(maximum)
    top_value = step * max(1, math.ceil(maximum / step)) if maximum else step
    chart = Chart(chart_id, "Délai de paiement par juridiction",
                  "Nombre de jours entre l'envoi et la mise en paiement : médiane et "
                  "90e centile, par juridiction, sur les 12 derniers mois.", width, height)
    value = 0.0
    while value <= top_value + 1e-9:
        x = left + plot_w * value / top_value
        chart.grid.append((x, top - 4, x, height - 12))
        chart.labels.append(Text(x, top - 8, f"{value:g} j"))
        value += step
    for index, (delay, name) in enumerate(zip(delays, names)):
        y = top + index * row_h + 6
        chart.labels.append(Text(left - 8, y + 19, name, "end", delay.juridiction))
        for offset, (value, colour, what) in enumerate(((delay.median, MEDIAN_COLOUR, "médiane"),
                                                        (delay.p90, P90_COLOUR, "90e centile"))):
            bar_w = plot_w * value / top_value
            chart.bars.append(Bar(left, y + offset * 16, max(bar_w, 1), 14, colour,
                                  f"{delay.juridiction} — {what} : {days(value)}"))
            chart.labels.append(Text(left + max(bar_w, 1) + 4, y + offset * 16 + 11,
                                     days(value), "start"))
    chart.legend = [(MEDIAN_COLOUR, "Médiane"), (P90_COLOUR, "90e centile")]
    return chart


# « 92 - Tribunal judiciaire de Nanterre » -> « TJ Nanterre »; « Cour d'appel d'Agen » -> « CA Agen ».
JURIDICTION_KINDS = [(re.compile(r"^Tribunal judiciaire (?:de |d'|d’)", re.I), "TJ "),
                     (re.compile(r"^Tribunal judiciaire du ", re.I), "TJ Le "),
                     (re.compile(r"^Tribunal judiciaire des ", re.I), "TJ Les "),
                     (re.compile(r"^Cour d'appel (?:de |d'|d’)", re.I), "CA "),
                     (re.compile(r"^Cour d'appel du ", re.I), "CA Le ")]
LABEL_CHARS = 34  # what the left margin of the délai chart holds at 12 px


def short_juridiction(label: str) -> str:
    """A juridiction's label short enough for a chart axis (the full label goes in <title>)."""
    name = re.sub(r"^\S+ - ", "", label)
    for pattern, short in JURIDICTION_KINDS:
        name = pattern.sub(short, name, count=1)
    name = name.replace(" (chambre détachée)", " (ch. dét.)")
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"


def days(value: float) -> str:
    rounded = round(value, 1)
    text = formatting.number(Decimal(str(rounded)))
    return f"{text} jour{'s' if rounded >= 2 else ''}"
