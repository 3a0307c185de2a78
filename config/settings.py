"""ThreatLab settings, driven by the environment.

The defaults make a first run work with nothing set (DEBUG on, an SQLite file under db/). With DEBUG off the
settings refuse to start without a real SECRET_KEY and ALLOWED_HOSTS, so production cannot run on dev secrets.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEV_SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production"

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])

if not DEBUG:
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 40:
        raise ImproperlyConfigured("Set SECRET_KEY to a random value of 40+ characters when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated host names) when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Django's own widget templates, for the form renderer below.
    "django.forms",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    "threats",
    "experiment",
    "analysis",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Widgets render through TEMPLATES, so the project's widget templates (templates/widgets/) are found.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# No "loaders" option: Django then wraps the filesystem and app loaders in its cached loader, which compiles each
# template once per process.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # LANGUAGE_CODE, which every cached block of content is keyed by.
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_SQLITE_DEFAULT = f"sqlite:///{BASE_DIR / 'db' / 'threatlab.sqlite3'}"
# Persistent connections, checked before reuse: after a database restart the first request reconnects instead of
# failing on a dead connection (bench/faults.py: PostgreSQL restarted during a lab).
DATABASES = {
    "default": dj_database_url.parse(env_str("DATABASE_URL", _SQLITE_DEFAULT), conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A lab of forty writes at once: IMMEDIATE takes the write lock at BEGIN (no upgrade deadlocks), the timeout
    # makes writers queue instead of failing with "database is locked", WAL lets readers run beside the writer.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The student chooses (set_language cookie) or the browser says (Accept-Language); names in their own language.
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# A student who chose a language keeps it when resuming the next day, like the session itself.
LANGUAGE_COOKIE_AGE = 7 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# A participant's browser remembers which participant it is for a lab session; a lab runs a few hours, but a
# student may resume the next day, so keep it for a week.
SESSION_COOKIE_AGE = 7 * 24 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Everything is served from this origin (Bootstrap is vendored); no inline script or style anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: carries the analysis plots (server-rendered SVG), which inline would need inline styles.
        "img-src": [SELF, "data:"],
        "media-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Admin logins: five failures from one client address lock that address out for 15 minutes, whatever usernames it
# tries; staff elsewhere still log in. The address is config.client's: behind the proxy, the client's.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "config.client.client_address"
# The access log (axes_accesslog: address and browser of every staff login) is kept 30 days: compose's `cleanup`
# service runs django-axes' `manage.py axes_reset_logs --age 30` daily (README, Deploy).

# The proxies in front of the app (FORWARDED_ALLOW_IPS, the variable gunicorn reads for the same purpose) and how
# many of them append to X-Forwarded-For: only a request from one of them has its client read from that header.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXIES = env_networks("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Limits per client address, counted in the default cache (shared by every worker and replica when REDIS_URL is
# set), over a window of 10 minutes that starts at the first count. Right codes are never counted nor refused.
# Wrong join codes and wrong participant codes: a class's typos stay far below 200.
JOIN_GUESS_WINDOW_SECONDS = 600
JOIN_GUESS_LIMIT_PER_ADDRESS = env_int("JOIN_GUESS_LIMIT_PER_ADDRESS", 200, minimum=1)
RESUME_GUESS_LIMIT_PER_ADDRESS = env_int("RESUME_GUESS_LIMIT_PER_ADDRESS", 200, minimum=1)
# New participants (consents, and declines) in one session: a class of 60 behind one NAT address joins freely, a
# flood stops at 200. A session may set its own (LabSession.new_participants_per_address). Signed rehearsal bots
# do not count.
NEW_PARTICIPANTS_WINDOW_SECONDS = 600
NEW_PARTICIPANTS_PER_ADDRESS = env_int("NEW_PARTICIPANTS_PER_ADDRESS", 200, minimum=1)

# Messages ride in a cookie: kept in the session, every page showing them would read the session's row.
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"

# Definition files above this are refused: an admin upload with 413 before its body is read, load_experiment with
# an error. nginx's client_max_body_size (deploy/nginx.conf) is the same 5 MiB. The shipped ones are under 80 KB.
THREATLAB_DEFINITION_MAX_BYTES = 5 * 1024 * 1024

# The default cache holds the limits' counters (experiment/throttle.py). With REDIS_URL they are shared by every
# worker and replica; without it (`make run`, one process) each process counts for itself. Short timeouts: with
# Redis away a request waits at most about half a second before the limits let it through.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    _LIMITS_CACHE = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "threatlab",
        "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
    }
else:
    _LIMITS_CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "threatlab"}

CACHES = {
    "default": _LIMITS_CACHE,
    # Rendered blocks of experiment content ({% cache ... using="content" %}), per worker. Their keys carry the
    # experiment's content key (experiment/content.py), so an edit needs no delete: old entries are never read
    # again and the least recently used go first.
    "content": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "threatlab-content",
        "TIMEOUT": None,
        "OPTIONS": {"MAX_ENTRIES": 5000},
    },
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# Participant codes are the credential to resume, so no log line carries one (config/log_masking.py). The filter
# sits on the one handler, which every logger reaches: Django's own console handler is taken off its logger.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_codes": {"()": "config.log_masking.MaskParticipantCodes"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_codes"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    "loggers": {"django": {"handlers": []}},
}
