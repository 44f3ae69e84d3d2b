"""Gapless numbering (TMP drafts, MJ sent mémoires) from the counters table.

A number is taken by `UPDATE counters SET value = value + 1 … RETURNING value` inside the
caller's transaction: the row lock (PostgreSQL) or the write lock (SQLite, BEGIN IMMEDIATE)
serialises concurrent takers, and a rollback gives the number back, so no gap ever appears.
Never MAX(numero) + 1; the UNIQUE constraints on the numbers are only a backstop.
"""
from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

MJ_COUNTER = "MJ"
MJ_PREFIX = "MJ"
MJ_DIGITS = 10
TMP_PREFIX = "TMP"
TMP_DIGITS = 8


def next_value(session: Session, name: str) -> int:
    """The next value of counter `name` (1 for a new counter), in the caller's transaction."""
    # The row is created on first use; ON CONFLICT keeps two first users from colliding.
    session.execute(
        text("INSERT INTO counters (name, value) VALUES (:name, 0) ON CONFLICT (name) DO NOTHING"),
        {"name": name},
    )
    value = session.execute(
        text("UPDATE counters SET value = value + 1 WHERE name = :name RETURNING value"),
        {"name": name},
    ).scalar_one()
    return int(value)


def next_mj(session: Session) -> str:
    """Definitive number of a sent mémoire: « MJ » + 10 digits, e.g. MJ0000002117."""
    return f"{MJ_PREFIX}{next_value(session, MJ_COUNTER):0{MJ_DIGITS}d}"


def next_tmp(session: Session, year: int) -> str:
    """Draft number: « TMP » + year + 8 digits, e.g. TMP201900000004 (one counter per year)."""
    return f"{TMP_PREFIX}{year}{next_value(session, f'{TMP_PREFIX}{year}'):0{TMP_DIGITS}d}"
