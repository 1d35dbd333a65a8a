"""The one settings module, driven by environment variables.

Without any variables set, the project runs in the embedded default: SQLite, the in-memory
channel layer and cache, the task worker inside the server process. Production sets
``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``HTTPS=true``.

The cache holds the exact counts of CRM record lists (``crm.counts``), valid until a record
changes. With ``REDIS_URL`` it is that Redis (keys under ``bizproc:``), shared by every
server and worker process, so that a write in any of them makes the counts of all stale;
without, it is the memory of the one process — hence several server processes need Redis.
"""

import datetime
import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name)
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else default


def embedded_secret_key() -> str:
    """A random key kept under var/, so sessions survive restarts without a configured key."""
    path = VAR_DIR / "secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or embedded_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
PORT = env_int("PORT", 8000)
HTTPS = env_bool("HTTPS", False)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The site's address as people reach it (https://bp.example.com): the formula function
# getdocumenturl(…, true) puts it before a document's path; empty, it gives the path alone.
SITE_URL = env_str("SITE_URL")

INSTALLED_APPS = [
    "accounts",
    "crm",
    "lists",
    "bizproc",
    "designer",
    "rest",
    "config",  # the project's own commands: manage.py serve
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "channels",
    "axes",
]

MIDDLEWARE = [
    "config.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Below the view's other middleware, as django-axes asks: it turns a refused login into the
    # lockout page.
    "axes.middleware.AxesMiddleware",
    # Innermost because it is synchronous only: Django runs each middleware that can do both
    # in the mode of the one below it, so the whole chain runs in the request's thread. With an
    # asynchronous one innermost, the chain switched to the event loop in the middle, and the
    # MiddlewareMixin middleware below that point each hopped back to a thread for their
    # process_request and process_response.
    "accounts.middleware.UserPreferencesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
                "designer.context_processors.navigation",
                "accounts.context_processors.notifications",
                "bizproc.context_processors.tasks",
            ],
        },
    },
]

# Databases: SQLite (embedded default) or whatever DATABASE_URL names (PostgreSQL in production).
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "db.sqlite3")}
    }

