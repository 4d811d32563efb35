"""Settings, read from the environment.

``FINCRM_DATABASE_URL`` (default: SQLite file ``var/fincrm.sqlite3`` in the checkout),
``FINCRM_REPLICA_URL`` (optional: a read replica for the dashboards),
``FINCRM_SECRET_KEY`` (required unless ``FINCRM_DEBUG`` is on), ``FINCRM_DEBUG``,
``FINCRM_ALLOWED_HOSTS`` (comma separated); HTTPS: ``FINCRM_HSTS_SECONDS``,
``FINCRM_HSTS_SUBDOMAINS``, ``FINCRM_HSTS_PRELOAD``, ``FINCRM_SSL_REDIRECT``,
``FINCRM_SSL_REDIRECT_EXEMPT``, ``FINCRM_PROXY_SSL_HEADER`` (safe defaults when DEBUG is off).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("FINCRM_HOME", PACKAGE_DIR.parent.parent)).resolve()
VAR_DIR = BASE_DIR / "var"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean; anything but a recognised word is an error, not a silent False."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of {sorted(_TRUE | _FALSE)}, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def proxy_ssl_header(raw: str) -> tuple[str, str] | None:
    """``"X-Forwarded-Proto: https"`` -> ``("HTTP_X_FORWARDED_PROTO", "https")``."""
    if not raw.strip():
        return None
    name, sep, value = raw.partition(":")
    if not sep or not name.strip() or not value.strip():
        raise ImproperlyConfigured(
            f"FINCRM_PROXY_SSL_HEADER must read 'Header-Name: value', not {raw!r}"
        )
    return "HTTP_" + name.strip().upper().replace("-", "_"), value.strip()


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("FINCRM_DEBUG", False)
SECRET_KEY = os.environ.get("FINCRM_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or os.environ.get("FINCRM_INSECURE_DEV_KEY") == "1":
        SECRET_KEY = "fincrm-insecure-development-key-never-use-in-production"
    else:
        raise ImproperlyConfigured(
            "FINCRM_SECRET_KEY is not set. Set it, or set FINCRM_DEBUG=1 for local development."
        )

ALLOWED_HOSTS = env_list("FINCRM_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_htmx",
    "rules.apps.AutodiscoverRulesConfig",
    "simple_history",
    "fincrm.core",
    "fincrm.accounts",
    "fincrm.customers",
    "fincrm.financing",
    "fincrm.engagement",
    "fincrm.messaging",
    "fincrm.evaluation",
    "fincrm.risk",
    "fincrm.demo",
    "fincrm.bench",
    "fincrm.api",
    "fincrm.webhooks",
    "fincrm.portal",
    "fincrm.service",
    "fincrm.surveys",
    "fincrm.campaigns",
    "fincrm.events",
    "fincrm.loyalty",
    "fincrm.insights",
    "fincrm.reports",
    "fincrm.checks",
    "fincrm.staff",
    "fincrm.postloan",
    "fincrm.knowledge",
    "fincrm.web",
    "ninja",  # the API docs use its local Swagger files (the CSP allows no CDN)
    "axes",
    "django_tasks",
    "django_tasks_db",
]

# Background work (evaluation runs, event-driven re-scoring) goes through the Django tasks API;
# the database backend needs no extra server: `fincrm db_worker` executes what is queued.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def tasks_queue(url: str) -> tuple[dict, dict, list[str]]:
    """(TASKS, RQ_QUEUES, extra apps) for ``FINCRM_TASKS_URL``: empty is the database queue
    above; ``redis://host:port/db`` (or ``rediss://``) is RQ on that Redis (django-tasks-rq),
    whose workers are ``fincrm rqworker --job-class django_tasks_rq.Job default``."""
    if not url.strip():
        return TASKS, {}, []
    if not url.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(
            f"FINCRM_TASKS_URL must be empty (the database queue) or a redis:// URL, not {url!r}"
        )
    # A job may run as long as a run may before it counts as abandoned (STALE_RUN_AFTER).
    queues = {"default": {"URL": url, "DEFAULT_TIMEOUT": 3 * 3600}}
    return (
        {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        queues,
        ["django_rq", "django_tasks_rq"],
    )


TASKS, RQ_QUEUES, _queue_apps = tasks_queue(os.environ.get("FINCRM_TASKS_URL", ""))
INSTALLED_APPS += _queue_apps
#: Seconds a part of a partitioned evaluation waits before it commits: tests only (a worker
#: killed in the middle of its part, ``test_partitioned_rq``); 0 in production.
EVALUATION_PART_PAUSE = float(os.environ.get("FINCRM_EVALUATION_PART_PAUSE") or 0)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "fincrm.core.middleware.HtmxLoginRedirectMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "fincrm.core.middleware.SecurityHeadersMiddleware",
    "fincrm.portal.middleware.PortalBoundaryMiddleware",
    "axes.middleware.AxesMiddleware",
    "fincrm.core.middleware.OverflowIsBadRequestMiddleware",
]

ROOT_URLCONF = "fincrm.urls"
WSGI_APPLICATION = "fincrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "fincrm.web.context_processors.navigation",
            ],
        },
    },
]

DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'fincrm.sqlite3'}"


def database(url: str) -> dict:
    """One ``DATABASES`` entry from a URL, with the SQLite tuning when it names a file."""
    db = dj_database_url.parse(url, conn_max_age=0)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        if db["NAME"] != ":memory:":
            Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        db["OPTIONS"] = {
            # WAL lets readers go on while the importer or the evaluation writes; a 64 MiB page
            # cache, memory-mapped reads and in-memory temp tables keep bulk reads off the disk.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; "
                "PRAGMA mmap_size=268435456; PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return db


DATABASE_URL = os.environ.get("FINCRM_DATABASE_URL") or DEFAULT_SQLITE  # empty = default
#: A streaming replica of the primary that dashboards read from (``docs/scaling.md``).
REPLICA_URL = os.environ.get("FINCRM_REPLICA_URL", "")
DATABASES = {
    "default": database(DATABASE_URL),
    # Always defined so that tests exercise the routing: the replica when there is one, else a
    # second name for the primary. Tests never create it: it mirrors the test database.
    "reporting": {**database(REPLICA_URL or DATABASE_URL), "TEST": {"MIRROR": "default"}},
}
#: The alias dashboards read from (``fincrm.core.db.reporting``): without a replica, the
#: primary's own connection, so no second connection is opened for nothing.
FINCRM_REPORTING_DATABASE = "reporting" if REPLICA_URL else "default"
DATABASE_ROUTERS = ["fincrm.core.db.PrimaryReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Login throttling: after AXES_FAILURE_LIMIT failed logins for a user name from an
    # address, that pair is locked out for AXES_COOLOFF_TIME hours.
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
#: ISO dates first, whatever the language: what <input type="date"> accepts.
FORMAT_MODULE_PATH = ["fincrm.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
IMPORT_MAX_UPLOAD_BYTES = 200 * 1024 * 1024

#: Where clients reach this site: survey links in e-mails are built on it.
FINCRM_BASE_URL = os.environ.get("FINCRM_BASE_URL", "http://127.0.0.1:8000")
#: Hosts a campaign's tracked link may lead to besides this site's (comma separated); any
#: other target is refused on the form and, should the list change, on the click.
FINCRM_LINK_HOSTS = env_list("FINCRM_LINK_HOSTS", [])

#: Message gateways (``fincrm.messaging.gateways``; empty: none, and Django's e-mail backend):
#: ``smtp://user:pass@host:587?tls=1``; ``aliyun://``, ``tencent://`` or ``http(s)://`` for SMS;
#: ``wecom://`` or ``wxmp://`` for WeChat.
FINCRM_EMAIL_URL = os.environ.get("FINCRM_EMAIL_URL", "")
FINCRM_SMS_URL = os.environ.get("FINCRM_SMS_URL", "")
FINCRM_WECHAT_URL = os.environ.get("FINCRM_WECHAT_URL", "")

#: Full runs whose snapshots and assessments stay in the live tables; older ones are moved
#: to the archive tables after each nightly run (``fincrm evaluate --archive``).
FINCRM_HISTORY_FULL_RUNS = env_int("FINCRM_HISTORY_FULL_RUNS", 3, minimum=1)

AXES_FAILURE_LIMIT = env_int("FINCRM_LOGIN_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = 1  # hour
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SECURE = env_bool("FINCRM_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
# HTTPS in production (on unless FINCRM_DEBUG): browsers are told to use HTTPS only for
# FINCRM_HSTS_SECONDS (0 switches HSTS off; subdomains and preload only when asked), plain
# HTTP is redirected to HTTPS, and behind a TLS-terminating proxy the scheme is taken from
# the header the proxy sets (FINCRM_PROXY_SSL_HEADER, e.g. "X-Forwarded-Proto: https"; empty:
# no proxy is trusted — set it only when the proxy overwrites that header on every request).
SECURE_HSTS_SECONDS = env_int("FINCRM_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("FINCRM_HSTS_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("FINCRM_HSTS_PRELOAD", False)
SECURE_SSL_REDIRECT = env_bool("FINCRM_SSL_REDIRECT", not DEBUG)
#: Paths served over plain HTTP even with the redirect on (a load balancer's health check).
SECURE_REDIRECT_EXEMPT = env_list("FINCRM_SSL_REDIRECT_EXEMPT", [])
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(os.environ.get("FINCRM_PROXY_SSL_HEADER", ""))
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("FINCRM_LOG_LEVEL", "WARNING")},
}
