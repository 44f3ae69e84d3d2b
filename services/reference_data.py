"""Reference data: loading the CSV files of data/ into the reference tables, and the look-ups
that forms and services make on them.

File format: UTF-8 (a BOM is tolerated), ";"-separated, one header line naming the columns, one
file per table, named after it (tariffs.csv, juridictions.csv…). Amounts and VAT rates use a dot
as decimal separator and are read as Decimal; dates are ISO (yyyy-mm-dd); an empty valid_to
means "still in force".
In types_prestation.csv the categories column lists catégorie codes separated by "|" (";" being the
delimiter); they are stored ";"-separated, as TypePrestation.categories expects.

Loading is an idempotent upsert: rows are matched on their key (code; juridictions on code; tariffs
on (type_code, valid_from); taux_tva on (rate, valid_from)), updated when present, inserted when
missing, and never deleted, since mémoires keep pointing at them. Nothing is committed here.
"""
from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models import (
    AutoriteRequerante,
    CategoriePrestataire,
    Juridiction,
    Tariff,
    TauxTva,
    TexteReference,
    TypePieceJointe,
    TypePrestation,
)
from models.juridiction import JURIDICTION_TYPES
from models.reference import UNITS

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CATEGORY_SEPARATOR = "|"
STORED_CATEGORY_SEPARATOR = ";"

CODE_TABLES = (TexteReference, CategoriePrestataire, AutoriteRequerante, TypePieceJointe)


class ReferenceDataError(ValueError):
    """A reference file is missing or malformed; the message names the file and the line."""


def load_reference_data(session: Session, data_dir: Path | None = None) -> dict[str, int]:
    """Upsert every reference file of data_dir (default: data/) into the session.

    Returns the number of rows read per table, keyed by table name. The caller commits; on
    ReferenceDataError it should roll back, as the session may hold part of the changes.
    """
    data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
    counts = {}
    # Order matters: types de prestation point at textes and catégories, tariffs at types.
    for model in CODE_TABLES:
        counts[model.__tablename__] = _load_code_table(session, model, data_dir)
    counts[TypePrestation.__tablename__] = _load_types_prestation(session, data_dir)
    counts[Tariff.__tablename__] = _load_tariffs(session, data_dir)
    counts[TauxTva.__tablename__] = _load_vat_rates(session, data_dir)
    counts[Juridiction.__tablename__] = _load_juridictions(session, data_dir)
    session.flush()
    return counts


def active_vat_rates(session: Session, on: date) -> list[Decimal]:
    """The VAT rates (percent) in force on that date, lowest first."""
    rates = session.scalars(
        select(TauxTva.rate).where(TauxTva.valid_from <= on, _still_valid(TauxTva, on))
    )
    return sorted(set(rates))


def tariff_for(session: Session, type_code: str, on: date) -> Tariff | None:
    """The regulated tariff of a type de prestation in force on that date, if it has one."""
    return session.scalars(
        select(Tariff)
        .where(Tariff.type_code == type_code, Tariff.valid_from <= on, _still_valid(Tariff, on))
        # Should two periods ever overlap, the most recent text wins.
        .order_by(Tariff.valid_from.desc(), Tariff.id.desc())
        .limit(1)
    ).first()


def choices(session: Session, model) -> list[tuple[str, str]]:
    """(code, libelle) pairs of a code/libelle reference table, for a select field."""
    if not all(hasattr(model, name) for name in ("code", "libelle", "position")):
        raise TypeError(f"{model.__name__} is not a code/libelle/position table")
    rows = session.execute(
        select(model.code, model.libelle).order_by(model.position, model.libelle, model.code)
    )
    return [(code, libelle) for code, libelle in rows]


def _still_valid(model, on: date):
    return or_(model.valid_to.is_(None), model.valid_to >= on)


# --- reading -------------------------------------------------------------------------------


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each non-blank line, values stripped; checks the header."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ReferenceDataError(f"{path.name} : fichier introuvable dans {path.parent}") from None
    with handle:
        reader = csv.DictReader(handle, delimiter=";")
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in columns if name not in header]
        if missing:
            raise ReferenceDataError(f"{path.name} : colonnes manquantes : {', '.join(missing)}")
        reader.fieldnames = header
        for row in reader:
            if None in row:
                raise ReferenceDataError(f"{path.name}, ligne {reader.line_num} : trop de colonnes")
            values = {name: (row.get(name) or "").strip() for name in columns}
            if any(values.values()):
                yield reader.line_num, values


