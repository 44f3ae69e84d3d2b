"""Static files: versioned URLs (content hash), cached for a year, compressed once.

Served from memory rather than as file streams so that Flask-Compress compresses them
(and caches the result) like any other response.
"""
from __future__ import annotations

import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, abort, request, url_for
from werkzeug.security import safe_join

STATIC = Path(__file__).resolve().parent.parent / "static"
ONE_YEAR = 31_536_000


@lru_cache(maxsize=256)
def _load(path: str, mtime: float) -> tuple[bytes, str]:
    data = Path(path).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


def _file(filename: str) -> tuple[bytes, str]:
    path = safe_join(str(STATIC), filename)
    if path is None or not Path(path).is_file():
        abort(404)
    return _load(path, Path(path).stat().st_mtime)


def static_url(filename: str) -> str:
    return url_for("static", filename=filename, v=_file(filename)[1])


def serve(filename: str) -> Response:
    data, digest = _file(filename)
    mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = Response(data, mimetype=mime)
    response.set_etag(digest)
    if request.args.get("v") == digest:
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    return response.make_conditional(request)


NOT_CACHED = "not-cached"


class CompressedCache(dict):
    """Flask-Compress cache backend: keeps the compressed bodies of static files only
    (Flask-Compress asks it about every response; pages are never cached)."""

    def get(self, key):
        return None if key.endswith(NOT_CACHED) else super().get(key)

    def set(self, key, value):
        if not key.endswith(NOT_CACHED):
            self[key] = value


def compress_cache_key(req) -> str:
    return req.full_path if req.endpoint == "static" else NOT_CACHED


def init_app(app: Flask) -> None:
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=serve)
    app.jinja_env.globals["static_url"] = static_url
