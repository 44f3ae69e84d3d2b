"""Demo data for webinars and evaluation: `flask --app app demo`.

Every account has the password DEMO_PASSWORD. Later capabilities add their own demo objects
in create_demo_data (mémoires in every status, messages, tickets…).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone

from fpdf import FPDF
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import BankAccount, Habilitation, Juridiction, Service, Structure, User
from models.organisation import (
    HABILITATION_GRANTED,
    PROFILE_CONSULTATION,
    PROFILE_MODIFICATION,
    ROLE_ADMIN,
    ROLE_AGENT,
    ROLE_PRESTATAIRE,
    ROLE_SUPPORT,
)
from services import accounts, storage

DEMO_PASSWORD = "demo-frais-de-justice"


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


def _user(session: Session, account: DemoAccount, **fields) -> User:
    return accounts.create_user(session, account.email, DEMO_PASSWORD, account.full_name,
                                account.role, **fields)


def _grant(session: Session, user: User, structure: Structure, profile: str) -> None:
    session.add(Habilitation(user=user, structure=structure, profile=profile,
                             status=HABILITATION_GRANTED))


def _bank_account(session: Session, structure: Structure, nom: str, iban: str,
                  bic: str) -> BankAccount:
    rib = storage.store(session, rib_pdf(structure.raison_sociale, iban, bic), "application/pdf")
    account = BankAccount(structure=structure, nom=nom, type="IBAN", pays=iban[:2], iban=iban,
                          bic=bic, information="Compte professionnel", rib_sha256=rib.sha256,
                          rib_filename="rib.pdf")
    session.add(account)
    return account


def create_demo_data(session: Session) -> str:
    """Create the demo accounts, structures and objects. Returns a short summary."""
    by_email = {a.email: a for a in DEMO_ACCOUNTS}
    paris = session.scalar(select(Juridiction).where(Juridiction.code == "tj75056"))

    interprete = _user(session, by_email["interprete@demo.test"])
    expert = _user(session, by_email["expert@demo.test"])
    consultation = _user(session, by_email["consultation@demo.test"])
    _user(session, by_email["greffe@demo.test"], juridiction=paris)
    _user(session, by_email["support@demo.test"])
    _user(session, by_email["admin@demo.test"])

    cabinet = Structure(
        identifier_type="SIRET", identifier="81234567600017",
        raison_sociale="Cabinet Lefèvre Interprétariat", numero_rcs="812 345 676 R.C.S. Paris",
        tva_intracom="FR19812345676", email="contact@lefevre-interpretariat.test",
        adresse="12 rue des Traducteurs", code_postal="75011", ville="Paris", pays="FR",
        telephone="01 23 45 67 89", categorie_code="INTERPRETE", regime="COSP",
        default_vat_type="ENCAISSEMENTS", gestionnaire=interprete,
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

    _grant(session, interprete, cabinet, PROFILE_MODIFICATION)
    _grant(session, consultation, cabinet, PROFILE_CONSULTATION)
    _grant(session, expert, aubert, PROFILE_MODIFICATION)
    session.flush()
    _demo_memoires(session)
    _demo_sent_memoires(session)
    _demo_organisation(session)
    _demo_lifecycle(session)
    _demo_history(session)
    return f"{len(DEMO_ACCOUNTS)} comptes de démonstration créés (mot de passe : {DEMO_PASSWORD})."


def _demo_memoires(session: Session) -> None:
    """Drafts to show the saisie: the webinar's line (1 × 150,00 at 5,5 % = 158,25 TTC), the
    worked example of REFERENCE §3.1 (127,88 TTC) and an expert's draft."""
    from datetime import date, timedelta
    from decimal import Decimal

    from services import memoires

    today = date.today()
    interprete = session.scalar(select(User).where(User.email == "interprete@demo.test"))
    expert = session.scalar(select(User).where(User.email == "expert@demo.test"))
    juridictions = {j.code: j for j in session.scalars(
        select(Juridiction).where(Juridiction.code.in_(["tj75056", "tj69123"])))}

    def header(user: User, juridiction_code: str) -> dict:
        structure = session.scalar(select(Structure).where(Structure.gestionnaire_id == user.id))
        account = session.scalar(select(BankAccount).where(BankAccount.structure_id == structure.id))
        return {"structure_id": structure.id, "service_id": structure.services[0].id,
                "juridiction_id": juridictions[juridiction_code].id,
                "categorie_code": structure.categorie_code, "bank_account_id": account.id,
                "devise": "EUR", "texte_code": "R92", "vat_type": structure.default_vat_type}

    webinar = memoires.create_draft(session, interprete, **{**header(interprete, "tj75056"),
                                                             "vat_type": "DEBITS"})
    memoires.add_line(session, interprete, webinar, memoires.LineData(
        numero_affaire="20190XX", date_requisition=today - timedelta(days=16),
        autorite_code="OPJ", type_code="AUTRE", date_prestation=today - timedelta(days=2),
        quantite=Decimal("1"), tarif_ht=Decimal("150.00"), taux_tva=Decimal("5.5")))

    worked = memoires.create_draft(session, interprete, **{**header(interprete, "tj75056"),
                                                            "vat_type": "DEBITS",
                                                            "numero_facture": "LEF-2025-014"})
    memoires.add_line(session, interprete, worked, memoires.LineData(
        numero_affaire="2019/00", date_requisition=today - timedelta(days=10),
        autorite_code="TRIBUNAL_POLICE", type_code="TRAD_ORALE",
        date_prestation=today - timedelta(days=9), quantite=Decimal("3"),
        tarif_ht=Decimal("30.00"), taux_tva=Decimal("20"), debours=Decimal("5.00"),
        frais=[memoires.FraisData(today - timedelta(days=9), "transport", Decimal("1"),
                                  Decimal("12.40"))]))

    aubert = memoires.create_draft(session, expert, **header(expert, "tj69123"))
    memoires.add_line(session, expert, aubert, memoires.LineData(
        numero_affaire="1", date_requisition=today - timedelta(days=40),
        autorite_code="JUGE_INSTRUCTION", type_code="EXPERTISE_PSYCHIATRIQUE_INSTRUCTION",
        date_prestation=today - timedelta(days=7), quantite=Decimal("1"),
        tarif_ht=Decimal("507.00"), taux_tva=Decimal("0")))