class _Line:
    """Where a value comes from, to word the errors."""

    def __init__(self, path: Path, number: int):
        self.where = f"{path.name}, ligne {number}"

    def error(self, message: str) -> ReferenceDataError:
        return ReferenceDataError(f"{self.where} : {message}")

    def text(self, row: dict[str, str], name: str, max_length: int | None = None,
             required: bool = True) -> str:
        value = row[name]
        if required and not value:
            raise self.error(f"{name} est obligatoire")
        if max_length is not None and len(value) > max_length:
            raise self.error(f"{name} dépasse {max_length} caractères")
        return value

    def integer(self, row: dict[str, str], name: str) -> int:
        if not row[name]:
            return 0
        try:
            return int(row[name])
        except ValueError:
            raise self.error(f"{name} « {row[name]} » n'est pas un entier") from None

    def decimal(self, row: dict[str, str], name: str) -> Decimal:
        try:
            value = Decimal(row[name])
        except InvalidOperation:
            message = f"{name} « {row[name]} » n'est pas un nombre (point décimal)"
            raise self.error(message) from None
        if not value.is_finite() or value < 0:
            raise self.error(f"{name} « {row[name]} » doit être un nombre positif ou nul")
        if value != value.quantize(Decimal("0.01")):
            raise self.error(f"{name} « {row[name]} » a plus de deux décimales")
        return value

    def day(self, row: dict[str, str], name: str, required: bool = True) -> date | None:
        if not row[name] and not required:
            return None
        try:
            return date.fromisoformat(row[name])
        except ValueError:
            raise self.error(f"{name} « {row[name]} » n'est pas une date aaaa-mm-jj") from None


def _unique(seen: set, key, line: _Line) -> None:
    if key in seen:
        raise line.error(f"doublon de la clé {key}")
    seen.add(key)


def _upsert(session: Session, existing: dict, key, model, values: dict) -> None:
    row = existing.get(key)
    if row is None:
        row = model(**values)
        session.add(row)
        existing[key] = row
    else:
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)


# --- one loader per file -------------------------------------------------------------------


def _load_code_table(session: Session, model, data_dir: Path) -> int:
    path = data_dir / f"{model.__tablename__}.csv"
    code_length = model.__table__.c.code.type.length
    existing = {row.code: row for row in session.scalars(select(model))}
    seen: set = set()
    for number, row in _rows(path, ("code", "libelle", "position")):
        line = _Line(path, number)
        code = line.text(row, "code", code_length)
        _unique(seen, code, line)
        _upsert(session, existing, code, model, {
            "code": code,
            "libelle": line.text(row, "libelle", 200),
            "position": line.integer(row, "position"),
        })
    return len(seen)


def _load_types_prestation(session: Session, data_dir: Path) -> int:
    path = data_dir / "types_prestation.csv"
    columns = ("code", "libelle", "unite", "texte_code", "article", "categories", "position")
    textes = set(session.scalars(select(TexteReference.code)))
    categories = set(session.scalars(select(CategoriePrestataire.code)))
    existing = {row.code: row for row in session.scalars(select(TypePrestation))}
    seen: set = set()
    for number, row in _rows(path, columns):
        line = _Line(path, number)
        code = line.text(row, "code", 60)
        _unique(seen, code, line)
        unite = line.text(row, "unite")
        if unite not in UNITS:
            raise line.error(f"unite « {unite} » inconnue (attendu : {', '.join(UNITS)})")
        texte_code = line.text(row, "texte_code")
        if texte_code not in textes:
            raise line.error(f"texte de référence « {texte_code} » inconnu")
        codes = [c.strip() for c in row["categories"].split(CATEGORY_SEPARATOR) if c.strip()]
        unknown = [c for c in codes if c not in categories]
        if unknown:
            raise line.error(f"catégorie(s) inconnue(s) : {', '.join(unknown)}")
        _upsert(session, existing, code, TypePrestation, {
            "code": code,
            "libelle": line.text(row, "libelle", 200),
            "unite": unite,
            "texte_code": texte_code,
            "article": line.text(row, "article", 200, required=False),
            "categories": STORED_CATEGORY_SEPARATOR.join(codes),
            "position": line.integer(row, "position"),
        })
    return len(seen)


