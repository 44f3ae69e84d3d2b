"""WSGI entry of the benches: the real app, plus one bare route that exists only here.

    gunicorn -w 2 --chdir <repo> bench.wsgi:app      (started by bench/common.py)

`/_bench/select1` is the baseline of PERFORMANCE.md §3: the same gunicorn, the same Flask app
(its before/after request hooks and security headers), the same database session — but no
login, no permission check, no template: `SELECT 1` and a one-byte answer.
"""
from sqlalchemy import text

from app import create_app
from extensions import db

app = create_app()


@app.get("/_bench/select1")
def bench_select1():
    return str(db.session.execute(text("SELECT 1")).scalar()), 200, {"Content-Type": "text/plain"}
