"""Submissions bench (PERFORMANCE.md §3, last row): mémoires sent per second by 8 concurrent
clients, and the MJ numbers they got must be exactly a contiguous range, without duplicates.

    .venv/bin/python bench/submissions.py                 # SQLite (temporary file, WAL)
    .venv/bin/python bench/submissions.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/postgres

Two modes, each on its own batch of ready-to-send drafts (header, one line, a réquisition PDF on
the line, a bank account with its RIB) of the demo provider:
- service: 8 threads call services.submission.submit + commit + transmission, as the
  « Confirmer et envoyer » view does, each in its own request context (own session; on SQLite
  the POST makes it BEGIN IMMEDIATE, as in production);
- http: 8 threads POST the real « Confirmer et envoyer » route (CSRF token, htmx headers) to
  the app under `gunicorn -w 2` on a loopback port.

PostgreSQL: the database `portail_bench_submissions` is created and dropped at the end.
Prints a table and writes bench/results/<date>-submissions-<engine>.json. Not a test.
"""
from __future__ import annotations

import argparse
import http.client
import queue
import statistics
import sys
import threading
import time
import urllib.parse
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

THROUGHPUT_BUDGET = 100  # mémoires/s on PostgreSQL with 8 clients
PROVIDER = "interprete@demo.test"


def prepare_drafts(app, count: int, tag: str) -> list[tuple[int, int]]:
    """`count` drafts ready to send, built by the saisie services. Returns (id, version)."""
    from fpdf import FPDF

    from extensions import db
    from models import BankAccount, Juridiction, Structure, User
    from services import attachments, memoires

    today = date.today()
    drafts = []
    with app.app_context():
        session = db.session
        owner = session.scalar(select(User).where(User.email == PROVIDER))
        structure = session.scalar(select(Structure).where(Structure.gestionnaire_id == owner.id))
        account = session.scalar(select(BankAccount).where(
            BankAccount.structure_id == structure.id))
        paris = session.scalar(select(Juridiction).where(Juridiction.code == "tj75056"))
        for index in range(count):
            memoire = memoires.create_draft(
                session, owner, structure_id=structure.id, service_id=structure.services[0].id,
                juridiction_id=paris.id, categorie_code=structure.categorie_code,
                bank_account_id=account.id, devise="EUR", texte_code="R92", vat_type="DEBITS",
                numero_facture=f"BENCH-{tag}-{index + 1:05d}")
            affaire = f"2025/{tag}{index + 1:05d}"
            line = memoires.add_line(session, owner, memoire, memoires.LineData(
                numero_affaire=affaire, date_requisition=today - timedelta(days=4),
                autorite_code="OPJ", type_code="TRAD_ORALE",
                date_prestation=today - timedelta(days=3), quantite=Decimal("2"),
                tarif_ht=Decimal("30.00"), taux_tva=Decimal("20")))
            pdf = FPDF()
            pdf.add_page()
            pdf.set_font("Helvetica", size=12)
            pdf.cell(0, 10, f"Réquisition à interprète, affaire {affaire}")
            attachments.add_attachment(session, owner, memoire, line, "requisition.pdf",
                                       bytes(pdf.output()), f"Réquisition {affaire}",
                                       "REQUISITION", 10 * 1024 * 1024, 40)
            drafts.append(memoire)
            if index % 100 == 99:
                session.commit()
        session.commit()
        result = [(m.id, m.version) for m in drafts]
        db.engine.dispose()
    return result


def check_sendable(app, memoire_id: int) -> None:
    from extensions import db
    from models import Memoire
    from services import submission

    with app.app_context():
        problems = submission.check_before_sending(db.session, db.session.get(Memoire, memoire_id),
                                                   date.today())
        if submission.blocking(problems):
            raise RuntimeError(f"draft {memoire_id} cannot be sent: {problems}")


def mj_counter(app) -> int:
    from extensions import db
    from services import numbering

    with app.app_context():
        return db.session.scalar(text("SELECT value FROM counters WHERE name = :n"),
                                 {"n": numbering.MJ_COUNTER}) or 0


def run_clients(clients: int, drafts: list[tuple[int, int]], send) -> dict:
    """`clients` threads take drafts from one queue and `send` them; wall time from the moment
    they all start until the last one finishes."""
    pending: queue.Queue = queue.Queue()
    for draft in drafts:
        pending.put(draft)
    latencies: list[float] = []
    errors: list[str] = []
    start = threading.Barrier(clients + 1)

    def client():
        start.wait()
        while True:
            try:
                memoire_id, version = pending.get_nowait()
            except queue.Empty:
                return
            began = time.perf_counter()
            try:
                send(memoire_id, version)
            except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
                errors.append(f"{memoire_id}: {type(exc).__name__}: {exc}"[:300])
                continue
            latencies.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"sent": len(latencies), "errors": len(errors), "error_samples": errors[:5],
            "elapsed_s": round(elapsed, 2), "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 1) if latencies else None}


