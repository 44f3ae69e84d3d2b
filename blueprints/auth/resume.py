"""Keeping what the user typed when their session or form token expired.

The fields of the refused form are kept in the (new) session; after logging in the user
lands on a page that sends them again with a fresh token. Files cannot be kept this way:
the page says so.
"""
from __future__ import annotations

from flask import request, session

MAX_KEPT_BYTES = 2500  # the session is a cookie: keep it well under 4 KB


def form_fields() -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.form.items(multi=True) if k != "csrf_token"]


def keep_pending_post() -> None:
    fields = form_fields()
    if sum(len(k) + len(v) for k, v in fields) > MAX_KEPT_BYTES:
        return
    session["pending_post"] = {"url": request.path, "fields": fields,
                               "had_files": bool(request.files)}


def take_pending_post() -> dict | None:
    return session.pop("pending_post", None)
