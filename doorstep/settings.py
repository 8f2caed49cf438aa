"""Doorstep settings: one file, every knob from the environment.

Each helper fails loudly on a value it cannot read, so a typo in a deployment is an error at
start-up rather than a silent default. SQLite under ``DOORSTEP_HOME`` is the embedded default;
``DATABASE_URL`` switches to PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
HOME = Path(env_str("DOORSTEP_HOME", str(BASE_DIR.parent / "var"))).resolve()

DEBUG = env_bool("DOORSTEP_DEBUG", False)

# The key is read from the environment or from a file `doorstep demo` writes under HOME; the
# built-in one only works with DEBUG on, so a production server never signs sessions with it.
INSECURE_KEY = "doorstep-insecure-development-key-do-not-use-in-production"
_key_file = HOME / "secret_key"
SECRET_KEY = os.environ.get("DOORSTEP_SECRET_KEY") or (
    _key_file.read_text().strip() if _key_file.exists() else INSECURE_KEY
)
if SECRET_KEY == INSECURE_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "DOORSTEP_SECRET_KEY is not set. Set it to a random string of 50 characters or more, "
        'for example: python3 -c "import secrets; print(secrets.token_urlsafe(50))". '
        f"(`doorstep demo` writes one to {_key_file} for a demo machine.)"
    )
if len(SECRET_KEY) < 50 and not DEBUG:
    raise ImproperlyConfigured(
        f"DOORSTEP_SECRET_KEY has {len(SECRET_KEY)} characters; use 50 or more, for example: "
        'python3 -c "import secrets; print(secrets.token_urlsafe(50))"'
    )

ALLOWED_HOSTS = env_list("DOORSTEP_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DOORSTEP_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The layers, lowest first (docs/architecture.md): an app imports only the apps above it
    # in this list, and test_layers holds every module to that.
    "doorstep.core",
    "doorstep.territory",
    "doorstep.campaigns",
    "doorstep.sampling",
    "doorstep.workforce",
    "doorstep.canvass",
    "doorstep.notices",
    "doorstep.lab",
    "doorstep.assistance",
    "doorstep.command",
    "doorstep.district",
    "doorstep.closing",
    "doorstep.api",
    "doorstep.demo",
    "doorstep.simulate",
    "doorstep.ha",
    "doorstep.smsgw",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    # Its API docs page is then served from the vendored Swagger UI, not from a CDN.
    "ninja",
]

MIDDLEWARE = [
    # First: the edge's health check (before the host is checked), the client's address behind
    # the edge before anything reads it, and what this node is for.
    "doorstep.core.middleware.Edge",
    "doorstep.core.middleware.BodyLimit",
    # A device's request leaves here for API_MIDDLEWARE below.
    "doorstep.core.middleware.DeviceApi",
    # Pages compressed for phones on a weak signal (a tower's building page: 714 KB -> 24 KB,
    # bench/tower.py). Django pads each response against BREACH, and the CSRF token is
    # masked per response; device requests left above and are not compressed.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "doorstep.core.middleware.TextOnly",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # The phones' offline copies of an erased town: the towns erased, named to the phone.
    "doorstep.closing.middleware.ErasedTowns",
    "doorstep.core.middleware.NoStore",
    # Last, as django-axes asks: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
]

# What a device's request to the API runs through (core.middleware.DeviceApi): headers, the
# language of its answers, no NUL in a query, no-store.
API_PREFIX = "/api/"
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "doorstep.core.middleware.TextOnly",
    "doorstep.core.middleware.NoStore",
]

ROOT_URLCONF = "doorstep.urls"
WSGI_APPLICATION = "doorstep.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "doorstep.context.doorstep",
            ],
        },
    },
]


def _private_file(path: Path) -> None:
    """The embedded database holds a town's names and ID numbers: its folder is the owner's
    alone (0700 when created here) and the file is created 0600 (SQLite gives its journal files
    the same mode). A file found readable by others is made private."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        path.parent.chmod(0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)


# How old a device request's cached look-ups may be (core.ttl): its token, its user's lanes on
# duty, lanes by code, the round running in a community. 0 turns the caches off.
CACHE_SECONDS = env_int("DOORSTEP_CACHE_SECONDS", 5)

