"""Django settings of the clinic service (`regimens serve`, docs/service.md).

Everything a site changes comes from the environment, which `regimens serve` fills from its
options: REGIMENS_DATABASE_URL (sqlite:///path or postgresql://...), REGIMENS_SECRET_KEY,
REGIMENS_ALLOWED_HOSTS, REGIMENS_SECURE_COOKIES, REGIMENS_BEHIND_PROXY, REGIMENS_PROTOCOLS,
REGIMENS_TZ, REGIMENS_LANGUAGES, REGIMENS_LANGUAGE_REVIEWS. Nothing here writes to disk: the command
prepares the data directory.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url

HERE = Path(__file__).resolve().parent
ENV = os.environ


def _flag(name: str, default: bool) -> bool:
    value = ENV.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def data_dir() -> Path:
    """Where the embedded SQLite database and the secret key live by default."""
    if ENV.get("REGIMENS_DATA_DIR"):
        return Path(ENV["REGIMENS_DATA_DIR"])
    import platformdirs

    return Path(platformdirs.user_data_dir("regimens", appauthor=False))


# A key per process when none is given keeps tests and one-off commands working; `serve` always
# passes the persistent key from the data directory (sessions survive a restart).
SECRET_KEY = ENV.get("REGIMENS_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = [h.strip() for h in ENV.get("REGIMENS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in ENV.get("REGIMENS_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "regimens.web.clinic",
    "regimens.web.feeds",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "regimens.web.clinic.middleware.NoStoreMiddleware",
    # last: axes must see the authentication result
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "regimens.web.urls"
WSGI_APPLICATION = "regimens.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "regimens.web.clinic.roles.context",
            ],
        },
    },
]


def _database() -> dict:
    url = ENV.get("REGIMENS_DATABASE_URL")
    if not url:
        url = f"sqlite:///{data_dir() / 'regimens.sqlite3'}"
    db = dj_database_url.parse(url, conn_max_age=60 if url.startswith("postgres") else 0)
    if db["ENGINE"].endswith("sqlite3"):
        # IMMEDIATE: a writing request takes the lock when its transaction starts, so the audit
        # chain is appended one writer at a time and no request fails with "database is locked".
        db["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20,
                         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
        test_name = ENV.get("REGIMENS_TEST_SQLITE")
        if test_name:
            db["TEST"] = {"NAME": test_name}
    return db


DATABASES = {"default": _database()}


def _caches() -> dict:
    """"regimens": what the service derives from immutable revisions (web/clinic/service.py
    `derived`: realised timelines, rendered event tables), keyed by content, so never stale.
    REGIMENS_CACHE: `files` (default when `serve` gave a data folder: <data>/cache, shared by the
    worker processes on this computer), `database` (a table made by `createcachetable`, shared by
    every host on one PostgreSQL database), `memory` (this process only), `none`."""
    kind = ENV.get("REGIMENS_CACHE") or ("files" if ENV.get("REGIMENS_DATA_DIR") else "memory")
    if kind == "files":
        shared = {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                  "LOCATION": ENV.get("REGIMENS_CACHE_DIR") or str(data_dir() / "cache"),
                  "OPTIONS": {"MAX_ENTRIES": 2000}}  # about 80 kB per long timeline (zlib)
    elif kind == "database":
        shared = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "regimens_cache",
                  "OPTIONS": {"MAX_ENTRIES": 5000}}
    elif kind == "memory":
        shared = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "regimens",
                  "OPTIONS": {"MAX_ENTRIES": 200}}
    elif kind == "none":
        shared = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    else:
        raise ValueError(f"REGIMENS_CACHE={kind!r}: give files, database, memory or none")
    return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "regimens": {"TIMEOUT": None, **shared}}


CACHES = _caches()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = ENV.get("REGIMENS_TZ", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = ENV.get("REGIMENS_STATIC_ROOT") or None
# Serve straight from the app's static folder (no collectstatic step for a clinic install).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- sessions, cookies, transport ------------------------------------------------------------
# Secure cookies unless told the service is reached over plain HTTP on this computer only.
_SECURE = _flag("REGIMENS_SECURE_COOKIES", True)
SESSION_COOKIE_SECURE = _SECURE
CSRF_COOKIE_SECURE = _SECURE
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "regimens_session"
CSRF_COOKIE_NAME = "regimens_csrf"
SESSION_COOKIE_AGE = int(ENV.get("REGIMENS_SESSION_MINUTES", "30")) * 60
SESSION_SAVE_EVERY_REQUEST = True  # idle timeout: each request extends the session
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if _flag("REGIMENS_BEHIND_PROXY", False):
    # The hospital's reverse proxy terminates TLS and says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_SSL_REDIRECT = _flag("REGIMENS_SSL_REDIRECT", True)

# --- Content-Security-Policy (django-csp 4): no inline script, no inline style, nothing remote
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}

# --- django-axes: lockout after repeated failures --------------------------------------------
AXES_FAILURE_LIMIT = int(ENV.get("REGIMENS_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "clinic/locked_out.html"
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["password", "checker_password"]

# Patient data never reaches a log: only warnings and errors, without request bodies.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": "WARNING"},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "axes": {"handlers": ["console"], "level": "WARNING"},
    },
}

# Where site protocols come from (same as the CLI's --protocols / REGIMENS_PROTOCOLS).
REGIMENS_PROTOCOLS = ENV.get("REGIMENS_PROTOCOLS") or None
REGIMENS_CALENDAR_TZ = ENV.get("REGIMENS_TZ") or "UTC"
# Patient languages (docs/languages.md), as for the command line's --languages and
# --language-reviews: a folder of site catalogs (CODE.po) and the site's review file.
REGIMENS_LANGUAGES = ENV.get("REGIMENS_LANGUAGES") or None
REGIMENS_LANGUAGE_REVIEWS = ENV.get("REGIMENS_LANGUAGE_REVIEWS") or None

# --- calendar feeds and same-day change e-mails (web/feeds, docs/feeds.md) ----------------------
# The public address of /feeds/ links when it differs from the one staff use (the feeds must be
# reachable by Google's and Microsoft's servers; the staff pages need not be).
REGIMENS_FEED_BASE_URL = ENV.get("REGIMENS_FEED_BASE_URL", "")
REGIMENS_FEED_ADDRESS_LIMIT = int(ENV.get("REGIMENS_FEED_ADDRESS_LIMIT", "12"))
REGIMENS_FEED_LOG_FLUSH_SECONDS = float(ENV.get("REGIMENS_FEED_LOG_FLUSH_SECONDS", "2"))
REGIMENS_FEED_LOG_DAYS = int(ENV.get("REGIMENS_FEED_LOG_DAYS", "90"))
REGIMENS_SMTP_HOST = ENV.get("REGIMENS_SMTP_HOST", "")
REGIMENS_SMTP_PORT = int(ENV.get("REGIMENS_SMTP_PORT", "0") or 0)
REGIMENS_SMTP_SECURITY = ENV.get("REGIMENS_SMTP_SECURITY", "starttls")
REGIMENS_SMTP_USER = ENV.get("REGIMENS_SMTP_USER", "")
REGIMENS_SMTP_PASSWORD = ENV.get("REGIMENS_SMTP_PASSWORD", "")
REGIMENS_MAIL_FROM = ENV.get("REGIMENS_MAIL_FROM", "")
REGIMENS_MAIL_FROM_NAME = ENV.get("REGIMENS_MAIL_FROM_NAME", "")
