"""Server bench (PERFORMANCE.md §3 rows 1–2, method §4): a DB-backed htmx fragment and a full page
of a logged-in provider against a bare Flask `SELECT 1` endpoint, under the same gunicorn, in
the same run.

    .venv/bin/python bench/server.py                  # SQLite (a temporary file with demo data)
    .venv/bin/python bench/server.py --database-url postgresql://postgres@127.0.0.1:5432/postgres

PostgreSQL: the database `portail_bench_server` is created on that server and dropped at the end.
Needs `wrk` (apt-get install wrk). Prints a table and writes
bench/results/<date>-server-<engine>.json. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import http.client
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

LUA = Path(__file__).resolve().parent / "wrk_report.lua"
RATIO_BUDGET = 0.50  # fragment req/s ≥ 50 % of the baseline's
P95_BUDGET_MS = 50.0
# The prestation line of a draft, as « Modifier » swaps it in (saisie.line_edit), and Synthèse.
FRAGMENT = "/memoires/{memoire}/lignes/{line}/modifier"
PAGE = "/memoires/synthese"
# The session cookie is rewritten at most once a minute (inactivity timeout): log in again
# before it gets that old, so that no measured response carries a Set-Cookie.
SESSION_MAX_AGE_S = 40


def demo_draft(url: str) -> tuple[int, int]:
    """The webinar's draft of interprete@demo.test and its first prestation line."""
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT m.id, min(l.id) FROM memoires m JOIN prestation_lines l ON l.memoire_id = m.id"
            " JOIN users u ON u.id = m.created_by_id WHERE u.email = 'interprete@demo.test'"
            " AND m.status = 'BROUILLON' GROUP BY m.id ORDER BY m.id LIMIT 1")).one()
    engine.dispose()
    return row[0], row[1]


def probe(base: str, path: str, headers: dict) -> dict:
    """One request as a browser sends it: status, bytes of the (gzip) body, any Set-Cookie."""
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}")
    return {"body_bytes": len(body), "encoding": response.getheader("Content-Encoding", "none"),
            "set_cookie": response.getheader("Set-Cookie") is not None}


def run_wrk(base: str, path: str, headers: dict, duration: int, connections: int) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(LUA)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, base + path], capture_output=True, text=True,
                            check=True).stdout
    report = dict(pair.split("=") for pair in re.search(r"^BENCH (.*)$", output, re.M)
                  .group(1).split())
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = sum(int(report[k]) for k in ("connect", "read", "write", "status", "timeout"))
    errors += int(non_2xx.group(1)) if non_2xx else 0
    if errors:
        raise RuntimeError(f"{path}: {errors} errors under load\n{output}")
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "requests": int(report["requests"]),
            **{f"{p}_ms": round(int(report[f"{p}_us"]) / 1000, 2) for p in ("p50", "p95", "p99")}}


