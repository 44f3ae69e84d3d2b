"""The money module (REFERENCE §3): exact decimals, half-up per line, débours outside the VAT base."""
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.formatting import amount
from services.money import (
    MAX_AMOUNT, AmountError, LineInput, line_amounts, parse_decimal, round_cents, totals,
)


def test_webinar_line_1_x_150_at_5_5_percent_gives_158_25():
    a = line_amounts(LineInput(quantite=D("1"), tarif_ht=D("150.00"), taux_tva=D("5.5")))
    assert (a.montant_prestation_ht, a.montant_total_ht, a.tva, a.ttc) == (
        D("150.00"), D("150.00"), D("8.25"), D("158.25"))
    assert a.autres_montants is False


def test_worked_example_with_frais_divers_and_debours_gives_127_88():
    a = line_amounts(LineInput(quantite=D("3"), tarif_ht=D("30.00"), taux_tva=D("20"),
                               frais_divers=D("12.40"), debours=D("5.00")))
    assert a.montant_prestation_ht == D("90.00")
    assert a.montant_total_ht == D("102.40")
    assert a.tva == D("20.48")
    assert a.ttc == D("127.88")
    assert a.autres_montants is True


def test_remise_lowers_the_vat_base():
    a = line_amounts(LineInput(quantite=D("1"), tarif_ht=D("100"), taux_tva=D("20"),
                               remise=D("10")))
    assert (a.montant_total_ht, a.tva, a.ttc) == (D("90"), D("18.00"), D("108.00"))


def test_cents_add_up_exactly():
    assert parse_decimal("0,10") + parse_decimal("0,20") == D("0.30")
    t = totals([line_amounts(LineInput(D("1"), D("0.10"), D("0"))),
                line_amounts(LineInput(D("1"), D("0.20"), D("0")))])
    assert t.ttc_total == D("0.30")


def test_rounding_is_half_up_to_the_cent():
    assert round_cents(D("0.005")) == D("0.01")
    assert round_cents(D("0.0049")) == D("0.00")
    assert round_cents(D("2.675")) == D("2.68")  # a float would give 2.67
    a = line_amounts(LineInput(quantite=D("1"), tarif_ht=D("0.10"), taux_tva=D("5.5")))
    assert a.tva == D("0.01")  # 0.0055 rounds up


def test_totals_recap_by_rate_and_global_discount():
    lines = [line_amounts(LineInput(D("1"), D("150"), D("5.5"))),
             line_amounts(LineInput(D("3"), D("30"), D("20"), frais_divers=D("12.40"),
                                    debours=D("5"))),
             line_amounts(LineInput(D("2"), D("10"), D("20")))]
    t = totals(lines, remise_globale_ttc=D("1.13"))
    assert t.montant_ht == D("272.40")
    assert t.montant_tva == D("32.73")
    assert t.debours == D("5")
    assert t.ttc_avant_remise == D("310.13")
    assert t.ttc_total == D("309.00")
    assert [(r.taux, r.base_ht, r.tva) for r in t.vat_recap] == [
        (D("20"), D("122.40"), D("24.48")), (D("5.5"), D("150.00"), D("8.25"))]


@pytest.mark.parametrize("text, expected", [
    ("1 200,50", D("1200.50")), ("1\u202f200,50", D("1200.50")), ("1\u00a0200,50", D("1200.50")),
    ("150", D("150.00")), ("150,00", D("150.00")), ("12,50", D("12.50")), ("12.5", D("12.50")),
    ("1,500", D("1.50")), ("-5", D("-5.00")), (" 7 ", D("7.00")), ("", None), (None, None),
])
def test_french_numbers_are_read(text, expected):
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["1e3", "NaN", "nan", "Infinity", "inf", "1,2,3", "1.200,50",
                                  "12,505", "douze", "0x10", "9" * 40, "--5", "1_000"])
def test_anything_else_is_refused_with_a_french_message(text):
    with pytest.raises(AmountError) as exc:
        parse_decimal(text)
    assert any(word in str(exc.value) for word in ("Saisissez", "décimales", "trop grand"))


# ------------------------------------------------------------------ properties

cents = st.decimals(min_value=0, max_value=D("99999.99"), places=2, allow_nan=False,
                    allow_infinity=False)
quantities = st.decimals(min_value=D("0.01"), max_value=D("999.99"), places=2,
                         allow_nan=False, allow_infinity=False)
rates = st.sampled_from([D("0"), D("2.1"), D("5.5"), D("10"), D("20")])


@st.composite
def line_inputs(draw):
    quantite, tarif = draw(quantities), draw(cents)
    frais = draw(cents)
    remise = draw(st.decimals(min_value=0, max_value=round_cents(quantite * tarif) + frais,
                              places=2, allow_nan=False, allow_infinity=False))
    return LineInput(quantite=quantite, tarif_ht=tarif, taux_tva=draw(rates), frais_divers=frais,
                     debours=draw(cents), remise=remise)


def _is_cents(value: D) -> bool:
    return value == value.quantize(D("0.01"))


@given(line_inputs())
def test_ttc_is_exactly_ht_plus_tva_plus_debours(line):
    a = line_amounts(line)
    assert a.ttc == a.montant_total_ht + a.tva + a.debours
    assert a.montant_total_ht == a.montant_prestation_ht + line.frais_divers - line.remise
    assert all(_is_cents(v) for v in (a.montant_prestation_ht, a.montant_total_ht, a.tva, a.ttc))
    assert abs(a.tva - a.montant_total_ht * line.taux_tva / 100) <= D("0.005")
    assert a.ttc >= a.debours


@given(st.lists(line_inputs(), max_size=8), cents)
def test_totals_are_the_sum_of_the_lines(lines, remise):
    per_line = [line_amounts(line) for line in lines]
    t = totals(per_line, remise)
    assert t.montant_ht == sum((a.montant_total_ht for a in per_line), D(0))
    assert t.montant_tva == sum((a.tva for a in per_line), D(0))
    assert t.ttc_avant_remise == sum((a.ttc for a in per_line), D(0))
    assert t.ttc_total == t.ttc_avant_remise - remise
    assert sum((r.base_ht for r in t.vat_recap), D(0)) == t.montant_ht
    assert sum((r.tva for r in t.vat_recap), D(0)) == t.montant_tva
    assert len({r.taux for r in t.vat_recap}) == len(t.vat_recap)


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False,
                   allow_infinity=False))
def test_a_displayed_amount_reads_back_to_the_same_value(value):
    assert parse_decimal(amount(value)) == value


@given(st.text(max_size=30))
def test_reading_never_fails_with_anything_but_a_french_message(text):
    try:
        value = parse_decimal(text)
    except AmountError:
        return
    assert value is None or (value.is_finite() and _is_cents(value))


def test_days_of_stored_utc_moments_are_paris_days():
    """23:13 UTC on 26 November is already the 27th in Paris, as moment() shows it."""
    from datetime import date, datetime

    from services.formatting import day, long_day, moment

    late = datetime(2026, 11, 26, 23, 13)
    assert (day(late), moment(late)) == ("27/11/2026", "27/11/2026 00:13")
    assert long_day(late) == "27 nov. 2026"
    assert day(date(2026, 11, 26)) == "26/11/2026"
    assert day(datetime(2026, 7, 1, 21, 59)) == "01/07/2026"  # summer time: UTC+2
