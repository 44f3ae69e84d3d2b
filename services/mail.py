"""Sending e-mails: through SMTP when SMTP_HOST is configured, otherwise into the outbox.

Without SMTP (development, demo, tests) a message is written to the log (one line saying that
it is waiting in the outbox; the body, which may carry a link, only at DEBUG level) and to the
outbox table that the administrator reads in « Administration ». When the SMTP server fails,
the message is kept in the outbox too, so a sign-up never fails because mail is down.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy.orm import Session

from models import OutboxMessage

log = logging.getLogger("portail.mail")

SMTP_TIMEOUT = 15


def send(session: Session, settings: Mapping, to: str, subject: str, body: str) -> str:
    """Send one plain-text e-mail. Returns "smtp" or "outbox" (where it went)."""
    if settings.get("SMTP_HOST"):
        try:
            _send_smtp(settings, to, subject, body)
            log.info("event=mail.sent to=%s subject=%s", _escape(to), _escape(subject))
            return "smtp"
        except (smtplib.SMTPException, OSError) as exc:
            log.error("event=mail.smtp_failed to=%s error=%s", _escape(to), type(exc).__name__)
    message = OutboxMessage(recipient=to, subject=subject, body=body)
    session.add(message)
    session.flush()
    log.info("event=mail.outbox id=%s to=%s subject=%s", message.id, _escape(to),
             _escape(subject))
    log.debug("mail.outbox body id=%s\n%s", message.id, body)
    return "outbox"


def _send_smtp(settings: Mapping, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.get("MAIL_SENDER") or "portail-fj@localhost"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="portail-fj")
    message.set_content(body)
    with smtplib.SMTP(settings["SMTP_HOST"], int(settings.get("SMTP_PORT") or 25),
                      timeout=SMTP_TIMEOUT) as smtp:
        if settings.get("SMTP_USE_TLS"):
            smtp.starttls()
        if settings.get("SMTP_USERNAME"):
            smtp.login(settings["SMTP_USERNAME"], settings.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)


def _escape(value: str) -> str:
    return (value or "").encode("unicode_escape").decode("ascii")
