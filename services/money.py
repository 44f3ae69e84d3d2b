"""Every amount of the portal is computed here (REFERENCE.md §3). Decimal only, never float.

Per line: HT = quantité × tarif, rounded half-up to the cent; the VAT base is
HT + frais divers − remise; TVA = base × taux, rounded half-up; TTC = base + TVA + débours
(débours are outside the VAT base). The mémoire totals and the VAT recap add rounded line values.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999.99")
MAX_DIGITS = 15  # integer digits accepted when reading a number (far above MAX_AMOUNT)


class AmountError(ValueError):
    """A typed amount that cannot be read; the message is for the user (French)."""


def round_cents(value: Decimal) -> Decimal:
    """The one rounding rule: half-up to the cent."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


_SPACES = re.compile(r"[\s\u00a0\u202f']")
_DECIMAL = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")


def parse_decimal(text: str | None, places: int = 2) -> Decimal | None:
    """Read a French number: '1 200,50', '150', '150,00', '12.5'. Empty gives None.

    Refuses exponents, NaN, infinities and more than `places` decimals.
    """
    if text is None:
        return None
    cleaned = _SPACES.sub("", str(text))
    if cleaned == "":
        return None
    if not _DECIMAL.match(cleaned):
        raise AmountError("Saisissez un nombre, par exemple 1 200,50.")
    if len(cleaned.lstrip("+-").split(",")[0].split(".")[0].lstrip("0")) > MAX_DIGITS:
        raise AmountError("Nombre trop grand.")
    try:
        value = Decimal(cleaned.replace(",", "."))
        step = Decimal(1).scaleb(-places)
        if value != value.quantize(step, rounding=ROUND_HALF_UP):
            raise AmountError(f"{places} décimales au plus.")
        return value.quantize(step)
    except InvalidOperation as exc:  # pragma: no cover - the regex and length already filter
        raise AmountError("Saisissez un nombre, par exemple 1 200,50.") from exc


@dataclass(frozen=True)
class LineInput:
    quantite: Decimal
    tarif_ht: Decimal
    taux_tva: Decimal  # percent, e.g. 5.5
    frais_divers: Decimal = ZERO
    debours: Decimal = ZERO
    remise: Decimal = ZERO


@dataclass(frozen=True)
class LineAmounts:
    montant_prestation_ht: Decimal
    montant_total_ht: Decimal  # VAT base: prestation + frais divers − remise
    tva: Decimal
    debours: Decimal
    ttc: Decimal
    taux_tva: Decimal
    autres_montants: bool


def line_amounts(line: LineInput) -> LineAmounts:
    prestation = round_cents(line.quantite * line.tarif_ht)
    base = prestation + line.frais_divers - line.remise
    tva = round_cents(base * line.taux_tva / Decimal(100))
    return LineAmounts(
        montant_prestation_ht=prestation,
        montant_total_ht=base,
        tva=tva,
        debours=line.debours,
        ttc=base + tva + line.debours,
        taux_tva=line.taux_tva,
        autres_montants=any(v != 0 for v in (line.frais_divers, line.debours, line.remise)),
    )


@dataclass(frozen=True)
class VatRow:
    taux: Decimal
    base_ht: Decimal
    tva: Decimal


@dataclass(frozen=True)
class Totals:
    montant_ht: Decimal  # « Montant HT après remise globale »
    montant_tva: Decimal
    debours: Decimal
    remise_globale_ttc: Decimal
    ttc_avant_remise: Decimal
    ttc_total: Decimal
    vat_recap: list[VatRow] = field(default_factory=list)


def totals(lines: Iterable[LineAmounts], remise_globale_ttc: Decimal = ZERO) -> Totals:
    recap: dict[Decimal, list[Decimal]] = {}
    ht = tva = debours = ZERO
    for amounts in lines:
        ht += amounts.montant_total_ht
        tva += amounts.tva
        debours += amounts.debours
        row = recap.setdefault(amounts.taux_tva, [ZERO, ZERO])
        row[0] += amounts.montant_total_ht
        row[1] += amounts.tva
    avant = ht + tva + debours
    return Totals(
        montant_ht=ht,
        montant_tva=tva,
        debours=debours,
        remise_globale_ttc=remise_globale_ttc,
        ttc_avant_remise=avant,
        ttc_total=avant - remise_globale_ttc,
        vat_recap=[VatRow(t, b, v) for t, (b, v) in sorted(recap.items(), reverse=True)],
    )