def demo_pdf(title: str, *lines: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=14)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _demo_sent_memoires(session: Session) -> None:
    """Sent mémoires (« Envoyé », MJ number, certificate): two of the interpreter's to the
    Tribunal judiciaire de Paris (seen by greffe@demo.test), one of the expert's to Lyon; and a
    document in the interpreter's structure library, importable with « + »."""
    from datetime import datetime, timedelta
    from decimal import Decimal

    from services import attachments, memoires, submission

    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    today = now.date()
    interprete = session.scalar(select(User).where(User.email == "interprete@demo.test"))
    expert = session.scalar(select(User).where(User.email == "expert@demo.test"))
    max_bytes = 10 * 1024 * 1024

    def header(user: User, juridiction_code: str, **extra) -> dict:
        structure = session.scalar(select(Structure).where(Structure.gestionnaire_id == user.id))
        account = session.scalar(select(BankAccount).where(BankAccount.structure_id == structure.id))
        juridiction = session.scalar(select(Juridiction).where(Juridiction.code == juridiction_code))
        return {"structure_id": structure.id, "service_id": structure.services[0].id,
                "juridiction_id": juridiction.id, "categorie_code": structure.categorie_code,
                "bank_account_id": account.id, "devise": "EUR", "texte_code": "R92",
                "vat_type": structure.default_vat_type, **extra}

    cabinet = session.scalar(select(Structure).where(Structure.gestionnaire_id == interprete.id))
    attachments.add_structure_document(
        session, interprete, cabinet, "attestation-urssaf.pdf",
        demo_pdf("Attestation de vigilance URSSAF", f"Structure : {cabinet.label}"),
        "Attestation de vigilance URSSAF", "ATTESTATION_URSSAF", max_bytes)

    first = memoires.create_draft(session, interprete, **header(interprete, "tj75056",
                                                                 vat_type="DEBITS"))
    line = memoires.add_line(session, interprete, first, memoires.LineData(
        numero_affaire="2025/118", date_requisition=today - timedelta(days=30),
        autorite_code="OPJ", type_code="TRAD_ORALE", date_prestation=today - timedelta(days=29),
        quantite=Decimal("2"), tarif_ht=Decimal("30.00"), taux_tva=Decimal("20")))
    attachments.add_attachment(
        session, interprete, first, line, "requisition-2025-118.pdf",
        demo_pdf("Réquisition à interprète", "Affaire 2025/118", "Officier de police judiciaire"),
        "Réquisition OPJ 2025/118", "REQUISITION", max_bytes, 40)
    submission.submit(session, first, interprete, None, submission.HONOUR_VERSION,
                      now=now - timedelta(days=20))

    second = memoires.create_draft(session, interprete, **header(interprete, "tj75056",
                                                                  vat_type="DEBITS"))
    memoires.add_line(session, interprete, second, memoires.LineData(
        numero_affaire="2025/131", date_requisition=today - timedelta(days=12),
        autorite_code="JUGE_INSTRUCTION", type_code="TRAD_ECRITE",
        date_prestation=today - timedelta(days=8), quantite=Decimal("12"),
        tarif_ht=Decimal("25.00"), taux_tva=Decimal("20"), debours=Decimal("8.50")))
    submission.submit(session, second, interprete, None, submission.HONOUR_VERSION,
                      now=now - timedelta(days=3))

    third = memoires.create_draft(session, expert, **header(expert, "tj69123"))
    memoires.add_line(session, expert, third, memoires.LineData(
        numero_affaire="2025/047", date_requisition=today - timedelta(days=60),
        autorite_code="JUGE_INSTRUCTION", type_code="EXPERTISE_PSYCHIATRIQUE_INSTRUCTION",
        date_prestation=today - timedelta(days=21), quantite=Decimal("1"),
        tarif_ht=Decimal("507.00"), taux_tva=Decimal("0")))
    submission.submit(session, third, expert, None, submission.HONOUR_VERSION,
                      now=now - timedelta(days=5))


