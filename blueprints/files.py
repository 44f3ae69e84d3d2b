"""Sending stored files (attachments, RIB, documents) to the browser, always the same safe way:
a download (or an inline view for PDF and images), nosniff, a sandbox CSP, never cached."""
from __future__ import annotations

import io

from flask import Response, send_file

from blueprints.security import SANDBOX_CSP
from models import StoredFile


def send_stored(stored: StoredFile, filename: str, inline: bool = False) -> Response:
    response = send_file(io.BytesIO(stored.data), mimetype=stored.mime, as_attachment=not inline,
                         download_name=filename, conditional=False, etag=False, max_age=0)
    response.headers["Content-Security-Policy"] = SANDBOX_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