_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed during a write; IMMEDIATE takes the write lock at BEGIN, so two
    # writers queue on the busy timeout instead of failing with "database is locked" mid-way.
    # config.sqlite keeps the connections between requests (see there why).
    _db["ENGINE"] = "config.sqlite"
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
elif _db["ENGINE"] == "django.db.backends.postgresql":
    if env_bool("DATABASE_PREPARED", True):
        # psycopg sends the values apart from the statement and prepares each statement a
        # connection has run a few times, so PostgreSQL parses and plans the statements every
        # start and REST call sends once per connection, not each time. Off behind a pooler
        # that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
        _db.setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": env_int("DATABASE_PREPARE_AFTER", 5)}
        )
    if env_bool("DATABASE_POOL", True):
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env_int("DATABASE_POOL_SIZE", 10),
        }
    else:
        _db["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
else:
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL or SQLite database")

IS_POSTGRES = _db["ENGINE"] == "django.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Live updates (bizproc.live): Redis when configured, else in-memory (single server process).
# On Redis, channels_redis's pub/sub layer: an update is one PUBLISH, which the server processes
# with a page of its group open hear and which is gone when none has. That is all the pages
# need: they are told ids only, re-read the database, and re-read everything when their socket
# (re)opens. The core layer keeps a queue per socket in Redis: two commands per update even
# when nobody listens, plus a script per listening process (a start's two updates cost 1.2 M
# instructions more than in memory there, 0.6 M on pub/sub; README, "Benchmarks"). Pub/sub
# channels belong to the whole Redis server, not to a database: the prefix names the database,
# so that deployments (or test runs) on different databases of one server do not hear each
# other.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    from redis.connection import parse_url  # only with Redis

    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": f"asgi.{parse_url(REDIS_URL).get('db') or 0}.",
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# The cache (see the module's docstring): Redis when configured, else the process's memory.
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "bizproc",
            "OPTIONS": {"pool_class": "config.redis_pool.ProcessConnectionPool"},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# Background work goes through django.tasks; django-tasks-db stores tasks in the database.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# The embedded default runs the task worker inside the server process; production runs
# separate `manage.py db_worker` processes and sets EMBEDDED_WORKER=false.
EMBEDDED_WORKER = env_bool("EMBEDDED_WORKER", not DATABASE_URL)
# Server processes `manage.py serve` starts (the name other ASGI servers read too).
WEB_CONCURRENCY = env_int("WEB_CONCURRENCY", 1)

# The engine's limits and timings (no hidden caps: each is a setting).
BIZPROC_LOOP_LIMIT = env_int("BIZPROC_LOOP_LIMIT", 10_000)  # turns of one While loop
BIZPROC_SCENARIO_LAUNCH_LIMIT = env_int("BIZPROC_SCENARIO_LAUNCH_LIMIT", 1000)  # per step
# Seconds one step may run (0: no limit). A step holds a transaction (on SQLite, the write
# lock): keep it well under SQLite's busy timeout (20 s) and BIZPROC_LEASE_SECONDS.
BIZPROC_STEP_TIME_LIMIT_SECONDS = env_int("BIZPROC_STEP_TIME_LIMIT_SECONDS", 10)
# Bytes of a process's stored parameters, variables and execution state (0: no limit).
BIZPROC_STATE_LIMIT_BYTES = env_int("BIZPROC_STATE_LIMIT_BYTES", 1024 * 1024)
BIZPROC_LEASE_SECONDS = env_int("BIZPROC_LEASE_SECONDS", 60)  # a step's lease on its instance
# Workers that may take a smart scenario run before it ends as a fault (each died starting it).
BIZPROC_RUN_MAX_ATTEMPTS = env_int("BIZPROC_RUN_MAX_ATTEMPTS", 5)
BIZPROC_SWEEP_INTERVAL_SECONDS = env_int("BIZPROC_SWEEP_INTERVAL_SECONDS", 5)
BIZPROC_SWEEP_GRACE_SECONDS = env_int(
    "BIZPROC_SWEEP_GRACE_SECONDS", 30
)  # overdue before a re-enqueue
BIZPROC_JOURNAL_START_STOP = env_bool("BIZPROC_JOURNAL_START_STOP", True)  # start/stop journal rows
# Days the journal rows of finished processes are kept (0: forever); the worker prunes daily.
BIZPROC_JOURNAL_RETENTION_DAYS = env_int("BIZPROC_JOURNAL_RETENTION_DAYS", 0)
# Extra modules whose activities register themselves at start-up (plug-ins, test activities).
BIZPROC_ACTIVITY_MODULES = env_list("BIZPROC_ACTIVITY_MODULES", [])


def env_group_map(name: str) -> dict[str, str]:
    """``12=Employees,1=Administrators``: Bitrix group ids and the local groups they name."""
    mapping = {}
    for item in env_list(name, []):
        bitrix_id, sep, group = item.partition("=")
        if not sep or not bitrix_id.strip().isdigit() or not group.strip():
            raise ImproperlyConfigured(f"{name} items must be <Bitrix group id>=<group name>")
        mapping[bitrix_id.strip()] = group.strip()
    return mapping


# A template's ``group_<id>`` names the local group this maps the Bitrix group id to (by its
# name); an unmapped id names the local group with that id.
BIZPROC_USER_GROUPS = env_group_map("BIZPROC_USER_GROUPS")

# Written by `manage.py demo_data`, printed by `manage.py serve`.
DEMO_CREDENTIALS_FILE = VAR_DIR / "demo-credentials.json"
DEMO_WEBHOOK_FILE = VAR_DIR / "demo-webhook.txt"  # the demo admin's inbound webhook URL path

# The Bitrix24-compatible REST endpoint: a leaky bucket per user (all their webhooks share it),
# like Bitrix24's (which leaks 2 requests a second and holds 50); generous by default. Each
# command of a batch counts as a request. The bucket is kept in the cache (Redis when
# REDIS_URL is set). A rate of 0 turns it off.
REST_RATE_LIMIT_PER_SECOND = env_int("REST_RATE_LIMIT_PER_SECOND", 20)
REST_RATE_LIMIT_BURST = env_int("REST_RATE_LIMIT_BURST", 500)

# Edits each user can undo per template in the designer; older ones are forgotten.
DESIGNER_UNDO_LIMIT = env_int("DESIGNER_UNDO_LIMIT", 100)

AUTH_USER_MODEL = "accounts.User"
# Login brute force: django-axes locks a username from one IP address after
# LOGIN_FAILURE_LIMIT failed logins in a row, for LOGIN_LOCKOUT_MINUTES (a failure during the
# lockout starts it again); an administrator unlocks early in the admin (Access attempts).
# A limit of 0 turns it off. REST webhooks do not log in, so they are not concerned.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
if LOGIN_FAILURE_LIMIT < 0 or LOGIN_LOCKOUT_MINUTES < 1:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT must be 0 or more and LOGIN_LOCKOUT_MINUTES 1 or more"
    )
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before checking it
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = LOGIN_FAILURE_LIMIT > 0
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
AXES_USERNAME_CALLABLE = "accounts.views.login_attempt_username"
# The log names the username and the address (fail2ban reads it).
AXES_SENSITIVE_PARAMETERS: list[str] = []
AXES_DISABLE_ACCESS_LOG = True  # failures and lockouts are kept, not every successful login
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Production runs `collectstatic` with STATIC_MANIFEST=true and serves compressed files with
# hashed names; the embedded default serves straight from the app folders.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", False)
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
# Uploaded files (a record's file fields) are never served as static files: a view checks
# that the person may read the record that holds them.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# The largest file a field takes (Bitrix's own default upload cap is far higher; a form post
# here is read into memory first).
CRM_FILE_MAX_BYTES = env_int("CRM_FILE_MAX_BYTES", 20 * 1024 * 1024)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Behind HTTPS (production), cookies are secure and browsers are told to stay on HTTPS.
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Content-Security-Policy on every response: scripts, styles, images and connections (the
# websockets too) only from this site; no inline code and no eval — the pages' scripts are
# static files, django-htmx's script tags carry the request's nonce, and htmx is told not to
# eval (`allowEval`) nor to inject its indicator styles (see templates/base.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