def _demo_organisation(session: Session) -> None:
    """A pending habilitation request and the interpreter's structure documents (webinar)."""
    from models import Attachment
    from models.organisation import HABILITATION_REQUESTED

    nouveau = _user(session, next(a for a in DEMO_ACCOUNTS if a.email == "nouveau@demo.test"))
    cabinet = session.scalar(select(Structure).where(Structure.identifier == "81234567600017"))
    session.add(Habilitation(user=nouveau, structure=cabinet, profile=PROFILE_CONSULTATION,
                             status=HABILITATION_REQUESTED))
    interprete = session.scalar(select(User).where(User.email == "interprete@demo.test"))
    documents = [
        ("ATTESTATION_URSSAF", "Attestation de vigilance URSSAF", "attestation-vigilance.pdf",
         demo_pdf("Attestation de vigilance", f"Cotisant : {cabinet.raison_sociale}",
                  f"SIRET : {cabinet.identifier}",
                  "L'URSSAF atteste que le cotisant est à jour de ses obligations "
                  "déclaratives et de paiement (document de démonstration).")),
        ("RIB", "RIB - Compte principal", "rib-compte-principal.pdf",
         rib_pdf(cabinet.raison_sociale, "FR7630006000011234567890189", "AGRIFRPP")),
    ]
    for type_code, designation, filename, data in documents:
        stored = storage.store(session, data, "application/pdf")
        session.add(Attachment(structure_id=cabinet.id, sha256=stored.sha256, filename=filename,
                               designation=designation, type_code=type_code, extension="pdf",
                               uploaded_by_id=interprete.id))
    session.flush()


