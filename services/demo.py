"""Demo data for webinars and evaluation: `flask --app app demo`.

Every account has the password DEMO_PASSWORD. The data tells one coherent story, written through
the real services (sending, transmission, decisions, messages, mail) as if it had happened in
the past: every event runs on a demo clock (_Clock) that dates the rows it writes, and the
events run in chronological order, so that creation ≤ sending ≤ decisions ≤ now for every
mémoire and the MJ numbers follow the sending order across all demo mémoires (the two years of
history included, built in bulk between the events). Exactly one mémoire is left « Envoyé »
(the expert's, sent a few minutes before the demo was created): `flask --app app juridiction
transmettre` delivers it, as the portal does right after any sending.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

from fpdf import FPDF
from sqlalchemy import DateTime, event, func, inspect, select, update
from sqlalchemy.orm import Session, scoped_session

from models import BankAccount, Habilitation, Juridiction, Memoire, Service, Structure, User
from models.organisation import (
    HABILITATION_GRANTED,
    PROFILE_CONSULTATION,
    PROFILE_MODIFICATION,
    ROLE_ADMIN,
    ROLE_AGENT,
    ROLE_PRESTATAIRE,
    ROLE_SUPPORT,
)
from models.types import utcnow
from services import accounts, storage

DEMO_PASSWORD = "demo-frais-de-justice"
PARIS = "tj75056"
LYON = "tj69123"
MAX_BYTES = 10 * 1024 * 1024
# Settings for the demo's e-mails: never SMTP (the addresses are fictitious), always the outbox
# that the administrator reads in « Administration › Courriels ».
MAIL_SETTINGS: dict = {}
DEMO_BASE_URL = "http://localhost:5000"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: str
    description: str


DEMO_ACCOUNTS = [
    DemoAccount("interprete@demo.test", "Claire Lefèvre", ROLE_PRESTATAIRE,
                "Interprète, gestionnaire de « Cabinet Lefèvre Interprétariat » (modification)"),
    DemoAccount("expert@demo.test", "Dr Paul Aubert", ROLE_PRESTATAIRE,
                "Expert psychiatre, « Dr Aubert, expert psychiatre » (modification)"),
    DemoAccount("consultation@demo.test", "Marc Petit", ROLE_PRESTATAIRE,
                "Consultation seule sur « Cabinet Lefèvre Interprétariat »"),
    DemoAccount("greffe@demo.test", "Sophie Martin", ROLE_AGENT,
                "Agent du Tribunal judiciaire de Paris"),
    DemoAccount("support@demo.test", "Julien Bernard", ROLE_SUPPORT, "Agent du support"),
    DemoAccount("admin@demo.test", "Nadia Roux", ROLE_ADMIN, "Administrateur du portail"),
    DemoAccount("nouveau@demo.test", "Léa Garnier", ROLE_PRESTATAIRE,
                "Demande « consultation » sur « Cabinet Lefèvre Interprétariat » (en attente)"),
]


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(func.count(User.id))) == 0


def rib_pdf(holder: str, iban: str, bic: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, "Relevé d'identité bancaire", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in (f"Titulaire : {holder}", f"IBAN : {iban}", f"BIC : {bic}"):
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def demo_pdf(title: str, *lines: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# ---------------------------------------------------------------- the demo clock

class _Clock:
    """Dates in the past what the real services write during a demo event.

    Services stamp rows with the wall clock (utcnow); transitions are append-only and a sent
    mémoire is frozen by the database, so the dates must be right when the rows are first
    written. While `at(when)` is active, a before_flush hook moves every wall-clock timestamp of
    the rows being written (those at or after the moment the event started) by the same shift,
    and fills the unset timestamp columns that default to the wall clock with `when`. Dates the
    services were given explicitly (`now=`, `at=`) are earlier than the wall clock: untouched.
    """

    def __init__(self, session: Session):
        self.session = session() if isinstance(session, scoped_session) else session
        self.when: datetime | None = None
        self.entered: datetime | None = None
        event.listen(self.session, "before_flush", self._stamp)

    def close(self) -> None:
        event.remove(self.session, "before_flush", self._stamp)

    @contextmanager
    def at(self, when: datetime) -> Iterator[None]:
        previous = self.when, self.entered
        self.when, self.entered = when, utcnow()
        try:
            yield
            self.session.flush()
        finally:
            self.when, self.entered = previous

    def _stamp(self, session, flush_context, instances) -> None:
        if self.when is None:
            return
        shift = self.when - self.entered
        for obj in list(session.new):
            self._move(obj, shift, new=True)
        for obj in list(session.dirty):
            self._move(obj, shift, new=False)

    def _move(self, obj, shift: timedelta, new: bool) -> None:
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            column = attr.columns[0]
            if not isinstance(column.type, DateTime):
                continue
            value = state.dict.get(attr.key)
            if value is None:
                if new and column.default is not None:
                    setattr(obj, attr.key, self.when)
            elif value >= self.entered:
                setattr(obj, attr.key, value + shift)
            elif not new and column.onupdate is not None and attr.key not in state.committed_state:
                setattr(obj, attr.key, self.when)  # e.g. Memoire.updated_at


class _Timeline:
    """Demo events, run in chronological order on the clock. `before(when)` runs first (the
    history catches up, so that MJ numbers follow the sending order)."""

    def __init__(self, clock: _Clock):
        self.clock = clock
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []

    def on(self, when: datetime, action: Callable[[], None]) -> None:
        self.events.append((when, len(self.events), action))

    def run(self, before: Callable[[datetime], None] | None = None) -> None:
        for when, _, action in sorted(self.events, key=lambda e: (e[0], e[1])):
            if before is not None:
                before(when)
            with self.clock.at(when):
                action()
        self.events.clear()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


# ---------------------------------------------------------------- accounts and structures

def _user(session: Session, account: DemoAccount, **fields) -> User:
    return accounts.create_user(session, account.email, DEMO_PASSWORD, account.full_name,
                                account.role, **fields)


def _account(email: str) -> DemoAccount:
    return next(a for a in DEMO_ACCOUNTS if a.email == email)


def _bank_account(session: Session, structure: Structure, nom: str, iban: str,
                  bic: str) -> BankAccount:
    rib = storage.store(session, rib_pdf(structure.raison_sociale, iban, bic), "application/pdf")
    account = BankAccount(structure=structure, nom=nom, type="IBAN", pays=iban[:2], iban=iban,
                          bic=bic, information="Compte professionnel", rib_sha256=rib.sha256,
                          rib_filename="rib.pdf")
    session.add(account)
    return account


class _Links:
    """Absolute links for the demo's e-mails (registration.Links), built without a request."""

    @staticmethod
    def url(endpoint: str, **values) -> str:
        from flask import current_app, has_app_context, url_for

        if not has_app_context():
            return f"{DEMO_BASE_URL}/{endpoint}"
        base = current_app.config.get("SERVER_NAME") or DEMO_BASE_URL
        if "://" not in base:
            base = f"{current_app.config.get('PREFERRED_URL_SCHEME', 'http')}://{base}"
        with current_app.test_request_context(base_url=base):
            return url_for(endpoint, _external=True, **values)

    @classmethod
    def registration(cls, tokens: list[str]):
        from services import registration

        def confirm(raw: str) -> str:
            tokens.append(raw)
            return cls.url("inscription.confirm", token=raw)

        return registration.Links(
            confirm=confirm, reset=lambda raw: cls.url("inscription.reset", token=raw),
            forgot=cls.url("inscription.forgot"), login=cls.url("auth.login"))

    @classmethod
    def habilitations(cls) -> str:
        return cls.url("organisation.manage_habilitations")


