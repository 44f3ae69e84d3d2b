"""Créer un compte, confirm the e-mail address, « Mot de passe oublié », invitations.

Links carry a random secret of 256 bits; only its SHA-256 is stored. A link works once and for
TOKEN_LIFETIME. The answers never tell whether an address has an account.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import EmailToken, User
from models.mail import TOKEN_CONFIRM, TOKEN_RESET
from models.organisation import ROLE_PRESTATAIRE
from models.types import utcnow
from services import accounts, mail

TOKEN_LIFETIME = timedelta(hours=24)


class TokenError(ValueError):
    """The link is unknown, already used or expired (one French message for all three)."""

    def __init__(self):
        super().__init__("Ce lien n'est plus valide : il a déjà servi ou a expiré (24 h). "
                         "Demandez-en un nouveau.")


@dataclass(frozen=True)
class Links:
    """How the views build absolute URLs for the e-mails (services know no request)."""

    confirm: Callable[[str], str]
    reset: Callable[[str], str]
    forgot: str
    login: str


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, purpose: str) -> str:
    """A new link for the user; older unused links of the same purpose stop working."""
    now = utcnow()
    session.execute(
        update(EmailToken)
        .where(EmailToken.user_id == user.id, EmailToken.purpose == purpose,
               EmailToken.used_at.is_(None))
        .values(used_at=now)
    )
    raw = secrets.token_urlsafe(32)
    session.add(EmailToken(user_id=user.id, purpose=purpose, token_sha256=_digest(raw),
                           created_at=now, expires_at=now + TOKEN_LIFETIME))
    session.flush()
    return raw


def find_token(session: Session, raw: str, purpose: str) -> EmailToken:
    """The valid (unused, unexpired) token, without using it."""
    if not raw or len(raw) > 200:
        raise TokenError()
    token = session.scalar(select(EmailToken).where(EmailToken.token_sha256 == _digest(raw),
                                                    EmailToken.purpose == purpose))
    if token is None or token.used_at is not None or token.expires_at < utcnow():
        raise TokenError()
    return token


def _consume(session: Session, token: EmailToken) -> None:
    """Mark the token used; a concurrent second use finds it already used."""
    result = session.execute(
        update(EmailToken)
        .where(EmailToken.id == token.id, EmailToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise TokenError()


# ------------------------------------------------------------------ sign-up

def sign_up(session: Session, settings: Mapping, links: Links, email: str, full_name: str,
            password: str) -> None:
    """Create an unconfirmed account and send the confirmation link.

    For an address that already has an account, that account's owner receives a note instead;
    the caller answers the same in both cases. Raises accounts.PasswordError for a weak password
    (said whatever the address).
    """
    email = accounts.normalize_email(email)
    accounts.check_password_strength(password, [email, full_name])
    existing = accounts.find_user(session, email)
    if existing is not None:
        accounts.hash_password(password)  # same work, same time as a creation
        mail.send(session, settings, existing.email, "Création de compte — Portail FJ",
                  _ALREADY.format(name=existing.full_name, forgot=links.forgot, login=links.login))
        return
    user = accounts.create_user(session, email, password, full_name.strip(), ROLE_PRESTATAIRE,
                                email_confirmed=False)
    send_confirmation(session, settings, links, user)


def send_confirmation(session: Session, settings: Mapping, links: Links, user: User) -> None:
    raw = issue_token(session, user, TOKEN_CONFIRM)
    mail.send(session, settings, user.email, "Confirmez votre adresse — Portail FJ",
              _CONFIRM.format(name=user.full_name, link=links.confirm(raw)))


def confirm_email(session: Session, raw: str) -> User:
    token = find_token(session, raw, TOKEN_CONFIRM)
    _consume(session, token)
    user = token.user
    user.email_confirmed = True
    return user


# ------------------------------------------------------------------ password reset

def request_reset(session: Session, settings: Mapping, links: Links, email: str) -> None:
    """Send a reset link if an enabled account has this address; nothing is told either way."""
    user = accounts.find_user(session, email)
    if user is None or not user.is_enabled:
        return
    raw = issue_token(session, user, TOKEN_RESET)
    mail.send(session, settings, user.email, "Réinitialisation du mot de passe — Portail FJ",
              _RESET.format(name=user.full_name, link=links.reset(raw)))


def reset_password(session: Session, raw: str, password: str) -> User:
    """Set the new password; every open session of the account ends. The link proves the
    address, so it also confirms it."""
    token = find_token(session, raw, TOKEN_RESET)
    user = token.user
    accounts.check_password_strength(password, [user.email, user.full_name])
    _consume(session, token)
    user.password_hash = accounts.hash_password(password)
    user.email_confirmed = True
    accounts.end_sessions(user)
    return user


def invite(session: Session, settings: Mapping, links: Links, user: User, context: str) -> None:
    """An account created by the administrator: its owner chooses a password through a link."""
    raw = issue_token(session, user, TOKEN_RESET)
    mail.send(session, settings, user.email, "Votre compte sur le Portail FJ",
              _INVITE.format(name=user.full_name, context=context, link=links.reset(raw)))


def unusable_password() -> str:
    """A password nobody knows, for accounts whose owner will choose one through a link."""
    return secrets.token_urlsafe(48)


_CONFIRM = """Bonjour {name},

Vous avez demandé la création d'un compte sur le Portail FJ (mémoires de frais de justice).
Pour confirmer votre adresse électronique, ouvrez ce lien (valable 24 heures, une seule fois) :

{link}

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.
"""

_ALREADY = """Bonjour {name},

Quelqu'un (peut-être vous) a demandé la création d'un compte sur le Portail FJ avec cette
adresse électronique. Un compte existe déjà pour elle : connectez-vous ({login}).

Mot de passe oublié ? Demandez un lien de réinitialisation : {forgot}

Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.
"""

_RESET = """Bonjour {name},

Pour choisir un nouveau mot de passe, ouvrez ce lien (valable 24 heures, une seule fois) :

{link}

Toutes vos sessions ouvertes seront fermées. Si vous n'êtes pas à l'origine de cette demande,
ignorez ce message : votre mot de passe actuel reste valable.
"""

_INVITE = """Bonjour {name},

Un compte a été créé pour vous sur le Portail FJ ({context}).
Pour choisir votre mot de passe, ouvrez ce lien (valable 24 heures, une seule fois) :

{link}

Passé ce délai, utilisez « Mot de passe oublié » sur la page de connexion.
"""