def _demo_lifecycle(session: Session) -> None:
    """Mémoires of the interpreter's structure to the Tribunal judiciaire de Paris in every
    status, with their history (dated in the past), decisions and messages: Envoyé, Mis à
    disposition (à contrôler, and certifié), Refusé with a thread, Dupliqué post refus whose
    duplicate was corrected, resent, certified with a modified amount and put in payment
    (« MT modifié »), and Abandonné."""
    from datetime import datetime, timedelta
    from decimal import Decimal

    from models import Memoire
    from models.memoire import MODE_WEB
    from services import (
        decisions,
        lifecycle,
        memoires,
        messages,
        numbering,
        submission,
        transmission,
    )

    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    today = now.date()
    interprete = session.scalar(select(User).where(User.email == "interprete@demo.test"))
    greffe = session.scalar(select(User).where(User.email == "greffe@demo.test"))
    cabinet = session.scalar(select(Structure).where(Structure.gestionnaire_id == interprete.id))
    account = session.scalar(select(BankAccount).where(BankAccount.structure_id == cabinet.id))
    paris = session.scalar(select(Juridiction).where(Juridiction.code == "tj75056"))

    def draft(affaire: str, days_ago: int, quantite: str, tarif: str = "30.00",
              type_code: str = "TRAD_ORALE") -> Memoire:
        created = now - timedelta(days=days_ago, hours=2)
        memoire = Memoire(
            numero_tmp=numbering.next_tmp(session, created.year), mode_depot=MODE_WEB,
            structure_id=cabinet.id, service_id=cabinet.services[0].id, juridiction_id=paris.id,
            categorie_code=cabinet.categorie_code, bank_account_id=account.id, devise="EUR",
            texte_code="R92", vat_type="DEBITS", created_by_id=interprete.id, created_at=created,
            updated_at=created, total_ttc=Decimal("0"))
        memoire.status = None
        session.add(memoire)
        lifecycle.record(session, memoire, lifecycle.BROUILLON, interprete, at=created)
        session.flush()
        memoires.add_line(session, interprete, memoire, memoires.LineData(
            numero_affaire=affaire, date_requisition=today - timedelta(days=days_ago + 3),
            autorite_code="OPJ", type_code=type_code,
            date_prestation=today - timedelta(days=days_ago + 2), quantite=Decimal(quantite),
            tarif_ht=Decimal(tarif), taux_tva=Decimal("20")))
        return memoire

    def sent(memoire: Memoire, days_ago: int, deliver: bool = True) -> Memoire:
        when = now - timedelta(days=days_ago)
        submission.submit(session, memoire, interprete, None, submission.HONOUR_VERSION, now=when)
        if deliver:
            transmission.deliver(session, memoire, now=when + timedelta(minutes=2))
        return memoire

    def at(days_ago: int, hours: int = 0) -> datetime:
        return now - timedelta(days=days_ago, hours=hours)

    def say(memoire: Memoire, user: User, body: str, days_ago: int, hours: int) -> None:
        message = messages.post(session, user, memoire, body, [], max_bytes=1)
        message.created_at = at(days_ago, hours)

    # Abandonné: refused as a duplicate, the provider gives it up.
    twice = sent(draft("2025/175", 60, "2"), 60)
    decisions.refuse(session, greffe, twice, "DOUBLON",
                     "Cette audition a déjà été facturée dans un mémoire précédent.", None,
                     now=at(55))
    decisions.abandon(session, interprete, twice, None, now=at(54))

    # Dupliqué post refus, whose duplicate was corrected, resent, certified with a modified
    # amount (« MT modifié ») and put in payment.
    original = sent(draft("2025/198", 48, "5", tarif="36.00"), 48)
    decisions.refuse(session, greffe, original, "TARIF_NON_CONFORME",
                     "Le tarif horaire appliqué (36,00 €) dépasse le tarif réglementé (30,00 €).",
                     None, now=at(44))
    copy = decisions.duplicate_after_refusal(session, interprete, original, None, now=at(41))
    line = copy.lines[0]
    memoires.update_line(session, interprete, line, memoires.LineData(
        numero_affaire=line.numero_affaire, date_requisition=line.date_requisition,
        autorite_code=line.autorite_code, type_code=line.type_code,
        date_prestation=line.date_prestation, quantite=line.quantite,
        tarif_ht=Decimal("30.00"), taux_tva=line.taux_tva))
    sent(copy, 40)
    decisions.certify(session, greffe, copy, copy.total_ttc - Decimal("36.00"),
                      "Une heure d'interprétariat sur cinq n'est pas justifiée par le "
                      "procès-verbal (durée d'audition de 4 heures).", lifecycle.CERTIFIE, None,
                      now=at(30))
    decisions.pay(session, greffe, copy, today - timedelta(days=12), "DSJ-2025-004512", None,
                  today, now=at(12))

    # Refusé, with a thread: the provider asks, the greffe answers.
    refused = sent(draft("2025/254", 25, "4"), 25)
    decisions.refuse(session, greffe, refused, "PIECE_MANQUANTE",
                     "La réquisition de l'officier de police judiciaire n'est pas jointe.", None,
                     now=at(18))
    say(refused, interprete, "Bonjour, la réquisition m'a été remise oralement : "
                             "puis-je joindre le procès-verbal d'audition à la place ?", 17, 5)
    say(refused, greffe, "Oui, le procès-verbal mentionnant votre réquisition suffit. "
                         "Dupliquez le mémoire et joignez-le.", 16, 3)

    # Mis à disposition, certifié (waiting for payment).
    certified = sent(draft("2025/266", 15, "2"), 15)
    decisions.certify(session, greffe, certified, certified.total_ttc, None, lifecycle.CERTIFIE,
                      None, now=at(9))
    # Mis à disposition, à contrôler.
    sent(draft("2025/287", 6, "3"), 6)
    # Envoyé: in transmission right now.
    sent(draft("2025/301", 0, "1.5"), 0, deliver=False)

    session.flush()