def create_demo_data(session: Session) -> str:
    """Create the demo accounts, structures and objects. Returns a short summary."""
    now = _now()
    history = _demo_history(session, now)
    # The accounts exist a little before the oldest mémoire of the history.
    opened = min(history.first_created, now - timedelta(days=800)) - timedelta(days=15)
    clock = _Clock(session)
    try:
        with clock.at(opened):
            _demo_accounts(session)
        timeline = _Timeline(clock)
        _demo_organisation(session, timeline, now, opened)
        story = _Story(session, timeline, now)
        _demo_memoires(story)
        _demo_sent_memoires(story)
        _demo_lifecycle(story)
        _demo_expert(story)
        timeline.run(before=history.build_until)
        history.build_until(None)
    finally:
        clock.close()
    return f"{len(DEMO_ACCOUNTS)} comptes de démonstration créés (mot de passe : {DEMO_PASSWORD})."


def _demo_accounts(session: Session) -> None:
    """The accounts (but the pending one) and the two structures, a little before the oldest
    mémoire of the history."""
    paris = session.scalar(select(Juridiction).where(Juridiction.code == PARIS))
    interprete = _user(session, _account("interprete@demo.test"))
    expert = _user(session, _account("expert@demo.test"))
    _user(session, _account("consultation@demo.test"))
    _user(session, _account("greffe@demo.test"), juridiction=paris)
    _user(session, _account("support@demo.test"))
    _user(session, _account("admin@demo.test"))

    # A company (SIRET, RCS, VAT number) invoicing with VAT: « Indépendants », which is why its
    # library holds the URSSAF attestation de vigilance (REFERENCE.md §2.1 and « Droit d'option »).
    cabinet = Structure(
        identifier_type="SIRET", identifier="81234567600017",
        raison_sociale="Cabinet Lefèvre Interprétariat", numero_rcs="812 345 676 R.C.S. Paris",
        tva_intracom="FR19812345676", email="contact@lefevre-interpretariat.test",
        adresse="12 rue des Traducteurs", code_postal="75011", ville="Paris", pays="FR",
        telephone="01 23 45 67 89", categorie_code="INTERPRETE", regime="INDEPENDANT",
        droit_option=False, default_vat_type="ENCAISSEMENTS", gestionnaire=interprete,
    )
    cabinet.services = [Service(code="INTERP", libelle="Interprétariat"),
                        Service(code="TRAD", libelle="Traduction écrite")]
    aubert = Structure(
        identifier_type="SIRET", identifier="84256791900019",
        raison_sociale="Dr Aubert, expert psychiatre", email="cabinet@aubert-expert.test",
        adresse="3 place du Palais", code_postal="69002", ville="Lyon", pays="FR",
        categorie_code="PSYCHIATRE", regime="INDEPENDANT", default_vat_type="EXONERE",
        gestionnaire=expert,
    )
    aubert.services = [Service(code="EXPERT", libelle="Expertises psychiatriques")]
    session.add_all([cabinet, aubert])

    _bank_account(session, cabinet, "Compte principal", "FR7630006000011234567890189", "AGRIFRPP")
    _bank_account(session, aubert, "Compte du cabinet", "FR7630004000031234567890143", "BNPAFRPP")
    for user, structure in ((interprete, cabinet), (expert, aubert)):
        session.add(Habilitation(user=user, structure=structure, profile=PROFILE_MODIFICATION,
                                 status=HABILITATION_GRANTED))
    session.flush()


