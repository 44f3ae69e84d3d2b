"""Shared by bench/server.py, bench/submissions.py and bench/webinar_edge.py: a scratch database
with the demo data, the real app under gunicorn on a loopback port, logging in over HTTP, the
machine description and the results file. Not part of the test suite."""
from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
SECRET_KEY = "bench-secret-key-not-for-production"
DEMO_PASSWORD = "demo-frais-de-justice"


# ---------------------------------------------------------------- databases

def engine_url(database_url: str | None) -> str | None:
    """postgres:// and postgresql:// spelled for psycopg 3, as create_app does."""
    if database_url and database_url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + database_url.split("://", 1)[1]
    return database_url


@contextlib.contextmanager
def scratch_database(database_url: str | None, name: str):
    """Yield (engine name, URL) of an empty database, removed afterwards: a SQLite file in a
    temporary directory, or the PostgreSQL database `name` (re)created on the server of
    `database_url` and dropped at the end."""
    url = engine_url(database_url)
    if not url:
        with tempfile.TemporaryDirectory(prefix="portail-bench-") as folder:
            yield "sqlite", f"sqlite:///{folder}/portail.db"
        return
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield "postgresql", make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bench_app(url: str, **config):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, **config})


def build_demo(url: str) -> None:
    """The real migrations, the reference data and the demo data (`flask setup` + `flask demo`)."""
    from flask_migrate import upgrade

    from extensions import db
    from services.demo import create_demo_data
    from services.reference_data import load_reference_data

    app = bench_app(url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_reference_data(db.session)
        create_demo_data(db.session)
        db.session.commit()
        db.engine.dispose()


# ---------------------------------------------------------------- gunicorn

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, workers: int = 2, timeout: int = 120):
    """The real app (bench/wsgi.py: create_app() plus a bare `SELECT 1` route) under
    `gunicorn -w workers` on a free loopback port; yields the base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY}
    env.pop("PORTAIL_DEMO", None)
    log = tempfile.NamedTemporaryFile(prefix="portail-bench-gunicorn-", suffix=".log",
                                      delete=False)
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--timeout", str(timeout), "--chdir", str(ROOT), "bench.wsgi:app"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_bench/select1", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n"
                                   + Path(log.name).read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)  # graceful stop of the arbiter and its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)


class Browser:
    """A tiny cookie-keeping HTTP client (urllib): logs in with the form's CSRF token."""

    TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf_token = ""

    def get(self, path: str, **headers) -> str:
        request = urllib.request.Request(self.base + path, headers=headers)
        with self.opener.open(request, timeout=30) as response:
            return response.read().decode("utf-8")

    def post(self, path: str, fields: dict, **headers) -> tuple[int, str]:
        body = urllib.parse.urlencode({"csrf_token": self.csrf_token, **fields}).encode()
        request = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def refresh_token(self, path: str = "/") -> None:
        match = self.TOKEN.search(self.get(path))
        if not match:
            raise RuntimeError(f"no CSRF token on {path}")
        self.csrf_token = match.group(1)

    def login(self, email: str, password: str = DEMO_PASSWORD) -> None:
        self.refresh_token("/connexion")
        status, _ = self.post("/connexion", {"email": email, "password": password})
        if status != 200 or "session" not in self.cookies:  # 303 → home page, followed
            raise RuntimeError(f"login of {email} failed ({status})")
        self.refresh_token("/")  # login starts a new session, with a new token

    @property
    def cookies(self) -> dict[str, str]:
        return {cookie.name: cookie.value for cookie in self.jar}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())


# ---------------------------------------------------------------- report

def machine(url: str | None = None) -> dict:
    """CPU model, nproc, Python, SQLite (and PostgreSQL) versions, gunicorn, git commit."""
    import gunicorn as gunicorn_package

    info = {"cpu": platform.processor() or platform.machine(), "nproc": os.cpu_count(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "gunicorn": gunicorn_package.__version__,
            "loadavg_1m_at_start": round(os.getloadavg()[0], 2)}  # other jobs on the machine
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    if url and url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.connect() as conn:
            info["postgresql"] = conn.execute(text("SHOW server_version")).scalar()
        engine.dispose()
    git = ["git", "-C", str(ROOT)]
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        info["git_commit"] = subprocess.check_output(
            [*git, "rev-parse", "--short", "HEAD"], text=True).strip()
        dirty = subprocess.check_output([*git, "status", "--porcelain", "--untracked-files=no"],
                                        text=True).strip()
        info["git_dirty"] = bool(dirty)  # others' uncommitted edits were measured too
    return info


def describe(info: dict) -> str:
    versions = f"Python {info['python']}, SQLite {info['sqlite']}"
    if "postgresql" in info:
        versions += f", PostgreSQL {info['postgresql']}"
    commit = info.get("git_commit", "?") + (" (+ uncommitted changes)" if info.get("git_dirty")
                                            else "")
    return f"{info['cpu']}, nproc {info['nproc']}, {versions}, commit {commit}"


def write_results(name: str, report: dict) -> Path:
    out = ROOT / "bench" / "results" / f"{date.today().isoformat()}-{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"date": datetime.now().isoformat(timespec="seconds"),
              "loadavg_1m_at_end": round(os.getloadavg()[0], 2), **report}
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))
        if index == 0:
            print("  ".join("-" * w for w in widths))
