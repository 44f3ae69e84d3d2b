"""Answering htmx and plain requests from the same views.

A page template names each swappable region as a block; an htmx request gets the block,
a plain request (JavaScript off, or a boosted link) the whole page.
"""
from __future__ import annotations

import json

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block, render_blocks


def is_fragment_request() -> bool:
    return bool(request.htmx) and not request.htmx.boosted


def render(template: str, block: str | list[str] | None = None, status: int = 200,
           **context) -> Response:
    """The full page, or for htmx the named block(s) (first one is swapped, others are oob)."""
    if block and is_fragment_request():
        if isinstance(block, str):
            body = render_block(template, block, **context)
        else:
            body = render_blocks(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def trigger(response: Response, event: str, detail=None) -> Response:
    """Add an event to HX-Trigger, merging with those already set."""
    current = response.headers.get("HX-Trigger")
    events = json.loads(current) if current else {}
    events[event] = detail if detail is not None else ""
    response.headers["HX-Trigger"] = json.dumps(events, ensure_ascii=True)
    return response


def toast(response: Response, message: str, level: str = "info") -> Response:
    return trigger(response, "toast", {"message": message, "level": level})


def no_swap(response: Response) -> Response:
    response.headers["HX-Reswap"] = "none"
    return response


def client_redirect(url: str) -> Response:
    """Redirect the whole page: HX-Redirect for htmx, 303 See Other otherwise."""
    if request.htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    response = make_response("", 303)
    response.headers["Location"] = url
    return response