def _demo_organisation(session: Session, timeline: _Timeline, now: datetime,
                       opened: datetime) -> None:
    """Through the real services, with their e-mails (in the outbox, read by the administrator):
    Marc Petit asked for « consultation » on the cabinet and the gestionnaire granted it; the
    cabinet's library (RIB, a recent URSSAF attestation de vigilance); Léa Garnier signed up a
    few hours ago, confirmed her address and asked for « consultation » (pending)."""
    from models import Attachment
    from services import attachments, habilitations, registration

    interprete = session.scalar(select(User).where(User.email == "interprete@demo.test"))
    consultation = session.scalar(select(User).where(User.email == "consultation@demo.test"))
    cabinet = session.scalar(select(Structure).where(Structure.identifier == "81234567600017"))
    requested: list[Habilitation] = []

    def consultation_asks() -> None:
        requested.append(habilitations.request_profile(
            session, MAIL_SETTINGS, consultation, cabinet, None, PROFILE_CONSULTATION,
            _Links.habilitations))

    def gestionnaire_grants() -> None:
        habilitations.decide(session, MAIL_SETTINGS, interprete, requested[0], True)

    def rib_document() -> None:
        stored = storage.store(session, rib_pdf(cabinet.raison_sociale,
                                                "FR7630006000011234567890189", "AGRIFRPP"),
                               "application/pdf")
        session.add(Attachment(structure_id=cabinet.id, sha256=stored.sha256,
                               filename="rib-compte-principal.pdf",
                               designation="RIB - Compte principal", type_code="RIB",
                               extension="pdf", uploaded_by_id=interprete.id))

    def urssaf_attestation() -> None:
        attachments.add_structure_document(
            session, interprete, cabinet, "attestation-vigilance.pdf",
            demo_pdf("Attestation de vigilance", f"Cotisant : {cabinet.raison_sociale}",
                     f"SIRET : {cabinet.identifier}",
                     "L'URSSAF atteste que le cotisant est à jour de ses obligations "
                     "déclaratives et de paiement (document de démonstration)."),
            "Attestation de vigilance URSSAF", "ATTESTATION_URSSAF", MAX_BYTES)

    tokens: list[str] = []
    newcomer: list[User] = []

    def nouveau_signs_up() -> None:
        # registration.sign_up without its password-strength check (the demo password is
        # shared): the account, then the confirmation e-mail, as the « Créer un compte » form.
        account = _account("nouveau@demo.test")
        user = _user(session, account, email_confirmed=False)
        registration.send_confirmation(session, MAIL_SETTINGS, _Links.registration(tokens), user)
        newcomer.append(user)

    def nouveau_confirms() -> None:
        registration.confirm_email(session, tokens[-1])

    def nouveau_asks() -> None:
        habilitations.request_profile(session, MAIL_SETTINGS, newcomer[0], cabinet, None,
                                      PROFILE_CONSULTATION, _Links.habilitations)

    timeline.on(opened + timedelta(hours=1), rib_document)
    timeline.on(opened + timedelta(days=2, hours=3), consultation_asks)
    timeline.on(opened + timedelta(days=2, hours=5), gestionnaire_grants)
    timeline.on(now - timedelta(days=34, hours=5), urssaf_attestation)
    timeline.on(now - timedelta(hours=3), nouveau_signs_up)
    timeline.on(now - timedelta(hours=2, minutes=52), nouveau_confirms)
    timeline.on(now - timedelta(hours=2, minutes=47), nouveau_asks)


# ---------------------------------------------------------------- current mémoires (the story)

