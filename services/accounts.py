"""User accounts: passwords, authentication, session versions."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from models import User
from models.types import utcnow

HASH_METHOD = "scrypt"  # Werkzeug's default; the test suite swaps in a faster one
PASSWORD_MIN = 12
PASSWORD_MAX = 256
_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """Compared against when the e-mail is unknown, so both answers take the same time."""
    if HASH_METHOD not in _dummy_hashes:
        _dummy_hashes[HASH_METHOD] = generate_password_hash("timing", method=HASH_METHOD)
    return _dummy_hashes[HASH_METHOD]


class PasswordError(ValueError):
    pass


def check_password_strength(password: str, user_inputs: list[str] | None = None) -> None:
    """Length 12–256, no composition rule, and not a common or guessable password."""
    if len(password) < PASSWORD_MIN:
        raise PasswordError(f"Le mot de passe doit contenir au moins {PASSWORD_MIN} caractères.")
    if len(password) > PASSWORD_MAX:
        raise PasswordError(f"Le mot de passe doit contenir au plus {PASSWORD_MAX} caractères.")
    if zxcvbn(password[:100], user_inputs=user_inputs or [])["score"] < 3:
        raise PasswordError(
            "Ce mot de passe est trop courant ou trop facile à deviner : "
            "choisissez une phrase de plusieurs mots."
        )


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user if the e-mail and password match an enabled account, else None.

    The key derivation always runs, so an unknown e-mail answers as slowly as a wrong password.
    """
    user = find_user(session, email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.is_enabled:
        return None
    if not user.email_confirmed:
        return None
    user.last_login_at = utcnow()
    return user


def create_user(session: Session, email: str, password: str, full_name: str, role: str,
                **fields) -> User:
    user = User(email=normalize_email(email), password_hash=hash_password(password),
                full_name=full_name, role=role, **fields)
    session.add(user)
    session.flush()
    return user


def shared_demo_account(user: User, settings: Mapping) -> bool:
    """In demo mode the demo accounts are shared by a whole webinar: nobody may lock them out."""
    from services.demo import DEMO_ACCOUNTS

    return bool(settings.get("DEMO")) and user.email in {a.email for a in DEMO_ACCOUNTS}


def change_password(user: User, current: str, new: str, settings: Mapping | None = None) -> None:
    if settings is not None and shared_demo_account(user, settings):
        raise PasswordError("Compte de démonstration partagé : son mot de passe ne change pas, "
                            "pour que chacun puisse s'y connecter.")
    if not check_password_hash(user.password_hash, current):
        raise PasswordError("Le mot de passe actuel est incorrect.")
    check_password_strength(new, [user.email, user.full_name])
    user.password_hash = hash_password(new)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Every session opened before this call stops being accepted at its next request."""
    user.session_version += 1