def _demo_history(session: Session) -> None:
    """Two years of past mémoires of the interpreter's structure in final statuses (mostly
    « Mis en paiement », some « Abandonné » and « Dupliqué post refus »), to four juridictions,
    so that Rechercher, the Tableau de bord charts, the Liste fiscale and the Archives have
    something to show. Written in a few flushes (no per-mémoire round trip) to stay fast."""
    import random
    from datetime import datetime, timedelta
    from decimal import Decimal

    from sqlalchemy import update

    from models import Certificate, Counter, Memoire, PrestationLine, Transition
    from models.memoire import MODE_WEB
    from services import certificate, lifecycle, memoires, numbering
    from services.submission import HONOUR_VERSION

    rng = random.Random(20240601)
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    interprete = session.scalar(select(User).where(User.email == "interprete@demo.test"))
    greffe = session.scalar(select(User).where(User.email == "greffe@demo.test"))
    cabinet = session.scalar(select(Structure).where(Structure.gestionnaire_id == interprete.id))
    account = session.scalar(select(BankAccount).where(BankAccount.structure_id == cabinet.id))
    courts = {j.code: j for j in session.scalars(select(Juridiction).where(
        Juridiction.code.in_(["tj75056", "tj92050", "tj93008", "tj13055"])))}
    # (juridiction, share of mémoires, typical days from sending to payment)
    spread = [("tj75056", 0.55, 35), ("tj92050", 0.2, 55), ("tj93008", 0.15, 80),
              ("tj13055", 0.1, 28)]
    autorites = ["OPJ", "OPJ", "PROCUREUR_REPUBLIQUE", "JUGE_INSTRUCTION"]
    from models import AutoriteRequerante
    known = set(session.scalars(select(AutoriteRequerante.code)))
    autorites = [a for a in autorites if a in known] or sorted(known)[:1]

    def reserve(name: str, count: int) -> int:
        """Take `count` consecutive numbers of a counter at once; returns the first."""
        value = session.scalar(select(Counter.value).where(Counter.name == name))
        if value is None:
            session.add(Counter(name=name, value=count))
            return 1
        session.execute(update(Counter).where(Counter.name == name)
                        .values(value=Counter.value + count))
        return value + 1

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

    plan = []
    for _ in range(150):
        code, _, typical = rng.choices(spread, weights=[s[1] for s in spread])[0]
        final_at = now - timedelta(days=rng.randint(3, 725), hours=rng.randint(0, 9))
        delay = max(6, int(rng.gammavariate(4, typical / 4)))
        sent_at = final_at - timedelta(days=delay, hours=rng.randint(0, 6))
        created_at = sent_at - timedelta(days=rng.randint(0, 6), hours=2)
        plan.append((code, created_at, sent_at, final_at))
    plan.sort(key=lambda item: item[2])  # MJ numbers follow the sending order
    next_tmp: dict[int, int] = {}
    for year in sorted({created_at.year for _, created_at, _, _ in plan}):
        next_tmp[year] = reserve(f"{numbering.TMP_PREFIX}{year}",
                                 sum(1 for _, c, _, _ in plan if c.year == year))
    next_mj = reserve(numbering.MJ_COUNTER, len(plan))

    built = []
    for index, (code, created_at, sent_at, final_at) in enumerate(plan):
        court = courts.get(code) or next(iter(courts.values()))
        tmp = next_tmp[created_at.year]
        next_tmp[created_at.year] += 1
        roll = rng.random()
        outcome = (lifecycle.MIS_EN_PAIEMENT if roll < 0.86 else
                   lifecycle.ABANDONNE if roll < 0.93 else lifecycle.DUPLIQUE_POST_REFUS)
        memoire = Memoire(
            numero_tmp=f"{numbering.TMP_PREFIX}{created_at.year}{tmp:0{numbering.TMP_DIGITS}d}",
            mode_depot=MODE_WEB,
            structure_id=cabinet.id, service_id=cabinet.services[index % 2].id,
            juridiction_id=court.id, categorie_code=cabinet.categorie_code,
            bank_account_id=account.id, devise="EUR", texte_code="R92", vat_type="DEBITS",
            numero_facture=f"F{created_at:%Y}-{index + 1:04d}", created_by_id=interprete.id,
            created_at=created_at, updated_at=created_at, total_ttc=Decimal("0"),
            engagement_juridique=(f"13{rng.randint(10**7, 10**8 - 1)}"
                                  if rng.random() < 0.4 else None),
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
                      f"{numbering.MJ_PREFIX}{next_mj + index:0{numbering.MJ_DIGITS}d}"))
    session.add_all([m for m, *_ in built])
    session.flush()  # lines are written while the mémoires are still drafts

    for memoire, outcome, created_at, sent_at, final_at, court, numero_mj in built:
        agent = greffe if court.code == "tj75056" else None
        transitions: list = []
        step(memoire, transitions, lifecycle.BROUILLON, None, created_at, interprete,
             "prestataire")
        step(memoire, transitions, lifecycle.ENVOYE, None, sent_at, interprete, "prestataire")
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