# Text messages to residents (doorstep.notices): Kannel's sendsms URL with its username and
# password (http://host:13013/cgi-bin/sendsms?username=...&password=...); empty: messages wait
# in the outbox and notices become door visits when their time is up. The callback URL is
# where the gateway reaches Doorstep with delivery reports; the public URL goes in messages as
# the link to the person's own page (nothing is added when it is empty).
SMS_URL = env_str("DOORSTEP_SMS_URL", "")
PUBLIC_URL = env_str("DOORSTEP_PUBLIC_URL", "")
SMS_CALLBACK_URL = env_str("DOORSTEP_SMS_CALLBACK_URL", PUBLIC_URL or "http://127.0.0.1:8000")
# `doorstep serve` runs the sender in a thread of each server process (claims keep them from
# sending a message twice); 0 leaves it to `doorstep send-messages`.
SMS_SENDER_THREAD = env_bool("DOORSTEP_SMS_SENDER_THREAD", True)

# The counters' fold (sampling.tally) after a scan: in a background thread of each server
# process (the default of `doorstep serve`), or right away in the request (commands, tests).
FOLD_INLINE = env_bool("DOORSTEP_FOLD_INLINE", True)
# How long the folding thread gathers moves before it folds them: the counters' delay at most.
FOLD_DELAY = env_int("DOORSTEP_FOLD_DELAY_MS", 200) / 1000
# Device requests that reach a server process at the same moment are committed together, each
# answered after that commit (sampling.ingest.combine).
GROUP_COMMIT = env_bool("DOORSTEP_GROUP_COMMIT", True)

# Connections go through PgBouncer in transaction pooling (docs/operators-guide.md, the city
# layout): a server connection is lent for one transaction only, so nothing may outlive one on
# it: no prepared statements (PgBouncer 1.18 cannot keep them), no server-side cursors (an
# iterator's cursor would be read on another connection), no session settings at connect.
PGBOUNCER = env_bool("DOORSTEP_PGBOUNCER", False)
# PostgreSQL keeps the ingest's statements prepared per connection; a pooler in transaction
# mode (PgBouncer before 1.21) cannot, so it is switched off there.
PG_PREPARE = env_bool("DOORSTEP_PG_PREPARE", not PGBOUNCER)
if PGBOUNCER and PG_PREPARE:
    raise ImproperlyConfigured(
        "DOORSTEP_PG_PREPARE=1 with DOORSTEP_PGBOUNCER=1: PgBouncer in transaction pooling "
        "cannot keep prepared statements. Leave DOORSTEP_PG_PREPARE unset."
    )
# The addresses of the proxies in front of the servers (HAProxy on the app machines, comma
# separated): a request from one of them is taken to come from the address it appended last to
# X-Forwarded-For (core.middleware.ClientAddress), so that the residents' look-up limits and the
# sign-in throttle count each resident's address, not the proxy's.
TRUSTED_PROXIES = env_str("DOORSTEP_TRUSTED_PROXIES", "")
# How long a server process keeps the public site status it read (command.views.status).
PUBLIC_STATUS_SECONDS = env_int("DOORSTEP_PUBLIC_STATUS_SECONDS", 5)
# What this server process is for behind the edge (the city layout): "lanes" (devices and
# staff) refuses the residents' pages, "residents" serves only those, "" serves everything.
NODE_ROLE = env_str("DOORSTEP_NODE_ROLE", "")
if NODE_ROLE not in {"", "lanes", "residents"}:
    raise ImproperlyConfigured(
        f"DOORSTEP_NODE_ROLE={NODE_ROLE!r}: use lanes, residents, or leave it unset"
    )


def _postgres(url: str, name: str) -> dict[str, object]:
    """A postgres:// URL as Django's database settings. The URL may list several hosts
    (``postgres://u@db1:5432,db2:5432,db3:5432/doorstep?target_session_attrs=read-write``):
    libpq tries them in turn and keeps the one that takes writes, so Doorstep follows the
    primary of a highly available cluster with no address of it written anywhere."""
    if not url.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// URL, got {url.split(':', 1)[0]}://"
        )
    scheme, rest = url.split("://", 1)
    user, at, tail = rest.rpartition("@")
    hosts, slash, path = tail.partition("/")
    listed = [h for h in hosts.split(",") if h]
    if len(listed) > 1:
        # dj_database_url reads one host: give it the first, then put the whole list back.
        url = f"{scheme}://{user}{at}{listed[0]}{slash}{path}"
    try:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=600))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} cannot be read ({exc}); check its spelling") from None
    if len(listed) > 1:
        pairs = [h.rpartition(":") if ":" in h else (h, "", "") for h in listed]
        config["HOST"] = ",".join(host for host, _c, _port in pairs)
        config["PORT"] = ",".join(port or "5432" for _h, _c, port in pairs)
    options = dict(config.get("OPTIONS") or {})  # type: ignore[call-overload]
    # A database machine that dies takes its connections with it without a word: TCP notices
    # within a few seconds instead of the kernel's two hours, and a request stuck on it fails
    # (503, the device sends again) instead of hanging.
    options.setdefault("connect_timeout", env_int("DOORSTEP_DB_CONNECT_TIMEOUT", 3))
    options.setdefault("keepalives_idle", 5)
    options.setdefault("keepalives_interval", 2)
    options.setdefault("keepalives_count", 3)
    options.setdefault("tcp_user_timeout", env_int("DOORSTEP_DB_TCP_TIMEOUT_MS", 10_000))
    config["OPTIONS"] = options
    config["CONN_HEALTH_CHECKS"] = True
    config["DISABLE_SERVER_SIDE_CURSORS"] = PGBOUNCER
    return config