class _Story:
    """Schedules the life of demo mémoires on the timeline, through the real services."""

    def __init__(self, session: Session, timeline: _Timeline, now: datetime):
        self.session = session
        self.timeline = timeline
        self.now = now
        self.today = now.date()
        self.memoires: dict[str, Memoire] = {}

    def user(self, email: str) -> User:
        return self.session.scalar(select(User).where(User.email == email))

    def day(self, days_ago: int, clock: str) -> datetime:
        """`clock` (« HH:MM ») of the day `days_ago` days before today (days_ago ≥ 1)."""
        hour, minute = (int(part) for part in clock.split(":"))
        return datetime.combine(self.today - timedelta(days=days_ago), time(hour, minute))

    def header(self, user: User, juridiction_code: str, **extra) -> dict:
        session = self.session
        structure = session.scalar(select(Structure).where(Structure.gestionnaire_id == user.id))
        account = session.scalar(select(BankAccount)
                                 .where(BankAccount.structure_id == structure.id))
        juridiction = session.scalar(select(Juridiction)
                                     .where(Juridiction.code == juridiction_code))
        return {"structure_id": structure.id, "service_id": structure.services[0].id,
                "juridiction_id": juridiction.id, "categorie_code": structure.categorie_code,
                "bank_account_id": account.id, "devise": "EUR", "texte_code": "R92",
                "vat_type": structure.default_vat_type, **extra}

    def draft(self, key: str, email: str, juridiction_code: str, when: datetime,
              lines: list, *, attachment: tuple | None = None, **extra) -> None:
        """« Enregistrer » a new mémoire at `when`, then its lines (and a pièce jointe): right
        now, unlike the other steps, which wait for the timeline to run."""
        from models.memoire import MODE_WEB
        from services import attachments, lifecycle, memoires, numbering

        def action() -> None:
            # What memoires.create_draft does, with the TMP number of the creation year.
            user = self.user(email)
            memoire = Memoire(numero_tmp=numbering.next_tmp(self.session, when.year),
                              mode_depot=MODE_WEB, created_by_id=user.id, created_at=when,
                              updated_at=when, total_ttc=Decimal("0"),
                              **self.header(user, juridiction_code, **extra))
            memoire.status = None
            self.session.add(memoire)
            lifecycle.record(self.session, memoire, lifecycle.BROUILLON, user, at=when)
            self.session.flush()
            for data in lines:
                memoires.add_line(self.session, user, memoire, data, today=when.date())
            if attachment is not None:
                filename, data, designation, type_code = attachment
                attachments.add_attachment(self.session, user, memoire, memoire.lines[0],
                                           filename, data, designation, type_code, MAX_BYTES, 40)
            self.memoires[key] = memoire

        # Created at once (the demo's ids keep a stable order: drafts first, then the sent
        # mémoires of the story, then the history), dated `when`; no MJ number is taken here.
        with self.timeline.clock.at(when):
            action()

    def send(self, key: str, when: datetime, *, transmit: bool = True) -> None:
        """« Valider et envoyer », and the transmission the portal fires right after it."""
        from services import submission, transmission

        def action() -> None:
            memoire = self.memoires[key]
            submission.submit(self.session, memoire, memoire.created_by, None,
                              submission.HONOUR_VERSION, now=when)
            if transmit:
                transmission.deliver(self.session, memoire, now=when + timedelta(minutes=2))

        self.timeline.on(when, action)

    def refuse(self, key: str, when: datetime, reason_code: str, text: str) -> None:
        from services import decisions

        self.timeline.on(when, lambda: decisions.refuse(
            self.session, self.user("greffe@demo.test"), self.memoires[key], reason_code, text,
            None, now=when))

    def certify(self, key: str, when: datetime, engagement: str, *,
                retained: Decimal | None = None, motif: str | None = None,
                route: str = "CERTIFIE") -> None:
        """« Certifier » (or taxation): the service fait is established and the juridiction
        records the engagement juridique (numéro d'EJ) that the payment will be made on."""
        from services import decisions

        def action() -> None:
            memoire = self.memoires[key]
            amount = memoire.total_ttc if retained is None else retained
            decisions.certify(self.session, self.user("greffe@demo.test"), memoire, amount,
                              motif, route, None, now=when)
            memoire.engagement_juridique = engagement

        self.timeline.on(when, action)

    def pay(self, key: str, when: datetime, reference: str) -> None:
        from services import decisions

        self.timeline.on(when, lambda: decisions.pay(
            self.session, self.user("greffe@demo.test"), self.memoires[key], when.date(),
            reference, None, when.date(), now=when))

    def abandon(self, key: str, when: datetime) -> None:
        from services import decisions

        def action() -> None:
            memoire = self.memoires[key]
            decisions.abandon(self.session, memoire.created_by, memoire, None, now=when)

        self.timeline.on(when, action)

    def duplicate(self, key: str, copy_key: str, when: datetime) -> None:
        from services import decisions

        def action() -> None:
            memoire = self.memoires[key]
            self.memoires[copy_key] = decisions.duplicate_after_refusal(
                self.session, memoire.created_by, memoire, None, now=when)

        self.timeline.on(when, action)

    def say(self, key: str, email: str, when: datetime, body: str) -> None:
        from services import messages

        self.timeline.on(when, lambda: messages.post(
            self.session, self.user(email), self.memoires[key], body, [], max_bytes=1))


def _demo_memoires(story: _Story) -> None:
    """Drafts to show the saisie: the webinar's line (1 × 150,00 at 5,5 % = 158,25 TTC), the
    worked example of REFERENCE §3.1 (127,88 TTC) and an expert's draft."""
    from services.memoires import FraisData, LineData

    today, now = story.today, story.now
    story.draft("webinaire", "interprete@demo.test", PARIS, now - timedelta(minutes=40), [
        LineData(numero_affaire="20190XX", date_requisition=today - timedelta(days=16),
                 autorite_code="OPJ", type_code="AUTRE", date_prestation=today - timedelta(days=2),
                 quantite=Decimal("1"), tarif_ht=Decimal("150.00"), taux_tva=Decimal("5.5"))],
        vat_type="DEBITS")
    story.draft("exemple", "interprete@demo.test", PARIS, story.day(2, "17:10"), [
        LineData(numero_affaire="2019/00", date_requisition=today - timedelta(days=10),
                 autorite_code="TRIBUNAL_POLICE", type_code="TRAD_ORALE",
                 date_prestation=today - timedelta(days=9), quantite=Decimal("3"),
                 tarif_ht=Decimal("30.00"), taux_tva=Decimal("20"), debours=Decimal("5.00"),
                 frais=[FraisData(today - timedelta(days=9), "transport", Decimal("1"),
                                  Decimal("12.40"))])],
        vat_type="DEBITS", numero_facture=f"LEF-{today.year}-014")
    story.draft("expert-brouillon", "expert@demo.test", LYON, story.day(1, "18:25"),
                _expertise(story, "1", 40, 7, year=False))


