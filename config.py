"""Default settings. Overridden by instance/config.py, then by the environment."""
from datetime import timedelta


class Defaults:
    # Database: SQLite file in instance/ unless DATABASE_URL says otherwise (set in create_app).
    SQLALCHEMY_DATABASE_URI = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    # Sessions and cookies (SECURE_COOKIES is switched on in production, behind HTTPS).
    SECURE_COOKIES = False
    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto/-Host are then
    # trusted: the rate limits see the client's address, and HTTPS is known behind TLS termination
    # (Flask-WTF's same-origin Referer check needs it).
    TRUSTED_PROXIES = 0
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)  # absolute lifetime of a session
    INACTIVITY_TIMEOUT = timedelta(hours=3)
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)

    # Forms: the token lives as long as the session, so a long mémoire is never lost to it.
    WTF_CSRF_TIME_LIMIT = None
    WTF_I18N_ENABLED = False

    # Request limits: uploads are checked per file by the attachment service.
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 500_000
    MAX_FORM_PARTS = 1_000

    # Rate limits (Flask-Limiter); REDIS_URL switches the storage to Redis.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "5 per minute"

    # Attachments
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENTS_PER_MEMOIRE = 40
    IMAGE_MAX_PIXELS = 40_000_000

    # Domain settings that are assumptions [unconfirmed] and therefore configuration.
    FORCLUSION_WARNING_MONTHS = 11
    FORCLUSION_MONTHS = 12
    # Mémoires in a final status move to « Archives » this many months after their last change.
    ARCHIVE_AFTER_MONTHS = 12

    # Demo mode lists the demo accounts on the login page.
    DEMO = False

    # E-mail: written to the log and the outbox unless SMTP_HOST is set.
    SMTP_HOST = None
    SMTP_PORT = 25
    SMTP_USERNAME = None
    SMTP_PASSWORD = None
    SMTP_USE_TLS = False
    MAIL_SENDER = "portail-fj@localhost"

    COMPRESS_MIMETYPES = [
        "text/html", "text/css", "application/javascript", "text/javascript",
        "application/json", "image/svg+xml", "text/csv",
    ]
    COMPRESS_ALGORITHM = ["gzip"]
    COMPRESS_MIN_SIZE = 300
    COMPRESS_STREAMS = False  # downloads (PDF, images) are streamed as they are


# Environment variables read on top of everything else: name -> converter.
ENVIRONMENT = {
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "REDIS_URL": ("REDIS_URL", str),
    "SMTP_HOST": ("SMTP_HOST", str),
    "SMTP_PORT": ("SMTP_PORT", int),
    "SMTP_USERNAME": ("SMTP_USERNAME", str),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "SMTP_USE_TLS": ("SMTP_USE_TLS", lambda v: v.lower() in {"1", "true", "yes", "oui"}),
    "MAIL_SENDER": ("MAIL_SENDER", str),
    "SECURE_COOKIES": ("SECURE_COOKIES", lambda v: v.lower() in {"1", "true", "yes", "oui"}),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "PORTAIL_DEMO": ("DEMO", lambda v: v.lower() in {"1", "true", "yes", "oui"}),
}