def _database() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        config = _postgres(url, "DATABASE_URL")
        if PG_PREPARE:
            # The ingest's fixed statements (core.sql) are prepared on the connection, asked for
            # explicitly; Django's own cursors bind client-side and never prepare.
            options = dict(config.get("OPTIONS") or {})  # type: ignore[call-overload]
            options["prepare_threshold"] = 1_000_000_000
            # Planned once per connection: the batch's read joins a dozen subqueries and took
            # 10 ms to plan (2.6 ms to run) when planned again for every scan. It applies to
            # prepared statements only, and only ours are prepared.
            options["options"] = (
                str(options.get("options", "")) + " -c plan_cache_mode=force_generic_plan"
            ).strip()
            config["OPTIONS"] = options
        return config
    name = HOME / env_str("DOORSTEP_SQLITE_NAME", "doorstep.sqlite3")
    _private_file(name)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        # Closing the last connection to a WAL database checkpoints it: keep them open.
        "CONN_MAX_AGE": None,
        # Tests use a file too (not SQLite's in-memory database), so that they run with the
        # same WAL journal and locking as production, threads included.
        "TEST": {"NAME": HOME / "test-doorstep.sqlite3"},
        "OPTIONS": {
            # IMMEDIATE takes the write lock when a transaction starts, so two writers queue
            # on the busy timeout instead of one failing with "database is locked" mid-way.
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("DOORSTEP_SQLITE_TIMEOUT", 20),
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA cache_size=-64000;"
            ),
        },
    }


DATABASES = {"default": _database()}