def _expertise(story: _Story, affaire: str, requisition_days: int, prestation_days: int,
               frais: Decimal | None = None, year: bool = True) -> list:
    from services.memoires import FraisData, LineData

    today = story.today
    requisition = today - timedelta(days=requisition_days)
    prestation = today - timedelta(days=prestation_days)
    return [LineData(
        numero_affaire=f"{requisition.year}/{affaire}" if year else affaire,
        date_requisition=requisition, autorite_code="JUGE_INSTRUCTION",
        type_code="EXPERTISE_PSYCHIATRIQUE_INSTRUCTION", date_prestation=prestation,
        quantite=Decimal("1"), tarif_ht=Decimal("507.00"), taux_tva=Decimal("0"),
        frais=[FraisData(prestation, "transport", Decimal("1"), frais)] if frais else [])]


def _interpretation(story: _Story, affaire: str, requisition_days: int, prestation_days: int,
                    quantite: str, tarif: str = "30.00", type_code: str = "TRAD_ORALE",
                    autorite: str = "OPJ", debours: str = "0") -> list:
    from services.memoires import LineData

    today = story.today
    requisition = today - timedelta(days=requisition_days)
    return [LineData(
        numero_affaire=f"{requisition.year}/{affaire}", date_requisition=requisition,
        autorite_code=autorite, type_code=type_code,
        date_prestation=today - timedelta(days=prestation_days), quantite=Decimal(quantite),
        tarif_ht=Decimal(tarif), taux_tva=Decimal("20"), debours=Decimal(debours))]


def _interpreter_draft(story: _Story, key: str, days_ago: int, lines: list, **kwargs) -> None:
    story.draft(key, "interprete@demo.test", PARIS, story.day(days_ago, "18:20"), lines,
                vat_type="DEBITS", **kwargs)


def _demo_sent_memoires(story: _Story) -> None:
    """Sent mémoires « Mis à disposition — À contrôler »: two of the interpreter's to the
    Tribunal judiciaire de Paris (one with the réquisition attached to its line), one of the
    expert's to Lyon (no agent uses the portal there: it waits)."""
    requisition = _interpretation(story, "118", 30, 29, "2")
    _interpreter_draft(story, "requisition", 21, requisition, attachment=(
        "requisition.pdf",
        demo_pdf("Réquisition à interprète", f"Affaire {requisition[0].numero_affaire}",
                 "Officier de police judiciaire"),
        f"Réquisition OPJ {requisition[0].numero_affaire}", "REQUISITION"))
    story.send("requisition", story.day(20, "09:45"))

    _interpreter_draft(story, "traduction", 4, _interpretation(
        story, "131", 12, 8, "12", tarif="25.00", type_code="TRAD_ECRITE",
        autorite="JUGE_INSTRUCTION", debours="8.50"))
    story.send("traduction", story.day(3, "14:35"))

    story.draft("aubert-lyon", "expert@demo.test", LYON, story.day(6, "17:30"),
                _expertise(story, "047", 60, 21))
    story.send("aubert-lyon", story.day(5, "08:50"))


