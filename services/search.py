"""« Rechercher », « Synthèse », « Archives » and « Liste fiscale »: search criteria turned into
one query built on the visibility query (services.permissions.visible_memoires), for providers
and juridiction agents alike.

Everything stays fast at a million mémoires: the filters and the default order follow the
indexes of models.memoire (structure or juridiction, status, date of the current status),
pages are read with LIMIT/OFFSET under a cap, and the number of results is counted only up
to COUNT_CAP (« plus de 1 000 ») — never a full count.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, and_, exists, func, not_, or_, select, union_all
from sqlalchemy.orm import Session

from models import Juridiction, Memoire, PrestationLine, Structure, TexteReference, User
from models.organisation import ROLE_AGENT
from services import lifecycle, permissions

PER_PAGE_CHOICES = (5, 10, 20, 50, 100)
DEFAULT_PER_PAGE = 5  # as in the webinar: « 5 lignes par page »
COUNT_CAP = 1000
MAX_OFFSET = 10_000  # deeper pages ask for narrower criteria
FISCAL_MAX_DAYS = 366
SELECTIVE_NUMERO = 8  # « MJ000123 » and longer: at most 10,000 mémoires share the prefix
MAX_PARTITIONS = 30  # above, one query sorts everything (providers with many structures)

# Which mémoires a search covers with respect to the archives.
CURRENT = "courants"   # default search and Synthèse: archives left out
ALL = "tous"           # « Inclure les archives »
ARCHIVED = "archives"  # the « Archives » tab

SORTS = {
    "date": "Date de l'état courant",
    "numero": "Numéro de mémoire",
    "depot": "Date prestataire",
    "montant": "Montant TTC",
    "etat": "État courant",
}
DEFAULT_SORT = "date"


@dataclass
class Criteria:
    """What the user typed; empty values filter nothing."""

    numero: str = ""
    juridiction_id: int | None = None
    engagement: str = ""
    depot_du: date | None = None
    depot_au: date | None = None
    status: str = ""
    categorie_code: str = ""
    structure_id: int | None = None
    prestataire: str = ""  # raison sociale or SIRET (agents)
    service_id: int | None = None
    texte_code: str = ""
    # « Critères avancés »
    affaire: str = ""
    type_code: str = ""
    prestation_du: date | None = None
    prestation_au: date | None = None
    montant_min: Decimal | None = None
    montant_max: Decimal | None = None
    archives: str = CURRENT
    # Set by the screens, not typed: Synthèse and Liste fiscale.
    statuses: frozenset[str] | None = None
    etat_du: date | None = None
    etat_au: date | None = None


@dataclass
class Row:
    """One line of results (plain columns: no ORM object is loaded for a list)."""

    id: int
    numero_mj: str | None
    numero_tmp: str
    numero_facture: str | None
    prestataire: str
    structure_id: int
    date_prestataire: datetime | None
    status_changed_at: datetime
    texte: str
    juridiction: str
    engagement_juridique: str | None
    total_ttc: Decimal
    montant_retenu: Decimal | None
    autres_montants: bool
    status: str
    court_step: str | None

    @property
    def numero(self) -> str:
        return self.numero_mj or self.numero_tmp

    @property
    def status_label(self) -> str:
        return lifecycle.label(self.status)

    @property
    def amount_modified(self) -> bool:
        return self.montant_retenu is not None and self.montant_retenu != self.total_ttc


@dataclass
class Page:
    rows: list[Row]
    page: int
    per_page: int
    has_next: bool
    total: int          # exact when below COUNT_CAP
    total_capped: bool  # True: « plus de COUNT_CAP »
    offset_capped: bool = False

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


@dataclass
class Context:
    """What a search depends on besides the criteria."""

    now: datetime
    archive_months: int = 12


# ---------------------------------------------------------------- archives

def months_before(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 - months, 12)
    year += moment.year
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def archive_cutoff(now: datetime, months: int) -> datetime:
    """A final mémoire whose status changed before this moment is archived."""
    return months_before(now, months)


def archived_clause(now: datetime, months: int):
    return and_(Memoire.status.in_(lifecycle.FINAL),
                Memoire.status_changed_at < archive_cutoff(now, months))


def is_archived(memoire: Memoire, now: datetime, months: int) -> bool:
    return (memoire.status in lifecycle.FINAL
            and memoire.status_changed_at < archive_cutoff(now, months))


# ---------------------------------------------------------------- criteria → query

def _prefix(column, text: str):
    """`column` starts with `text`, written as a range so that the B-tree index serves it."""
    upper = text[:-1] + chr(ord(text[-1]) + 1)
    return and_(column >= text, column < upper)


def _day_start(value: date) -> datetime:
    return datetime.combine(value, time.min)


def _next_day(value: date) -> datetime:
    return datetime.combine(value + timedelta(days=1), time.min)


def filtered(session: Session, user: User, criteria: Criteria, context: Context) -> Select:
    """The visible mémoires matching the criteria (a select of Memoire)."""
    query = permissions.visible_memoires(session, user)
    c = criteria
    if c.statuses is not None:
        query = query.where(Memoire.status.in_(sorted(c.statuses)))
    if c.status:
        query = query.where(Memoire.status == c.status)
    if c.archives == CURRENT:
        query = query.where(not_(archived_clause(context.now, context.archive_months)))
    elif c.archives == ARCHIVED:
        query = query.where(archived_clause(context.now, context.archive_months))
    numero = c.numero.strip().upper().replace(" ", "")
    if len(numero) >= SELECTIVE_NUMERO:
        # A long prefix matches few mémoires: start from the number indexes.
        by_number = union_all(
            select(Memoire.id).where(_prefix(Memoire.numero_mj, numero)),
            select(Memoire.id).where(_prefix(Memoire.numero_tmp, numero)))
        query = query.where(Memoire.id.in_(by_number))
    elif numero:
        query = query.where(or_(_prefix(Memoire.numero_mj, numero),
                                _prefix(Memoire.numero_tmp, numero)))
    if c.juridiction_id:
        query = query.where(Memoire.juridiction_id == c.juridiction_id)
    engagement = c.engagement.strip()
    if engagement:
        query = query.where(_prefix(Memoire.engagement_juridique, engagement))
    if c.depot_du:
        query = query.where(Memoire.sent_at >= _day_start(c.depot_du))
    if c.depot_au:
        query = query.where(Memoire.sent_at < _next_day(c.depot_au))
    if c.etat_du:
        query = query.where(Memoire.status_changed_at >= _day_start(c.etat_du))
    if c.etat_au:
        query = query.where(Memoire.status_changed_at < _next_day(c.etat_au))
    if c.categorie_code:
        query = query.where(Memoire.categorie_code == c.categorie_code)
    if c.structure_id:
        query = query.where(Memoire.structure_id == c.structure_id)
    needle = c.prestataire.strip().lower()
    if needle:
        query = query.where(Memoire.structure_id.in_(select(Structure.id).where(or_(
            func.lower(Structure.raison_sociale).contains(needle, autoescape=True),
            Structure.identifier.startswith(needle.replace(" ", ""), autoescape=True)))))
    if c.service_id:
        query = query.where(Memoire.service_id == c.service_id)
    if c.texte_code:
        query = query.where(Memoire.texte_code == c.texte_code)
    if c.affaire.strip():
        # Very selective: start from the lines' index rather than from the mémoires.
        query = query.where(Memoire.id.in_(select(PrestationLine.memoire_id).where(
            PrestationLine.numero_affaire == c.affaire.strip())))
    line_filters = []
    if c.type_code:
        line_filters.append(PrestationLine.type_code == c.type_code)
    if c.prestation_du:
        line_filters.append(PrestationLine.date_prestation >= c.prestation_du)
    if c.prestation_au:
        line_filters.append(PrestationLine.date_prestation <= c.prestation_au)
    if line_filters:
        query = query.where(exists().where(PrestationLine.memoire_id == Memoire.id,
                                           *line_filters))
    if c.montant_min is not None:
        query = query.where(Memoire.total_ttc >= c.montant_min)
    if c.montant_max is not None:
        query = query.where(Memoire.total_ttc <= c.montant_max)
    return query


def _other_amounts():
    """« Autres montants »: a line carries frais divers or débours."""
    return exists().where(PrestationLine.memoire_id == Memoire.id,
                          or_(PrestationLine.frais_divers != Decimal(0),
                              PrestationLine.debours != Decimal(0)))


def listing(query: Select) -> Select:
    """The result columns of a filtered query (structure, juridiction, texte joined)."""
    return (
        query.with_only_columns(
            Memoire.id, Memoire.numero_mj, Memoire.numero_tmp, Memoire.numero_facture,
            Structure.raison_sociale, Memoire.structure_id,
            func.coalesce(Memoire.sent_at, Memoire.created_at), Memoire.status_changed_at,
            TexteReference.libelle, Juridiction.departement, Juridiction.nom,
            Memoire.engagement_juridique, Memoire.total_ttc, Memoire.montant_retenu,
            _other_amounts(), Memoire.status, Memoire.court_step,
        )
        .join_from(Memoire, Structure, Structure.id == Memoire.structure_id)
        .join_from(Memoire, Juridiction, Juridiction.id == Memoire.juridiction_id)
        .join_from(Memoire, TexteReference, TexteReference.code == Memoire.texte_code)
    )


def to_row(values) -> Row:
    (id_, mj, tmp, facture, prestataire, structure_id, date_prestataire, changed, texte,
     departement, nom, engagement, ttc, retenu, autres, status, step) = values
    return Row(id_, mj, tmp, facture, prestataire, structure_id, date_prestataire, changed,
               texte, f"{departement} - {nom}", engagement, ttc, retenu, bool(autres), status,
               step)


def sort_key(sort: str):
    return {
        "date": Memoire.status_changed_at,
        "numero": func.coalesce(Memoire.numero_mj, Memoire.numero_tmp),
        "depot": Memoire.sent_at,
        "montant": Memoire.total_ttc,
        "etat": Memoire.status,
    }.get(sort, Memoire.status_changed_at)


def ordered(query: Select, sort: str = DEFAULT_SORT, descending: bool = True) -> Select:
    column = sort_key(sort)
    if descending:
        return query.order_by(column.desc(), Memoire.id.desc())
    return query.order_by(column.asc(), Memoire.id.asc())


def partitions(session: Session, user: User, criteria: Criteria) -> list:
    """The index prefixes a user's mémoires live under: their juridiction for an agent, each
    of their structures for a provider."""
    if user.role == ROLE_AGENT:
        return [Memoire.juridiction_id == user.juridiction_id]
    ids = list(session.scalars(permissions.structure_ids(session, user, permissions.READ)))
    if criteria.structure_id:
        ids = [i for i in ids if i == criteria.structure_id]
    return [Memoire.structure_id == i for i in ids]


def page_ids(session: Session, user: User, criteria: Criteria, context: Context, sort: str,
             descending: bool, limit: int, offset: int) -> list[int]:
    """The ids of one page. Each structure (or the juridiction) is read on its own along its
    (prefix, sort column) index and stops after offset + limit rows; the few streams are then
    merged — instead of sorting every mémoire of the user."""
    query = filtered(session, user, criteria, context)
    prefixes = partitions(session, user, criteria)
    if not prefixes:
        return []
    selective = len(criteria.numero.strip()) >= SELECTIVE_NUMERO or criteria.affaire.strip()
    if selective or len(prefixes) > MAX_PARTITIONS:
        prefixes = [None]
    if len(prefixes) == 1:
        if prefixes[0] is not None:
            query = query.where(prefixes[0])
        return list(session.scalars(ordered(query, sort, descending)
                                    .with_only_columns(Memoire.id)
                                    .limit(limit).offset(offset)))
    key = sort_key(sort).label("k")
    parts = []
    for prefix in prefixes:
        sub = (ordered(query.where(prefix), sort, descending)
               .with_only_columns(Memoire.id, key).limit(offset + limit).subquery())
        parts.append(select(sub.c.id, sub.c.k))
    merged = union_all(*parts).subquery()
    order = ((merged.c.k.desc(), merged.c.id.desc()) if descending
             else (merged.c.k.asc(), merged.c.id.asc()))
    return list(session.scalars(select(merged.c.id).order_by(*order)
                                .limit(limit).offset(offset)))


def count_bounded(session: Session, query: Select, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """The number of results, counted up to `cap` only: (count, more than cap?)."""
    limited = query.with_only_columns(Memoire.id).order_by(None).limit(cap + 1).subquery()
    count = session.scalar(select(func.count()).select_from(limited))
    return min(count, cap), count > cap


def search(session: Session, user: User, criteria: Criteria, context: Context, *,
           sort: str = DEFAULT_SORT, descending: bool = True, page: int = 1,
           per_page: int = DEFAULT_PER_PAGE) -> Page:
    """One page of results, sorted, with a bounded count."""
    per_page = per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE
    page = max(page, 1)
    offset_capped = (page - 1) * per_page > MAX_OFFSET
    if offset_capped:
        page = MAX_OFFSET // per_page + 1
    query = filtered(session, user, criteria, context)
    ids = page_ids(session, user, criteria, context, sort, descending, per_page + 1,
                   (page - 1) * per_page)
    rows = [to_row(r) for r in session.execute(
        ordered(listing(query).where(Memoire.id.in_(ids)), sort, descending))] if ids else []
    has_next = len(rows) > per_page and (page * per_page) <= MAX_OFFSET
    rows = rows[:per_page]
    if page == 1 and not has_next:
        total, capped = len(rows), False
    else:
        total, capped = count_bounded(session, query)
    return Page(rows, page, per_page, has_next, total, capped, offset_capped)


def iter_rows(session: Session, user: User, criteria: Criteria, context: Context, *,
              sort: str = DEFAULT_SORT, descending: bool = True, batch: int = 1000):
    """Every matching row, streamed from the database in batches (exports)."""
    statement = ordered(listing(filtered(session, user, criteria, context)), sort, descending)
    result = session.execute(statement.execution_options(yield_per=batch))
    for values in result:
        yield to_row(values)


def ids_in(session: Session, user: User, criteria: Criteria, context: Context,
           limit: int) -> list[int]:
    query = ordered(filtered(session, user, criteria, context)).with_only_columns(Memoire.id)
    return list(session.scalars(query.limit(limit)))


# ---------------------------------------------------------------- screens

def needing_action(criteria: Criteria | None = None) -> Criteria:
    """Synthèse: the drafts and refused mémoires (never archived: neither is final)."""
    return replace(criteria or Criteria(), statuses=lifecycle.NEEDS_PROVIDER_ACTION,
                   archives=ALL)


def fiscal_period_error(du: date | None, au: date | None) -> tuple[str, str] | None:
    """(field, French message) when the Liste fiscale period is not valid, else None."""
    if du is None:
        return "du", "Indiquez la date de début de la période."
    if au is None:
        return "au", "Indiquez la date de fin de la période."
    if au < du:
        return "au", "La date de fin doit être postérieure ou égale à la date de début."
    if (au - du).days >= FISCAL_MAX_DAYS or au >= _same_day_next_year(du):
        return "au", "La période ne peut pas dépasser un an."
    return None


def _same_day_next_year(value: date) -> date:
    try:
        return value.replace(year=value.year + 1)
    except ValueError:  # 29 February
        return value.replace(year=value.year + 1, day=28) + timedelta(days=1)


def fiscal(structure_id: int, du: date, au: date) -> Criteria:
    """Liste fiscale: one structure, « Mis en paiement », date of the current status in a
    period of at most one year (archives included: the list serves for six years)."""
    problem = fiscal_period_error(du, au)
    if problem:
        raise ValueError(problem[1])
    return Criteria(structure_id=structure_id, statuses=lifecycle.FISCAL, etat_du=du,
                    etat_au=au, archives=ALL)


def fiscal_total(session: Session, user: User, criteria: Criteria, context: Context) -> Decimal:
    """What was put in payment: the montant retenu where the court changed it, else the claim."""
    query = filtered(session, user, criteria, context)
    paid = func.coalesce(Memoire.montant_retenu, Memoire.total_ttc)
    total = session.scalar(query.with_only_columns(func.sum(paid)).order_by(None))
    return total or Decimal(0)

