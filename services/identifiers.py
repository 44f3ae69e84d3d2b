"""Identifiers checked with python-stdnum: SIRET/SIREN, intra-EU VAT numbers, IBAN (with the
French RIB key) and BIC. Every error names the part that is wrong, in French.

Each `check_*` function returns the compact form to store, or raises IdentifierError.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from babel import Locale
from stdnum import bic as std_bic
from stdnum import iban as std_iban
from stdnum import numdb
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.fr import siren as fr_siren
from stdnum.fr import siret as fr_siret
from stdnum.util import clean

_FRENCH = Locale("fr")
_IBAN_DB = numdb.get("iban")
_STRUCT = re.compile(r"([1-9][0-9]*)!([nac])")
_KINDS = {"n": "chiffres", "a": "lettres", "c": "caractères alphanumériques"}


class IdentifierError(ValueError):
    """A wrong identifier; `part` names the faulty component (for the field to highlight)."""

    def __init__(self, message: str, part: str | None = None):
        super().__init__(message)
        self.part = part


def country_name(code: str) -> str:
    return _FRENCH.territories.get(code.upper(), code.upper())


def countries() -> list[tuple[str, str]]:
    """(ISO code, French name) of every country, by name."""
    names = {code: name for code, name in _FRENCH.territories.items()
             if len(code) == 2 and code.isalpha() and code not in {"ZZ", "EU", "EZ", "UN", "QO"}}
    return sorted(names.items(), key=lambda item: _sort_key(item[1]))


def _sort_key(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _compact(value: str, extra: str = "") -> str:
    return clean(value or "", " -." + extra).strip().upper()


# ------------------------------------------------------------------ SIREN / SIRET

def check_siren(value: str) -> str:
    number = _compact(value)
    if not number:
        raise IdentifierError("Saisissez le numéro SIREN (9 chiffres).")
    if not number.isdigit():
        raise IdentifierError("Le SIREN ne doit contenir que des chiffres.")
    if len(number) != 9:
        raise IdentifierError(f"Le SIREN compte 9 chiffres ({len(number)} saisis).")
    try:
        fr_siren.validate(number)
    except ValidationError:
        raise IdentifierError(
            "Le SIREN est invalide : son chiffre de contrôle ne correspond pas (faute de frappe ?)."
        ) from None
    return number


def check_siret(value: str) -> str:
    number = _compact(value)
    if not number:
        raise IdentifierError("Saisissez le numéro SIRET (14 chiffres).")
    if not number.isdigit():
        raise IdentifierError("Le SIRET ne doit contenir que des chiffres.")
    if len(number) != 14:
        raise IdentifierError(
            f"Le SIRET compte 14 chiffres : SIREN (9) + NIC (5) ({len(number)} saisis).")
    try:
        fr_siren.validate(number[:9])
    except ValidationError:
        raise IdentifierError(
            "Le SIREN (9 premiers chiffres du SIRET) est invalide : son chiffre de contrôle "
            "ne correspond pas.", "siren") from None
    try:
        fr_siret.validate(number)
    except ValidationError:
        raise IdentifierError(
            "Le NIC (5 derniers chiffres du SIRET) ne correspond pas au SIREN : "
            "vérifiez le numéro d'établissement.", "nic") from None
    return number


# ------------------------------------------------------------------ VAT

EU_VAT_PREFIXES = sorted(
    {code.upper() for code in eu_vat.MEMBER_STATES if code != "gr"} | {"EL"}
)


def check_vat(value: str, expected_siren: str | None = None) -> str:
    """An intra-EU VAT number (prefix = member state, EL for Greece, XI Northern Ireland)."""
    number = _compact(value, "/")
    if not number:
        raise IdentifierError("Saisissez le numéro de TVA intracommunautaire.")
    prefix = number[:2]
    if not prefix.isalpha() or len(prefix) < 2:
        raise IdentifierError(
            "Le numéro de TVA intracommunautaire commence par le code du pays "
            "(FR, DE, BE, IT, ES…).", "pays")
    if prefix not in EU_VAT_PREFIXES:
        raise IdentifierError(
            f"« {prefix} » n'est pas le code d'un État membre de l'Union européenne "
            "(pour la Grèce, utilisez EL).", "pays")
    try:
        number = eu_vat.validate(number)
    except InvalidLength:
        raise IdentifierError(
            f"Le numéro de TVA {_vat_country(prefix)} n'a pas la bonne longueur.", "numero"
        ) from None
    except InvalidFormat:
        raise IdentifierError(
            f"Le numéro de TVA {_vat_country(prefix)} contient des caractères inattendus.",
            "numero") from None
    except (InvalidChecksum, InvalidComponent):
        if prefix == "FR":
            raise IdentifierError(
                "La clé du numéro de TVA (2 caractères après FR) ne correspond pas au SIREN "
                "(9 derniers chiffres).", "cle") from None
        raise IdentifierError(
            f"Le numéro de TVA {_vat_country(prefix)} est invalide : "
            "sa clé de contrôle ne correspond pas.", "cle") from None
    except ValidationError:
        raise IdentifierError("Numéro de TVA intracommunautaire invalide.", "numero") from None
    if expected_siren and prefix == "FR" and number[4:] != expected_siren:
        raise IdentifierError(
            "Le SIREN contenu dans le numéro de TVA ne correspond pas à celui de la structure.",
            "siren")
    return number


def _vat_country(prefix: str) -> str:
    code = "GR" if prefix == "EL" else prefix
    return f"({country_name(code)})"


# ------------------------------------------------------------------ IBAN / BIC

@dataclass(frozen=True)
class IbanParts:
    iban: str  # compact, e.g. FR7630006000011234567890189
    country: str
    check_digits: str
    bban: str


def iban_countries() -> list[tuple[str, str]]:
    """(code, French name) of the countries that use an IBAN, by name."""
    codes = {line[:2] for line in _iban_lines()}
    return sorted(((c, country_name(c)) for c in codes), key=lambda item: _sort_key(item[1]))


def _iban_lines() -> list[str]:
    from importlib import resources

    text = resources.files("stdnum").joinpath("iban.dat").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line[:2].isalpha() and "bban=" in line]


def bban_structure(country: str) -> str | None:
    info = _IBAN_DB.info(country.upper() + "00")
    return info[0][1].get("bban") if info and info[0][1] else None


def bban_length(country: str) -> int | None:
    structure = bban_structure(country)
    if structure is None:
        return None
    return sum(int(n) for n, _ in _STRUCT.findall(structure))


def check_iban_parts(country: str, check_digits: str, bban: str) -> IbanParts:
    """Check the parts typed in « Créer une coordonnée bancaire »: pays, clé IBAN, BBAN."""
    country = (country or "").strip().upper()
    key = _compact(check_digits)
    bban = _compact(bban)
    structure = bban_structure(country) if len(country) == 2 else None
    if structure is None:
        raise IdentifierError("Ce pays n'utilise pas l'IBAN : choisissez un autre pays.", "pays")
    expected = bban_length(country)
    if not bban:
        raise IdentifierError("Saisissez l'identification nationale du compte (BBAN).", "bban")
    if not bban.isalnum() or not bban.isascii():
        raise IdentifierError(
            "L'identification nationale du compte ne contient que des lettres et des chiffres, "
            "sans séparateur.", "bban")
    if len(bban) != expected:
        raise IdentifierError(
            f"Pour le pays « {country_name(country)} », l'identification nationale du compte "
            f"compte {expected} caractères ({len(bban)} saisis).", "bban")
    _check_bban_format(country, structure, bban)
    if country in ("FR", "MC"):
        _check_rib_key(bban)
    expected_key = std_iban.calc_check_digits(country + "00" + bban)
    try:  # the national checks first, on an IBAN with the right key
        std_iban.validate(country + expected_key + bban)
    except InvalidChecksum:
        raise IdentifierError(
            "La clé nationale de l'identification du compte (contrôle propre à ce pays) ne "
            "correspond pas au numéro de compte.", "bban") from None
    except InvalidComponent:
        raise IdentifierError(
            "Le code banque de l'identification nationale du compte est inconnu dans ce pays.",
            "bban") from None
    except ValidationError:
        raise IdentifierError(
            "Le numéro de compte est refusé par le contrôle propre à ce pays.", "bban") from None
    if len(key) != 2 or not key.isdigit():
        raise IdentifierError("La clé IBAN compte 2 chiffres.", "cle")
    if key != expected_key:
        raise IdentifierError(
            "La clé IBAN ne correspond pas au pays et à l'identification nationale du compte "
            "(contrôle modulo 97) : vérifiez les deux.", "cle")
    iban = country + key + bban
    return IbanParts(iban=iban, country=country, check_digits=key, bban=bban)


def check_iban(value: str) -> IbanParts:
    """A whole IBAN typed in one field."""
    number = _compact(value)
    if len(number) < 5:
        raise IdentifierError("IBAN incomplet.", "bban")
    return check_iban_parts(number[:2], number[2:4], number[4:])


def _check_bban_format(country: str, structure: str, bban: str) -> None:
    position = 0
    for index, (size, kind) in enumerate(_STRUCT.findall(structure), start=1):
        size = int(size)
        chunk = bban[position:position + size]
        pattern = {"n": r"[0-9]+", "a": r"[A-Z]+", "c": r"[A-Z0-9]+"}[kind]
        if not re.fullmatch(pattern, chunk):
            name = _FR_PARTS[index - 1] if country in ("FR", "MC") else f"bloc n° {index}"
            raise IdentifierError(
                f"L'identification nationale du compte est mal formée : le {name} "
                f"(caractères {position + 1} à {position + size}) doit contenir "
                f"{size} {_KINDS[kind]}.", "bban")
        position += size


_FR_PARTS = ["code banque", "code guichet", "numéro de compte", "clé RIB"]
_RIB_LETTERS = {c: str(i % 9 + 1) for i, c in enumerate("ABCDEFGHI")}
_RIB_LETTERS.update({c: str(i % 9 + 1) for i, c in enumerate("JKLMNOPQR")})
_RIB_LETTERS.update({c: str(i % 8 + 2) for i, c in enumerate("STUVWXYZ")})


def rib_key(banque: str, guichet: str, compte: str) -> str:
    """Clé RIB: 97 − ((89 × banque + 15 × guichet + 3 × compte) mod 97), letters mapped."""
    digits = "".join(_RIB_LETTERS.get(c, c) for c in compte.upper())
    value = 89 * int(banque) + 15 * int(guichet) + 3 * int(digits)
    return f"{97 - value % 97:02d}"


def _check_rib_key(bban: str) -> None:
    banque, guichet, compte, key = bban[:5], bban[5:10], bban[10:21], bban[21:23]
    if rib_key(banque, guichet, compte) != key:
        raise IdentifierError(
            "La clé RIB (2 derniers caractères de l'identification nationale du compte) ne "
            "correspond pas au code banque, au code guichet et au numéro de compte.", "bban")


def check_bic(value: str) -> str:
    number = _compact(value)
    if not number:
        raise IdentifierError("Saisissez le BIC ou SWIFT (8 ou 11 caractères).")
    if not number.isalnum() or not number.isascii():
        raise IdentifierError("Le BIC ne contient que des lettres et des chiffres.")
    if len(number) not in (8, 11):
        raise IdentifierError(f"Le BIC compte 8 ou 11 caractères ({len(number)} saisis).")
    if not number[:4].isalpha():
        raise IdentifierError("Le code banque du BIC (4 premiers caractères) ne contient que "
                              "des lettres.")
    if not number[4:6].isalpha():
        raise IdentifierError("Le code pays du BIC (5e et 6e caractères) doit être fait de "
                              "deux lettres.")
    try:
        std_bic.validate(number)
    except InvalidComponent:
        raise IdentifierError(
            f"Le code pays du BIC (« {number[4:6]} », 5e et 6e caractères) n'existe pas."
        ) from None
    except ValidationError:
        raise IdentifierError("BIC invalide.") from None
    return number


def check_bic_country(bic: str, iban_country: str) -> None:
    """The BIC's country should match the account's (Monaco banks may use FR BICs)."""
    country = bic[4:6]
    if country != iban_country and {country, iban_country} != {"FR", "MC"}:
        raise IdentifierError(
            f"Le code pays du BIC ({country}) ne correspond pas au pays du compte "
            f"({iban_country}).")


def format_iban(iban: str) -> str:
    return std_iban.format(iban)