# A standby to read from (core.standby): the command screen's panels and the public site
# status read there while it is at most DOORSTEP_STANDBY_MAX_LAG seconds behind the primary,
# and from the primary otherwise. Writes always go to the primary.
STANDBY_MAX_LAG = env_int("DOORSTEP_STANDBY_MAX_LAG", 2)
if os.environ.get("DATABASE_STANDBY_URL"):
    if "postgresql" not in str(DATABASES["default"]["ENGINE"]):
        raise ImproperlyConfigured("DATABASE_STANDBY_URL needs DATABASE_URL (PostgreSQL) too")
    DATABASES["standby"] = _postgres(os.environ["DATABASE_STANDBY_URL"], "DATABASE_STANDBY_URL")
    DATABASES["standby"]["OPTIONS"]["application_name"] = "doorstep-standby"  # type: ignore[index]
    # Tests: the standby alias reads the test database itself.
    DATABASES["standby"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["doorstep.core.standby.StandbyRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Sign-in throttling (django-axes, core/signin.py), on the site's and the admin's sign-in: after
# DOORSTEP_SIGN_IN_FAILURES wrong passwords for one username from one address, that pair is
# locked for DOORSTEP_SIGN_IN_LOCK_MINUTES; after DOORSTEP_SIGN_IN_ADDRESS_FAILURES from one
# address for any usernames, the address is. A username alone is not locked, so that nobody can
# lock a colleague out from elsewhere; a right password clears its pair's count only.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "doorstep.core.signin.SignInHandler"
AXES_FAILURE_LIMIT = env_int("DOORSTEP_SIGN_IN_FAILURES", 5)
SIGN_IN_ADDRESS_FAILURES = env_int("DOORSTEP_SIGN_IN_ADDRESS_FAILURES", 20)
if min(AXES_FAILURE_LIMIT, SIGN_IN_ADDRESS_FAILURES) < 1:
    raise ImproperlyConfigured(
        "DOORSTEP_SIGN_IN_FAILURES and DOORSTEP_SIGN_IN_ADDRESS_FAILURES: at least 1 each"
    )
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("DOORSTEP_SIGN_IN_LOCK_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False
# The admin's address; move it off the well-known /admin/ in production if you wish.
ADMIN_PATH = env_str("DOORSTEP_ADMIN_PATH", "admin/").strip("/") + "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("DOORSTEP_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_AGE = env_int("DOORSTEP_SESSION_HOURS", 16) * 3600
# Behind HTTPS (docs/operators-guide.md): secure cookies, HSTS, HTTP sent to HTTPS, and the
# proxy's X-Forwarded-Proto believed. `doorstep check --deploy` is clean with all four set.
SESSION_COOKIE_SECURE = env_bool("DOORSTEP_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("DOORSTEP_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DOORSTEP_HSTS_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DOORSTEP_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("DOORSTEP_SSL_REDIRECT", False)
if env_bool("DOORSTEP_BEHIND_HTTPS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Content Security Policy: every script and style from this server (field networks are
# closed, and nothing here needs a CDN), no framing, forms and fetches to this server only.
# Styles allow inline attributes (a few templates size a card in place); scripts do not.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": [],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# What a request may carry, checked before its body is read: a signed-in upload at most
# DOORSTEP_UPLOAD_MAX_MB (a 200,000-row roster as XLSX is about 10 MB), anything else at most
# 10 MB (an event batch is well under 1 MB), anonymous forms at most 64 KB.
UPLOAD_MAX_BYTES = env_int("DOORSTEP_UPLOAD_MAX_MB", 50) * 1024 * 1024
ANONYMOUS_MAX_BYTES = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
ROSTER_UPLOAD_MAX_BYTES = UPLOAD_MAX_BYTES

# What one import reads from a spreadsheet (core/tables/): rows under the header, columns,
# characters in one cell; for an XLSX the bytes it and its first sheet may unpack to, its shared
# strings, each other part read (styles, the list of sheets), the files in the archive, and how
# far a part may unpack per byte packed (Excel's own files stay near 10).
TABLE_MAX_ROWS = env_int("DOORSTEP_TABLE_MAX_ROWS", 200_000)
TABLE_MAX_COLUMNS = env_int("DOORSTEP_TABLE_MAX_COLUMNS", 50)
TABLE_MAX_CELL = env_int("DOORSTEP_TABLE_MAX_CELL", 2_000)
TABLE_MAX_UNZIPPED = env_int("DOORSTEP_TABLE_MAX_UNZIPPED_MB", 400) * 1024 * 1024
TABLE_MAX_STRINGS = env_int("DOORSTEP_TABLE_MAX_STRINGS_MB", 64) * 1024 * 1024
TABLE_MAX_PART = env_int("DOORSTEP_TABLE_MAX_PART_MB", 10) * 1024 * 1024
TABLE_MAX_ENTRIES = env_int("DOORSTEP_TABLE_MAX_ENTRIES", 1_000)
TABLE_MAX_RATIO = env_int("DOORSTEP_TABLE_MAX_RATIO", 100)
# The text an import keeps of a file, as strings in memory: about 42 MB for 200,000 rows.
TABLE_MAX_TEXT = env_int("DOORSTEP_TABLE_MAX_TEXT_MB", 96) * 1024 * 1024
# XML elements an XLSX import parses in all, which is what the parse costs (about 1 µs each):
# a 200,000-row roster of 10 columns has about 6 million.
TABLE_MAX_ELEMENTS = env_int("DOORSTEP_TABLE_MAX_ELEMENTS", 12_000_000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DOORSTEP_LOG_LEVEL", "WARNING")},
}

# Closing the books (doorstep.closing): how long a closed town's personal data is kept before
# `doorstep erase` removes it (moved per town with a reason), and the backups that may still
# hold it: pgBackRest's stanza and configuration, and its full-backup retention in days.
RETENTION_DAYS = env_int("DOORSTEP_RETENTION_DAYS", 30)
# Public keys (hex) of erase certificates signed by a server since replaced: still trusted.
ERASE_TRUSTED_KEYS = env_list("DOORSTEP_ERASE_TRUSTED_KEYS", [])
DOORSTEP_PGBACKREST_STANZA = env_str("DOORSTEP_PGBACKREST_STANZA", "")
DOORSTEP_PGBACKREST_CONFIG = env_str("DOORSTEP_PGBACKREST_CONFIG", "")
DOORSTEP_BACKUP_RETENTION_DAYS = env_int("DOORSTEP_BACKUP_RETENTION_DAYS", 0)
