"""Scale bench of the tracking screens: generate N mémoires (1,000,000 by default) and measure
Rechercher, Synthèse, Tableau de bord and the CSV export through the real Flask stack.

    .venv/bin/python bench/scale.py                      # SQLite, 1,000,000 mémoires
    .venv/bin/python bench/scale.py --rows 100000        # smaller
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/scale.py

PostgreSQL: a database `portail_bench` is (re)created next to the one named in DATABASE_URL.
A database already generated with the same row count is reused (--regenerate to rebuild).
Prints a table and writes bench/results/<date>-<engine>.json. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

STATUSES = [("BROUILLON", 5), ("ENVOYE", 1), ("MIS_A_DISPOSITION", 8), ("REFUSE", 2),
            ("DUPLIQUE_POST_REFUS", 2), ("ABANDONNE", 2), ("MIS_EN_PAIEMENT", 80)]
BENCH_USER = "bench@demo.test"
BATCH = 50_000
ROUNDS = 21


# ---------------------------------------------------------------- database

def database_url(args) -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL")
    if url and url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        base = make_url("postgresql+psycopg://" + url.split("://", 1)[1])
        return "postgresql", base.set(database="portail_bench").render_as_string(
            hide_password=False)
    path = Path(args.sqlite_path).resolve()
    return "sqlite", f"sqlite:///{path}"


def existing_rows(url: str) -> int:
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM memoires")).scalar() or 0
    except Exception:  # noqa: BLE001 - no database yet
        return 0
    finally:
        engine.dispose()


def recreate(engine_name: str, url: str, args) -> None:
    if engine_name == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(args.sqlite_path + suffix).unlink(missing_ok=True)
        return
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "portail_bench" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "portail_bench"'))
    admin.dispose()


def build_schema(app) -> None:
    from flask_migrate import upgrade

    from extensions import db
    from services import accounts
    from services.demo import create_demo_data
    from services.reference_data import load_reference_data

    accounts.HASH_METHOD = "pbkdf2:sha256:1000"
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_reference_data(db.session)
        create_demo_data(db.session)
        db.session.commit()


def generate(app, engine_name: str, rows: int, seed: int = 7) -> float:
    """Structures with a long-tailed size (Zipf-like), juridictions (Paris heavier), statuses,
    dates over five years, amounts; one prestation line per mémoire."""
    from extensions import db
    from models import Juridiction
    from models.organisation import (
        HABILITATION_GRANTED,
        PROFILE_MODIFICATION,
        ROLE_PRESTATAIRE,
    )
    from services import accounts

    rng = random.Random(seed)
    started = time.perf_counter()
    with app.app_context():
        session = db.session
        creator = accounts.create_user(session, BENCH_USER, "bench-frais-de-justice",
                                       "Utilisateur du banc d'essai", ROLE_PRESTATAIRE)
        session.flush()
        juridictions = session.execute(select(Juridiction.id, Juridiction.code)).all()
        paris = next(j for j, code in juridictions if code == "tj75056")
        structures = max(50, rows // 200)
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        conn = session.connection()
        first_structure = (conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM structures"))
                           .scalar() + 1)
        conn.execute(text(
            "INSERT INTO structures (id, identifier_type, identifier, raison_sociale, pays, "
            "categorie_code, droit_option, is_active, created_at) VALUES (:id, 'SIRET', :ident, "
            ":name, 'FR', :cat, :f, :t, :now)"),
            [{"id": first_structure + i, "ident": f"9{i:013d}",
              "name": f"Prestataire {i + 1:05d} SARL", "cat": rng.choice(
                  ["INTERPRETE", "INTERPRETE", "PSYCHIATRE", "MEDECIN", "EXPERT"]),
              "f": False, "t": True, "now": now} for i in range(structures)])
        # The bench user: the largest structure, plus two small ones.
        for offset in (0, structures // 2, structures - 1):
            conn.execute(text(
                "INSERT INTO habilitations (user_id, structure_id, profile, status, requested_at)"
                " VALUES (:u, :s, :p, :st, :now)"),
                {"u": creator.id, "s": first_structure + offset, "p": PROFILE_MODIFICATION,
                 "st": HABILITATION_GRANTED, "now": now})
        first_id = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM memoires")).scalar() + 1
        session.commit()
        user_id = creator.id
        categories = dict(session.execute(text(
            f"SELECT id, categorie_code FROM structures WHERE id >= {first_structure}")).all())
        engine = db.engine
        session.close()

        weights = [1 / (rank ** 0.8) for rank in range(1, structures + 1)]
        cumulative_s = list(_accumulate(weights))
        j_ids = [j for j, _ in juridictions]
        j_weights = [len(j_ids) * 0.09 if j == paris else 1.0 for j in j_ids]
        cumulative_j = list(_accumulate(j_weights))
        cumulative_st = list(_accumulate([w for _, w in STATUSES]))
        horizon = 5 * 365 * 86400

        # A provider works mostly for one or two juridictions near it.
        homes = [rng.choices(j_ids, cum_weights=cumulative_j, k=2) for _ in range(structures)]

        def memoire_rows(start: int, count: int):
            out, lines = [], []
            for n in range(start, start + count):
                index = rng.choices(range(structures), cum_weights=cumulative_s)[0]
                structure = first_structure + index
                juridiction = (rng.choice(homes[index]) if rng.random() < 0.85
                               else rng.choices(j_ids, cum_weights=cumulative_j)[0])
                status = STATUSES[rng.choices(range(len(STATUSES)),
                                              cum_weights=cumulative_st)[0]][0]
                created = now - timedelta(seconds=rng.randint(0, horizon))
                sent = None if status == "BROUILLON" else created + timedelta(
                    hours=rng.randint(1, 200))
                changed = created if sent is None else min(
                    now, sent + timedelta(days=rng.randint(0, 120)))
                hours = rng.choice([1, 2, 2, 3, 4, 6, 8, 12])
                frais = rng.choice([0, 0, 0, 1240, 2860])
                ttc = (hours * 3000 + frais) * 12 // 10
                retenu = ttc if status == "MIS_EN_PAIEMENT" else None
                out.append((n, f"TMP{created.year}{n:09d}", status, "WEB", structure,
                            juridiction, categories[structure], "EUR", "R92", "DEBITS",
                            f"F-{n}", 0, ttc, user_id, created, changed, sent, changed, 1,
                            "MIS_EN_PAIEMENT" if status == "MIS_EN_PAIEMENT" else None,
                            retenu, f"13{n:08d}" if n % 3 == 0 else None))
                prestation = (created - timedelta(days=rng.randint(1, 30))).date()
                lines.append((n, 1, f"{prestation.year}/{n % 100000:05d}", prestation,
                              "OPJ", "TRAD_ORALE", prestation, hours * 100, 3000, 2000, frais,
                              0, 0))
            return out, lines

        columns = ("id, numero_tmp, status, mode_depot, structure_id, juridiction_id, "
                   "categorie_code, devise, texte_code, vat_type, numero_facture, "
                   "remise_globale_ttc, total_ttc, created_by_id, created_at, updated_at, "
                   "sent_at, status_changed_at, version, court_step, montant_retenu, "
                   "engagement_juridique")
        line_columns = ("memoire_id, position, numero_affaire, date_requisition, "
                        "autorite_code, type_code, date_prestation, quantite, tarif_ht, "
                        "taux_tva, frais_divers, debours, remise")
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for start in range(first_id, first_id + rows, BATCH):
                count = min(BATCH, first_id + rows - start)
                memoires, lines = memoire_rows(start, count)
                if engine_name == "sqlite":
                    cursor.execute("BEGIN")
                    cursor.executemany(f"INSERT INTO memoires ({columns}) VALUES "
                                       f"({','.join('?' * 22)})", memoires)
                    cursor.executemany(f"INSERT INTO prestation_lines ({line_columns}) VALUES "
                                       f"({','.join('?' * 13)})", lines)
                    cursor.execute("COMMIT")
                else:
                    with cursor.copy(f"COPY memoires ({columns}) FROM STDIN") as copy:
                        for row in memoires:
                            copy.write_row(row)
                    with cursor.copy(f"COPY prestation_lines ({line_columns}) FROM STDIN") \
                            as copy:
                        for row in lines:
                            copy.write_row(row)
                raw.commit()
                print(f"  {start - first_id + count:>9,} mémoires", end="\r", flush=True)
            # Numbers are given once the lines exist (the database refuses lines on a sent
            # mémoire), as sending does.
            if engine_name == "sqlite":
                cursor.execute("BEGIN")
                cursor.execute("UPDATE memoires SET numero_mj = 'MJ' || printf('%010d', id) "
                               f"WHERE status <> 'BROUILLON' AND id >= {first_id}")
                cursor.execute("COMMIT")
            else:
                cursor.execute("UPDATE memoires SET numero_mj = 'MJ' || lpad(id::text, 10, '0') "
                               f"WHERE status <> 'BROUILLON' AND id >= {first_id}")
                cursor.execute("SELECT setval(pg_get_serial_sequence('memoires', 'id'), "
                               "(SELECT max(id) FROM memoires))")
            raw.commit()
            if engine_name == "sqlite":
                cursor.execute("ANALYZE")
            else:
                # Index-only scans need the visibility map that VACUUM writes.
                driver = raw.driver_connection
                driver.autocommit = True
                driver.execute("VACUUM ANALYZE memoires")
                driver.execute("VACUUM ANALYZE prestation_lines")
                driver.autocommit = False
        finally:
            raw.close()
    print()
    return time.perf_counter() - started


def _accumulate(values):
    total = 0.0
    for value in values:
        total += value
        yield total


# ---------------------------------------------------------------- measures

def timed(call, rounds: int = ROUNDS) -> dict:
    call()  # warm up (caches, query plans)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1),
            "min_ms": round(samples[0], 1)}


def measure(app, engine_name: str) -> dict:
    from extensions import db
    from models import Memoire

    client = app.test_client()
    results = {}

    def login(email: str, password: str) -> None:
        client.post("/deconnexion")
        with client.session_transaction() as session:
            session.clear()
        response = client.post("/connexion", data={"email": email, "password": password})
        assert response.status_code in (302, 303), response.status_code

    def get(url: str, **headers):
        def call():
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)
            response.get_data()
        return call

    with app.app_context():
        user_structures = db.session.execute(text(
            "SELECT structure_id FROM habilitations h JOIN users u ON u.id = h.user_id "
            "WHERE u.email = :e ORDER BY structure_id"), {"e": BENCH_USER}).scalars().all()
        big = user_structures[0]
        mine = db.session.scalar(select(func.count()).select_from(Memoire).where(
            Memoire.structure_id.in_(user_structures)))
        sample = db.session.scalar(select(Memoire.numero_mj).where(
            Memoire.structure_id == big, Memoire.numero_mj.is_not(None))
            .order_by(Memoire.id.desc()).limit(1))
        affaire = db.session.scalar(text(
            "SELECT l.numero_affaire FROM prestation_lines l JOIN memoires m ON "
            "m.id = l.memoire_id WHERE m.structure_id = :s ORDER BY l.id DESC LIMIT 1"),
            {"s": big})
        paris_rows = db.session.scalar(text(
            "SELECT count(*) FROM memoires m JOIN juridictions j ON j.id = m.juridiction_id "
            "WHERE j.code = 'tj75056' AND m.status <> 'BROUILLON'"))
    results["provider_visible_memoires"] = mine
    results["agent_visible_memoires"] = paris_rows
    today = date.today()

    app.config["RATELIMIT_ENABLED"] = False
    login(BENCH_USER, "bench-frais-de-justice")
    hx = {"HX-Request": "true"}
    cases = {
        "Rechercher (page par défaut)": get("/memoires/recherche"),
        "Rechercher (fragment htmx, numéro)": get(f"/memoires/recherche?numero={sample[:9]}",
                                                  **hx),
        "Rechercher (état + dates + montant)": get(
            "/memoires/recherche?status=MIS_EN_PAIEMENT&depot_du="
            f"{today - timedelta(days=365)}&depot_au={today}&montant_min=100&lignes=20", **hx),
        "Rechercher (n° d'affaire)": get(f"/memoires/recherche?affaire={affaire}&archives=y",
                                         **hx),
        "Rechercher (tri montant, page 3)": get(
            "/memoires/recherche?tri=montant&ordre=desc&page=3&lignes=50&archives=y", **hx),
        "Synthèse": get("/memoires/synthese"),
        "Tableau de bord": get("/memoires/tableau-de-bord"),
        "Archives": get("/memoires/archives"),
        "Liste fiscale (1 an)": get(f"/memoires/liste-fiscale?structure_id={big}&du="
                                    f"{today - timedelta(days=364)}&au={today}"),
    }
    for name, call in cases.items():
        results[name] = timed(call)
        print(f"  {name:<42} p50 {results[name]['p50_ms']:>8.1f} ms", flush=True)

    login("greffe@demo.test", "demo-frais-de-justice")
    for name, call in {
        "Agent : Rechercher (page par défaut)": get("/memoires/recherche"),
        "Agent : Rechercher (état + dates)": get(
            f"/memoires/recherche?status=MIS_A_DISPOSITION&depot_du="
            f"{today - timedelta(days=90)}&depot_au={today}", **hx),
        "Agent : Tableau de bord": get("/memoires/tableau-de-bord"),
    }.items():
        results[name] = timed(call)
        print(f"  {name:<42} p50 {results[name]['p50_ms']:>8.1f} ms", flush=True)

    # CSV export of everything the juridiction received (archives included): first byte time,
    # rows, and the peak of Python memory allocated while streaming it.
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    start = time.perf_counter()
    response = client.get("/memoires/recherche/export.csv?archives=y", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    first_byte = (time.perf_counter() - start) * 1000
    size, lines = len(first), first.count(b"\n")
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\n")
    total = (time.perf_counter() - start) * 1000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    response.close()
    results["Export CSV (agent)"] = {
        "rows": lines - 1, "first_byte_ms": round(first_byte, 1), "total_ms": round(total),
        "bytes": size, "peak_python_memory_mb": round((peak - base) / 1e6, 1)}
    print(f"  Export CSV: {lines - 1:,} lignes, premier octet {first_byte:.0f} ms, "
          f"total {total / 1000:.1f} s, mémoire max +{(peak - base) / 1e6:.1f} Mo", flush=True)
    return results


def versions(engine_name: str, app) -> dict:
    from extensions import db

    info = {"python": platform.python_version(), "cpu": platform.processor() or
            platform.machine(), "nproc": os.cpu_count(), "sqlite": sqlite3.sqlite_version}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    if engine_name == "postgresql":
        with app.app_context():
            info["postgresql"] = db.session.scalar(text("SHOW server_version"))
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite-path", default=str(ROOT / "instance" / "bench.sqlite"))
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    engine_name, url = database_url(args)
    Path(args.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
    os.environ.pop("DATABASE_URL", None)

    from app import create_app

    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False,
              "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    generation_s = None
    have = existing_rows(url)
    if args.regenerate or have < args.rows:
        recreate(engine_name, url, args)
        app = create_app(config)
        build_schema(app)
        print(f"Génération de {args.rows:,} mémoires ({engine_name})…")
        generation_s = round(generate(app, engine_name, args.rows), 1)
        print(f"  généré en {generation_s} s")
    app = create_app(config)
    print(f"Mesures ({engine_name}, {existing_rows(url):,} mémoires)…")
    results = measure(app, engine_name)
    report = {"date": datetime.now().isoformat(timespec="seconds"), "engine": engine_name,
              "rows": existing_rows(url), "generation_s": generation_s,
              "environment": versions(engine_name, app), "results": results}
    out = ROOT / "bench" / "results" / f"{date.today().isoformat()}-{engine_name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\n{'Mesure':<44}{'p50 (ms)':>10}{'p95 (ms)':>10}")
    for name, value in results.items():
        if isinstance(value, dict) and "p50_ms" in value:
            print(f"{name:<44}{value['p50_ms']:>10.1f}{value['p95_ms']:>10.1f}")
    print(f"Résultats écrits dans {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