def _demo_lifecycle(story: _Story) -> None:
    """Mémoires of the interpreter's structure to the Tribunal judiciaire de Paris in every
    status, with their history, decisions and messages: Abandonné, Dupliqué post refus whose
    duplicate was corrected, resent, certified with a modified amount and put in payment
    (« MT modifié »), Refusé with a thread, Mis à disposition (certifié, and à contrôler)."""
    from services import decisions, memoires
    from services.memoires import LineData

    session, timeline, now = story.session, story.timeline, story.now
    interprete = "interprete@demo.test"

    # Abandonné: refused as a duplicate, the provider gives it up.
    _interpreter_draft(story, "double", 61, _interpretation(story, "175", 63, 62, "2"))
    story.send("double", story.day(60, "09:30"))
    story.refuse("double", story.day(55, "14:10"), "DOUBLON",
                 "Cette audition a déjà été facturée dans un mémoire précédent.")
    story.abandon("double", story.day(54, "08:45"))

    # Dupliqué post refus: the duplicate (a draft then, so the automatic message names its TMP
    # number) is corrected, sent, certified with a modified amount (« MT modifié ») and paid.
    _interpreter_draft(story, "original", 49,
                       _interpretation(story, "198", 51, 50, "5", tarif="36.00"))
    story.send("original", story.day(48, "10:05"))
    story.refuse("original", story.day(44, "15:20"), "TARIF_NON_CONFORME",
                 "Le tarif horaire appliqué (36,00 €) dépasse le tarif réglementé (30,00 €).")
    story.duplicate("original", "copie", story.day(41, "09:10"))

    def correct() -> None:
        memoire = story.memoires["copie"]
        first = memoire.lines[0]
        memoires.update_line(session, memoire.created_by, first, LineData(
            numero_affaire=first.numero_affaire, date_requisition=first.date_requisition,
            autorite_code=first.autorite_code, type_code=first.type_code,
            date_prestation=first.date_prestation, quantite=first.quantite,
            tarif_ht=Decimal("30.00"), taux_tva=first.taux_tva),
            today=story.day(41, "09:25").date())

    timeline.on(story.day(41, "09:25"), correct)
    story.send("copie", story.day(40, "11:00"))

    def certify_copy() -> None:
        memoire = story.memoires["copie"]
        decisions.certify(session, story.user("greffe@demo.test"), memoire,
                          memoire.total_ttc - Decimal("36.00"),
                          "Une heure d'interprétariat sur cinq n'est pas justifiée par le "
                          "procès-verbal (durée d'audition de 4 heures).", "CERTIFIE", None,
                          now=story.day(30, "14:00"))
        memoire.engagement_juridique = "1303561187"

    timeline.on(story.day(30, "14:00"), certify_copy)
    story.pay("copie", story.day(12, "10:30"), f"DSJ-{story.day(12, '10:30').year}-004512")

    # Refusé, with a thread: the provider asks, the greffe answers.
    _interpreter_draft(story, "refuse", 26, _interpretation(story, "254", 28, 27, "4"))
    story.send("refuse", story.day(25, "08:50"))
    story.refuse("refuse", story.day(18, "16:00"), "PIECE_MANQUANTE",
                 "La réquisition de l'officier de police judiciaire n'est pas jointe.")
    story.say("refuse", interprete, story.day(17, "19:05"),
              "Bonjour, la réquisition m'a été remise oralement : puis-je joindre le "
              "procès-verbal d'audition à la place ?")
    story.say("refuse", "greffe@demo.test", story.day(16, "10:40"),
              "Oui, le procès-verbal mentionnant votre réquisition suffit. Dupliquez le mémoire "
              "et joignez-le.")

    # Mis à disposition — Certifié (waiting for payment).
    _interpreter_draft(story, "certifie", 16, _interpretation(story, "266", 18, 17, "2"))
    story.send("certifie", story.day(15, "10:15"))
    story.certify("certifie", story.day(9, "11:30"), "1303688904")

    # Mis à disposition — À contrôler: last week's, and last night's.
    _interpreter_draft(story, "controle", 7, _interpretation(story, "287", 9, 8, "3"))
    story.send("controle", story.day(6, "09:20"))
    story.draft("audition", interprete, PARIS, now - timedelta(hours=7),
                _interpretation(story, "301", 2, 1, "1.5"), vat_type="DEBITS")
    story.send("audition", now - timedelta(hours=5))


def _demo_expert(story: _Story) -> None:
    """More of the expert's mémoires, to the Tribunal judiciaire de Paris (whose greffe thus
    sees both demo providers): three paid over the year (his Liste fiscale), one of them taxed
    with a modified amount, one refused, one certified, one to be checked, and the only
    « Envoyé » mémoire of the demo, sent a few minutes ago: the transmission
    (`flask --app app juridiction transmettre`) has not run yet."""
    now = story.now
    expert = "expert@demo.test"

    story.draft("aubert-1", expert, PARIS, story.day(331, "18:05"),
                _expertise(story, "011", 390, 345))
    story.send("aubert-1", story.day(330, "09:12"))
    story.certify("aubert-1", story.day(301, "14:30"), "1302871455")
    story.pay("aubert-1", story.day(283, "10:00"), f"DSJ-{story.day(283, '10:00').year}-001873")

    story.draft("aubert-2", expert, PARIS, story.day(203, "17:40"),
                _expertise(story, "034", 250, 210, frais=Decimal("64.80")))
    story.send("aubert-2", story.day(202, "08:55"))
    story.certify("aubert-2", story.day(171, "11:20"), "1303116027", retained=Decimal("507.00"),
                  motif="Frais de transport non justifiés (aucun titre de transport joint).",
                  route="TAXE")
    story.pay("aubert-2", story.day(150, "15:45"), f"DSJ-{story.day(150, '15:45').year}-003320")

    story.draft("aubert-3", expert, PARIS, story.day(96, "19:02"),
                _expertise(story, "058", 130, 101))
    story.send("aubert-3", story.day(95, "08:40"))
    story.certify("aubert-3", story.day(71, "16:10"), "1303390542")
    story.pay("aubert-3", story.day(50, "09:30"), f"DSJ-{story.day(50, '09:30').year}-005106")

    # Refusé: the provider still has to act (Dupliquer or Abandonner).
    story.draft("aubert-refuse", expert, PARIS, story.day(36, "18:30"),
                _expertise(story, "077", 70, 40))
    story.send("aubert-refuse", story.day(35, "09:05"))
    story.refuse("aubert-refuse", story.day(28, "11:45"), "DONNEES_ERRONEES",
                 "Le numéro d'affaire ne correspond pas à l'ordonnance de commission d'expert.")

    # Mis à disposition — Certifié (waiting for payment), then À contrôler.
    story.draft("aubert-certifie", expert, PARIS, story.day(23, "17:55"),
                _expertise(story, "083", 60, 26))
    story.send("aubert-certifie", story.day(22, "10:20"))
    story.certify("aubert-certifie", story.day(10, "15:05"), "1303702219")
    story.draft("aubert-controle", expert, PARIS, story.day(9, "18:40"),
                _expertise(story, "091", 45, 12))
    story.send("aubert-controle", story.day(8, "09:15"))

    # Envoyé: sent a few minutes ago.
    story.draft("aubert-envoye", expert, PARIS, now - timedelta(minutes=55),
                _expertise(story, "102", 30, 6))
    story.send("aubert-envoye", now - timedelta(minutes=4), transmit=False)