def _load_tariffs(session: Session, data_dir: Path) -> int:
    path = data_dir / "tariffs.csv"
    columns = ("type_code", "amount", "valid_from", "valid_to", "reference", "note")
    types = set(session.scalars(select(TypePrestation.code)))
    existing = {(row.type_code, row.valid_from): row for row in session.scalars(select(Tariff))}
    periods: dict[str, list[tuple[date, date | None, _Line]]] = {}
    seen: set = set()
    for number, row in _rows(path, columns):
        line = _Line(path, number)
        type_code = line.text(row, "type_code")
        if type_code not in types:
            raise line.error(f"type de prestation « {type_code} » inconnu")
        valid_from = line.day(row, "valid_from")
        valid_to = line.day(row, "valid_to", required=False)
        if valid_to is not None and valid_to < valid_from:
            raise line.error("valid_to est antérieure à valid_from")
        _unique(seen, (type_code, valid_from), line)
        periods.setdefault(type_code, []).append((valid_from, valid_to, line))
        _upsert(session, existing, (type_code, valid_from), Tariff, {
            "type_code": type_code,
            "amount": line.decimal(row, "amount"),
            "valid_from": valid_from,
            "valid_to": valid_to,
            "reference": line.text(row, "reference", 200),
            "note": line.text(row, "note", required=False),
        })
    for type_periods in periods.values():
        _check_no_overlap(type_periods)
    return len(seen)


def _check_no_overlap(periods: list[tuple[date, date | None, _Line]]) -> None:
    periods = sorted(periods, key=lambda period: period[0])
    for (_, previous_end, _), (start, _, line) in zip(periods, periods[1:]):
        if previous_end is None or previous_end >= start:
            raise line.error("cette période chevauche la période précédente du même type")


def _load_vat_rates(session: Session, data_dir: Path) -> int:
    path = data_dir / "taux_tva.csv"
    # Decimal("5.5") and Decimal("5.50") hash alike, so stored and read rates match as keys.
    existing = {(row.rate, row.valid_from): row for row in session.scalars(select(TauxTva))}
    seen: set = set()
    for number, row in _rows(path, ("rate", "libelle", "valid_from", "valid_to")):
        line = _Line(path, number)
        rate = line.decimal(row, "rate")
        if rate > 100:
            raise line.error(f"rate « {row['rate']} » dépasse 100 %")
        valid_from = line.day(row, "valid_from")
        valid_to = line.day(row, "valid_to", required=False)
        if valid_to is not None and valid_to < valid_from:
            raise line.error("valid_to est antérieure à valid_from")
        _unique(seen, (rate, valid_from), line)
        _upsert(session, existing, (rate, valid_from), TauxTva, {
            "rate": rate,
            "libelle": line.text(row, "libelle", 100),
            "valid_from": valid_from,
            "valid_to": valid_to,
        })
    return len(seen)


def _load_juridictions(session: Session, data_dir: Path) -> int:
    path = data_dir / "juridictions.csv"
    existing = {row.code: row for row in session.scalars(select(Juridiction))}
    seen: set = set()
    for number, row in _rows(path, ("code", "nom", "departement", "type")):
        line = _Line(path, number)
        code = line.text(row, "code", 40)
        _unique(seen, code, line)
        kind = line.text(row, "type")
        if kind not in JURIDICTION_TYPES:
            raise line.error(f"type « {kind} » inconnu (attendu : {', '.join(JURIDICTION_TYPES)})")
        # is_active is left alone: an administrator may have closed a juridiction.
        _upsert(session, existing, code, Juridiction, {
            "code": code,
            "nom": line.text(row, "nom", 200),
            "departement": line.text(row, "departement", 3),
            "type": kind,
        })
    return len(seen)