def median(values: list[float], digits: int = 1) -> float:
    return round(statistics.median(values), digits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL server (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fragment", default=FRAGMENT,
                        help="htmx fragment path ({memoire} and {line}: the demo draft's ids)")
    parser.add_argument("--page", default=PAGE, help="full page path")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    with common.scratch_database(args.database_url, "portail_bench_server") as (engine, url):
        print(f"Demo database ({engine})…", flush=True)
        common.build_demo(url)
        memoire_id, line_id = demo_draft(url)
        info = {**common.machine(url), "workers": args.workers}
        with common.gunicorn(url, args.workers) as base:
            report = measure(base, args, memoire_id, line_id)
    report = {"engine": engine, "environment": info, **report}
    out = common.write_results(f"server-{engine}", report)
    summarize(report, args)
    print(f"Results written to {out.relative_to(common.ROOT)}")


def measure(base: str, args, memoire_id: int, line_id: int) -> dict:
    gzip = {"Accept-Encoding": "gzip"}  # as a browser asks
    targets = {
        "baseline": ("/_bench/select1", gzip, False),
        "fragment": (args.fragment.format(memoire=memoire_id, line=line_id),
                     {**gzip, "HX-Request": "true"}, True),
        "page": (args.page, gzip, True),
    }
    client = common.Browser(base)
    logged_in_at = 0.0

    def headers_for(name: str) -> dict:
        nonlocal logged_in_at
        path, headers, authenticated = targets[name]
        if not authenticated:
            return headers
        if time.monotonic() - logged_in_at > SESSION_MAX_AGE_S:
            client.login("interprete@demo.test")
            logged_in_at = time.monotonic()
        return {**headers, "Cookie": client.cookie_header}

    sizes = {}
    for name, (path, _, _) in targets.items():
        sizes[name] = probe(base, path, headers_for(name))
        run_wrk(base, path, headers_for(name), 2, args.connections)  # warm-up
    rng = random.Random(args.seed)
    rounds = []
    for number in range(1, args.rounds + 1):
        order = list(targets)
        rng.shuffle(order)
        results = {}
        for name in order:
            path = targets[name][0]
            headers = headers_for(name)
            if probe(base, path, headers)["set_cookie"]:
                raise RuntimeError(f"{path} rewrites the session cookie: measure would be skewed")
            results[name] = run_wrk(base, path, headers, args.duration, args.connections)
        results["order"] = order
        baseline = results["baseline"]["rps"]
        results["fragment_ratio"] = round(results["fragment"]["rps"] / baseline, 3)
        results["page_ratio"] = round(results["page"]["rps"] / baseline, 3)
        rounds.append(results)
        print(f"  round {number}/{args.rounds} ({', '.join(order)}): " + ", ".join(
            f"{name} {results[name]['rps']:.0f} req/s p95 {results[name]['p95_ms']} ms"
            for name in targets), flush=True)

    summary = {}
    for name, (path, _, _) in targets.items():
        rps = [r[name]["rps"] for r in rounds]
        p95 = [r[name]["p95_ms"] for r in rounds]
        summary[name] = {"path": path, "rps_median": round(statistics.median(rps)),
                         "p50_ms_median": median([r[name]["p50_ms"] for r in rounds]),
                         "p95_ms_median": median(p95), "p95_ms_max": max(p95),
                         "p99_ms_median": median([r[name]["p99_ms"] for r in rounds]),
                         **sizes[name]}
    for key in ("fragment_ratio", "page_ratio"):
        values = [r[key] for r in rounds]
        summary[key] = {"median": median(values, 3), "min": min(values),
                        "max": max(values)}
    budgets = {
        "fragment_ratio_ge_50pct": summary["fragment_ratio"]["median"] >= RATIO_BUDGET,
        "fragment_p95_le_50ms": summary["fragment"]["p95_ms_median"] <= P95_BUDGET_MS,
        "page_p95_le_50ms": summary["page"]["p95_ms_median"] <= P95_BUDGET_MS,
    }
    return {"method": {"load": f"wrk -t1 -c{args.connections} -d{args.duration}s --latency",
                       "rounds": args.rounds, "order": "shuffled per round (seed "
                       f"{args.seed})", "accept_encoding": "gzip"},
            "rounds": rounds, "summary": summary, "budgets": budgets}


def summarize(report: dict, args) -> None:
    summary, info = report["summary"], report["environment"]
    print(f"\n{report['engine']}, gunicorn -w {info['workers']}, wrk -c{args.connections} "
          f"-d{args.duration}s × {args.rounds} rounds — {common.describe(info)}")
    common.print_table(
        ["Endpoint", "req/s (median)", "p50 ms", "p95 ms (median / max)", "p99 ms", "bytes"],
        [[f"{name}: {summary[name]['path']}", summary[name]["rps_median"],
          summary[name]["p50_ms_median"],
          f"{summary[name]['p95_ms_median']} / {summary[name]['p95_ms_max']}",
          summary[name]["p99_ms_median"], summary[name]["body_bytes"]]
         for name in ("baseline", "fragment", "page")])
    for key, label in (("fragment_ratio", "fragment"), ("page_ratio", "page")):
        ratio = summary[key]
        print(f"{label} / baseline req/s: median {ratio['median']:.0%} "
              f"(min {ratio['min']:.0%} – max {ratio['max']:.0%})")
    verdict = ", ".join(f"{k} {'OK' if v else 'MISSED'}" for k, v in report["budgets"].items())
    print(f"Budgets: {verdict}")


if __name__ == "__main__":
    main()
