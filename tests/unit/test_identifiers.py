"""IBAN, BIC, SIRET and VAT numbers from several countries: valid ones pass, each wrong one is
refused with a message naming the faulty part."""
import pytest

from services.identifiers import (
    IdentifierError, bban_length, check_bic, check_bic_country, check_iban, check_iban_parts,
    check_siren, check_siret, check_vat, rib_key,
)


@pytest.mark.parametrize("iban", [
    "FR7630006000011234567890189",      # REFERENCE.md check value
    "FR14 2004 1010 0505 0001 3M02 606",  # letters in the account number (RIB key mapping)
    "DE89370400440532013000",
    "BE71096123456769",
    "IT60X0542811101000000123456",
    "ES9121000418450200051332",
    "NL91ABNA0417164300",
    "MC5811222000010123456789030",
    "GB29NWBK60161331926819",
    "CH9300762011623852957",
    "LU280019400644750000",
    "PT50000201231234567890154",
])
def test_valid_ibans_from_several_countries(iban):
    parts = check_iban(iban)
    assert parts.iban == iban.replace(" ", "")
    assert parts.country == iban[:2]


@pytest.mark.parametrize("iban, part, words", [
    ("FR7730006000011234567890189", "cle", "clé IBAN"),
    ("FR7630006000011234567890188", "bban", "clé RIB"),
    ("FR763000600001123456789018", "bban", "23 caractères"),
    ("DE8937040044053201300", "bban", "18 caractères"),
    ("DE89370400440532013001", "cle", "modulo 97"),
    ("BE71096123456768", "bban", "clé nationale"),
    ("IT6012542811101000000123456", "bban", "bloc n° 1"),
    ("ES9121000418450200051333", "bban", "clé nationale"),
    ("XX89370400440532013000", "pays", "n'utilise pas l'IBAN"),
    ("US89370400440532013000", "pays", "n'utilise pas l'IBAN"),
])
def test_invalid_ibans_say_which_part_is_wrong(iban, part, words):
    with pytest.raises(IdentifierError) as error:
        check_iban(iban)
    assert error.value.part == part
    assert words in str(error.value)


def test_french_bban_parts_are_named():
    with pytest.raises(IdentifierError, match="code guichet"):
        check_iban_parts("FR", "76", "30006A0001123456789018 ".strip() + "9")
    assert bban_length("FR") == 23 and bban_length("DE") == 18 and bban_length("BE") == 12


def test_rib_key_maps_letters_as_the_banks_do():
    assert rib_key("30006", "00001", "12345678901") == "89"
    assert rib_key("20041", "01005", "0500013M026") == "06"


@pytest.mark.parametrize("bic", ["AGRIFRPP", "AGRIFRPP882", "deut de ff", "BNPAFRPPXXX",
                                 "COBADEFFXXX", "GEBABEBB", "BCITITMM", "CAIXESBB"])
def test_valid_bics(bic):
    assert check_bic(bic) == bic.replace(" ", "").upper()


@pytest.mark.parametrize("bic, words", [
    ("AGRIFRP", "8 ou 11"), ("AGRIFRPP88", "8 ou 11"), ("AGR1FRPP", "code banque"),
    ("AGRIF2PP", "code pays"), ("AGRIQQPP", "n'existe pas"), ("AGRI-FR_PP", "lettres"), ("", "Saisissez"),
])
def test_invalid_bics_say_which_part_is_wrong(bic, words):
    with pytest.raises(IdentifierError, match=words):
        check_bic(bic)


def test_bic_country_must_match_the_account_country():
    check_bic_country("AGRIFRPP", "FR")
    check_bic_country("AGRIFRPP", "MC")
    with pytest.raises(IdentifierError, match="ne correspond pas"):
        check_bic_country("COBADEFF", "FR")


@pytest.mark.parametrize("siret", ["81234567600017", "732 829 320 00074", "35600000000048"])
def test_valid_sirets(siret):
    assert check_siret(siret) == siret.replace(" ", "")


@pytest.mark.parametrize("siret, words", [
    ("81234567600018", "NIC"), ("81234567700017", "SIREN"), ("8123456760001", "14 chiffres"),
    ("8123456760001A", "chiffres"), ("", "Saisissez"),
])
def test_invalid_sirets_say_which_part_is_wrong(siret, words):
    with pytest.raises(IdentifierError, match=words):
        check_siret(siret)


def test_siren():
    assert check_siren("812 345 676") == "812345676"
    with pytest.raises(IdentifierError, match="contrôle"):
        check_siren("812345677")


@pytest.mark.parametrize("vat", ["FR19812345676", "FR 40 303 265 045", "DE136695976",
                                 "BE0403170701", "IT00743110157", "ESA13585625",
                                 "NL004495445B01", "EL094259216", "LU15027442", "ATU13585627"])
def test_valid_vat_numbers(vat):
    assert check_vat(vat) == vat.replace(" ", "")


@pytest.mark.parametrize("vat, part, words", [
    ("FR18812345676", "cle", "clé"), ("DE136695977", "cle", "Allemagne"),
    ("BE0403170702", "cle", "Belgique"), ("IT0074311015", "numero", "longueur"),
    ("US123456789", "pays", "État membre"), ("GR094259216", "pays", "EL"),
    ("123456789", "pays", "code du pays"),
])
def test_invalid_vat_numbers_say_which_part_is_wrong(vat, part, words):
    with pytest.raises(IdentifierError) as error:
        check_vat(vat)
    assert error.value.part == part
    assert words in str(error.value)


def test_french_vat_must_carry_the_structure_siren():
    with pytest.raises(IdentifierError, match="SIREN"):
        check_vat("FR40303265045", expected_siren="812345676")