# ---------------------------------------------------------------- two years of history

def _demo_history(session: Session, now: datetime) -> _History:
    """Two years of past mémoires of the interpreter's structure in final statuses (mostly
    « Mis en paiement », some « Abandonné » and « Dupliqué post refus »), to four juridictions,
    so that Rechercher, the Tableau de bord charts, the Liste fiscale and the Archives have
    something to show. Planned now, written in bulk by `build_until` between the events of the
    timeline (a few flushes per batch, no per-mémoire round trip) to stay fast."""
    return _History(session, now)


class _History:
    # (juridiction, share of mémoires, typical days from sending to payment)
    SPREAD = [("tj75056", 0.55, 35), ("tj92050", 0.2, 55), ("tj93008", 0.15, 80),
              ("tj13055", 0.1, 28)]

    def __init__(self, session: Session, now: datetime):
        self.session = session
        self.now = now
        self.rng = rng = random.Random(20240601)
        plan = []
        for _ in range(150):
            code, _, typical = rng.choices(self.SPREAD, weights=[s[1] for s in self.SPREAD])[0]
            final_at = now - timedelta(days=rng.randint(3, 725), hours=rng.randint(0, 9))
            delay = max(6, int(rng.gammavariate(4, typical / 4)))
            sent_at = final_at - timedelta(days=delay, hours=rng.randint(0, 6))
            created_at = sent_at - timedelta(days=rng.randint(0, 6), hours=2)
            plan.append((code, created_at, sent_at, final_at))
        plan.sort(key=lambda item: item[2])  # MJ numbers follow the sending order
        self.plan = plan
        self.first_created = min(created_at for _, created_at, _, _ in plan)
        self.index = 0
        self._context: dict | None = None

    def _load(self) -> dict:
        if self._context is None:
            from models import AutoriteRequerante

            session = self.session
            interprete = session.scalar(select(User).where(User.email == "interprete@demo.test"))
            cabinet = session.scalar(select(Structure)
                                     .where(Structure.gestionnaire_id == interprete.id))
            known = set(session.scalars(select(AutoriteRequerante.code)))
            autorites = [a for a in ["OPJ", "OPJ", "PROCUREUR_REPUBLIQUE", "JUGE_INSTRUCTION"]
                         if a in known] or sorted(known)[:1]
            self._context = {
                "interprete": interprete,
                "greffe": session.scalar(select(User).where(User.email == "greffe@demo.test")),
                "cabinet": cabinet,
                "account": session.scalar(select(BankAccount)
                                          .where(BankAccount.structure_id == cabinet.id)),
                "courts": {j.code: j for j in session.scalars(select(Juridiction).where(
                    Juridiction.code.in_([code for code, _, _ in self.SPREAD])))},
                "autorites": autorites,
            }
        return self._context

    def _reserve(self, name: str, count: int) -> int:
        """Take `count` consecutive numbers of a counter at once; returns the first."""
        from models import Counter

        session = self.session
        value = session.scalar(select(Counter.value).where(Counter.name == name))
        if value is None:
            session.add(Counter(name=name, value=count))
            session.flush()
            return 1
        session.execute(update(Counter).where(Counter.name == name)
                        .values(value=Counter.value + count))
        return value + 1

    def build_until(self, before: datetime | None) -> None:
        """Write the planned mémoires sent before `before` (all the rest when None)."""
        end = self.index
        while end < len(self.plan) and (before is None or self.plan[end][2] < before):
            end += 1
        if end > self.index:
            batch = self.plan[self.index:end]
            self.index = end
            self._build(batch)

    def _build(self, batch: list) -> None:
        from models import Certificate, Memoire, PrestationLine, Transition
        from models.memoire import MODE_WEB
        from services import certificate, lifecycle, memoires, numbering
        from services.submission import HONOUR_VERSION

        session, rng, context = self.session, self.rng, self._load()
        interprete, greffe = context["interprete"], context["greffe"]
        cabinet, account, courts = context["cabinet"], context["account"], context["courts"]
        autorites = context["autorites"]

        def step(memoire, transitions, to_status, to_step, at, actor, role, reason=None,
                 reason_code=None):
            previous = transitions[-1] if transitions else None
            transition = Transition(
                memoire=memoire, from_status=previous.to_status if previous else None,
                to_status=to_status, from_step=previous.to_step if previous else None,
                to_step=to_step, actor_id=actor.id if actor else None, actor_role=role, at=at,
                reason=reason, reason_code=reason_code)
            transition._previous = previous
            transitions.append(transition)

        next_tmp: dict[int, int] = {}
        for year in sorted({created_at.year for _, created_at, _, _ in batch}):
            next_tmp[year] = self._reserve(f"{numbering.TMP_PREFIX}{year}",
                                           sum(1 for _, c, _, _ in batch if c.year == year))
        next_mj = self._reserve(numbering.MJ_COUNTER, len(batch))

        built = []
        for offset, (code, created_at, sent_at, final_at) in enumerate(batch):
            index = self.index - len(batch) + offset
            court = courts.get(code) or next(iter(courts.values()))
            tmp = next_tmp[created_at.year]
            next_tmp[created_at.year] += 1
            roll = rng.random()
            outcome = (lifecycle.MIS_EN_PAIEMENT if roll < 0.86 else
                       lifecycle.ABANDONNE if roll < 0.93 else lifecycle.DUPLIQUE_POST_REFUS)
            memoire = Memoire(
                numero_tmp=f"{numbering.TMP_PREFIX}{created_at.year}"
                           f"{tmp:0{numbering.TMP_DIGITS}d}",
                mode_depot=MODE_WEB,
                structure_id=cabinet.id, service_id=cabinet.services[index % 2].id,
                juridiction_id=court.id, categorie_code=cabinet.categorie_code,
                bank_account_id=account.id, devise="EUR", texte_code="R92", vat_type="DEBITS",
                numero_facture=f"F{created_at:%Y}-{index + 1:04d}", created_by_id=interprete.id,
                created_at=created_at, updated_at=created_at, total_ttc=Decimal("0"),
                attachments=[], transitions=[])
            prestation = (sent_at - timedelta(days=rng.randint(3, 40))).date()
            for position in range(1, rng.choice([1, 1, 1, 2]) + 1):
                written = rng.random() < 0.25
                memoire.lines.append(PrestationLine(
                    position=position, numero_affaire=f"{prestation:%Y}/{rng.randint(100, 999)}",
                    date_requisition=prestation - timedelta(days=rng.randint(0, 5)),
                    autorite_code=rng.choice(autorites),
                    type_code="TRAD_ECRITE" if written else "TRAD_ORALE",
                    date_prestation=prestation,
                    quantite=Decimal(rng.choice(["1", "1.5", "2", "2.5", "3", "4", "6", "8"]))
                    if not written else Decimal(rng.randint(2, 30)),
                    tarif_ht=Decimal("30.00") if not written else Decimal("25.00"),
                    taux_tva=Decimal("20"),
                    frais_divers=Decimal(rng.choice(["0", "0", "0", "12.40", "28.60"])),
                    debours=Decimal("0"), remise=Decimal("0"), frais=[], attachments=[]))
            memoires.refresh_total(memoire)
            memoire.status = lifecycle.BROUILLON
            memoire.status_changed_at = created_at
            built.append((memoire, outcome, created_at, sent_at, final_at, court,
                          f"{numbering.MJ_PREFIX}{next_mj + offset:0{numbering.MJ_DIGITS}d}"))
        session.add_all([m for m, *_ in built])
        session.flush()  # lines are written while the mémoires are still drafts

        for memoire, outcome, created_at, sent_at, final_at, court, numero_mj in built:
            agent = greffe if court.code == PARIS else None
            transitions: list = []
            step(memoire, transitions, lifecycle.BROUILLON, None, created_at, interprete,
                 "prestataire")
            step(memoire, transitions, lifecycle.ENVOYE, None, sent_at, interprete,
                 "prestataire")
            step(memoire, transitions, lifecycle.MIS_A_DISPOSITION, lifecycle.A_CONTROLER,
                 sent_at + timedelta(minutes=2), None, lifecycle.SYSTEM)
            if outcome == lifecycle.MIS_EN_PAIEMENT:
                certified_at = sent_at + (final_at - sent_at) * 0.6
                step(memoire, transitions, lifecycle.MIS_A_DISPOSITION, lifecycle.CERTIFIE,
                     certified_at, agent, "agent")
                step(memoire, transitions, lifecycle.MIS_EN_PAIEMENT, lifecycle.PAYE, final_at,
                     agent, "agent")
                if rng.random() < 0.08:
                    memoire.montant_retenu = memoire.total_ttc - Decimal("36.00")
                    memoire.motif_montant_retenu = "Une heure d'interprétariat non justifiée."
                else:
                    memoire.montant_retenu = memoire.total_ttc
                memoire.paid_on = final_at.date()
                memoire.payment_reference = f"DSJ-{final_at:%Y}-{rng.randint(1000, 9999):06d}"
                memoire.court_step = lifecycle.PAYE
                # Recorded by the juridiction when the service fait was certified.
                memoire.engagement_juridique = f"13{rng.randint(10**7, 10**8 - 1)}"
            else:
                refused_at = sent_at + (final_at - sent_at) * 0.7
                step(memoire, transitions, lifecycle.REFUSE, None, refused_at, agent, "agent",
                     "La réquisition n'est pas jointe.", "PIECE_MANQUANTE")
                step(memoire, transitions, outcome, None, final_at, interprete, "prestataire",
                     "Abandon par le prestataire" if outcome == lifecycle.ABANDONNE else None)
                memoire.court_step = None
            session.add_all(transitions)
            memoire.numero_mj = numero_mj
            memoire.sent_at = sent_at
            memoire.sent_by_id = interprete.id
            memoire.honour_version = HONOUR_VERSION
            memoire.status = outcome
            memoire.status_changed_at = final_at
            memoire.updated_at = final_at
        session.flush()
        certificates = []
        with session.no_autoflush:
            for memoire, *_ in built:
                data = certificate.canonical_bytes(certificate.payload(memoire))
                certificates.append(Certificate(
                    memoire_id=memoire.id, numero_mj=memoire.numero_mj, canonical=data,
                    empreinte=certificate.empreinte(data), created_at=memoire.sent_at))
        session.add_all(certificates)
        session.flush()