def service_sender(app):
    """What the « Confirmer et envoyer » view does after its checks: submit, commit, transmit."""
    from flask import request

    from extensions import db
    from models import Memoire, User
    from services import submission, transmission

    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == PROVIDER))
    months = {"warning_months": app.config["FORCLUSION_WARNING_MONTHS"],
              "forclusion_months": app.config["FORCLUSION_MONTHS"]}

    def send(memoire_id: int, version: int) -> None:
        # A POST request context: its own session, and BEGIN IMMEDIATE on SQLite (app.py).
        with app.test_request_context(f"/memoires/{memoire_id}/envoi/confirmation",
                                      method="POST", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            memoire = db.session.get(Memoire, memoire_id)
            user = db.session.get(User, user_id)
            try:
                submission.submit(db.session, memoire, user, request.remote_addr,
                                  submission.HONOUR_VERSION, None, expected_version=version,
                                  **months)
            except Exception:
                db.session.rollback()
                raise
            db.session.commit()
            transmission.transmit(db.session, memoire, app.config)

    return send


def http_sender(base: str):
    """POST « Confirmer et envoyer » as the browser does (htmx, CSRF), one shared login."""
    browser = common.Browser(base)
    browser.login(PROVIDER)
    parsed = urllib.parse.urlsplit(base)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true",
               "Cookie": browser.cookie_header, "Accept-Encoding": "gzip"}

    def send(memoire_id: int, version: int) -> None:
        body = urllib.parse.urlencode({"csrf_token": browser.csrf_token, "version": version,
                                       "justification_forclusion": ""})
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        try:
            conn.request("POST", f"/memoires/{memoire_id}/envoi/confirmation", body, headers)
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        if response.status != 200 or "/recapitulatif" not in (
                response.getheader("HX-Push-Url") or ""):
            raise RuntimeError(f"HTTP {response.status}")

    return send


def verify_numbers(app, drafts: list[tuple[int, int]], before: int) -> dict:
    """The batch's MJ numbers are exactly before+1 … before+N; the whole table stays gapless."""
    from extensions import db
    from models import Certificate, Memoire
    from services import numbering

    ids = [memoire_id for memoire_id, _ in drafts]
    with app.app_context():
        session = db.session
        numbers = session.scalars(select(Memoire.numero_mj).where(Memoire.id.in_(ids))).all()
        given = sorted(int(n[len(numbering.MJ_PREFIX):]) for n in numbers if n)
        certificates = session.scalar(select(func.count()).select_from(Certificate).where(
            Certificate.memoire_id.in_(ids)))
        after = mj_counter(app)
        total, distinct, highest = session.execute(select(
            func.count(Memoire.numero_mj), func.count(func.distinct(Memoire.numero_mj)),
            func.max(Memoire.numero_mj))).one()
    sent = len(given)
    return {
        "first": given[0] if given else None, "last": given[-1] if given else None,
        "contiguous": given == list(range(before + 1, before + 1 + sent)),
        "no_duplicates": len(set(given)) == sent,
        "counter_matches": after == before + sent,
        "certificates": certificates,
        # Every MJ number in the database, demo ones included, is 1 … max, once each.
        "table_gapless": total == distinct == int(highest[len(numbering.MJ_PREFIX):]),
    }


def measure_mode(mode: str, url: str, args, tag: str) -> dict:
    from extensions import db

    app = common.bench_app(url)
    print(f"  {mode}: preparing {args.memoires} drafts…", flush=True)
    started = time.perf_counter()
    drafts = prepare_drafts(app, args.memoires, tag)
    prepared_s = round(time.perf_counter() - started, 1)
    check_sendable(app, drafts[0][0])
    before = mj_counter(app)
    print(f"  {mode}: sending with {args.clients} clients…", flush=True)
    if mode == "service":
        result = run_clients(args.clients, drafts, service_sender(app))
    else:
        with common.gunicorn(url, args.workers) as base:
            result = run_clients(args.clients, drafts, http_sender(base))
    with app.app_context():
        db.engine.dispose()
    numbers = verify_numbers(app, drafts, before)
    print(f"  {mode}: {result['per_second']} mémoires/s, errors {result['errors']}, "
          f"numbers {numbers}", flush=True)
    return {"prepare_s": prepared_s, **result, "numbers": numbers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--memoires", type=int, default=800, help="drafts sent per mode")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (http mode)")
    parser.add_argument("--modes", default="service,http")
    args = parser.parse_args()

    with common.scratch_database(args.database_url, "portail_bench_submissions") as (engine, url):
        print(f"Demo database ({engine})…", flush=True)
        common.build_demo(url)
        info = common.machine(url)
        results = {mode: measure_mode(mode, url, args, tag=f"{i}")
                   for i, mode in enumerate(args.modes.split(","))}
    ok = all(r["errors"] == 0 and all(v for k, v in r["numbers"].items()
                                      if k not in ("first", "last", "certificates"))
             and r["numbers"]["certificates"] == r["sent"] for r in results.values())
    report = {"engine": engine, "environment": info, "memoires_per_mode": args.memoires,
              "clients": args.clients, "gunicorn_workers": args.workers, "results": results,
              "numbers_ok": ok,
              # The budget is set for PostgreSQL; on SQLite the figures are informative.
              "budget_100_per_s": {m: r["per_second"] >= THROUGHPUT_BUDGET
                                   for m, r in results.items()} if engine == "postgresql"
              else None}
    out = common.write_results(f"submissions-{engine}", report)

    print(f"\n{engine}, {args.clients} clients, {args.memoires} mémoires per mode — "
          f"{common.describe(info)}")
    common.print_table(
        ["Mode", "sent/s", "p50 ms", "p95 ms", "sent", "errors", "MJ range", "gapless"],
        [[mode, r["per_second"], r["p50_ms"], r["p95_ms"], r["sent"], r["errors"],
          f"{r['numbers']['first']}–{r['numbers']['last']}",
          "yes" if r["numbers"]["contiguous"] and r["numbers"]["no_duplicates"]
          and r["numbers"]["table_gapless"] else "NO"]
         for mode, r in results.items()])
    budget = (", ".join(f"{m} {'OK' if v else 'MISSED'}"
                        for m, v in report["budget_100_per_s"].items())
              if engine == "postgresql" else "applies to PostgreSQL only")
    print(f"Budget ≥ {THROUGHPUT_BUDGET}/s: {budget}; numbers {'OK' if ok else 'WRONG'}")
    print(f"Results written to {out.relative_to(common.ROOT)}")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
