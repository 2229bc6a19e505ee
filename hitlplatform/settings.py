"""Settings, read from the environment (see README "Configuration")."""

import os
from datetime import timedelta
from pathlib import Path
from tempfile import gettempdir

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from hitlplatform.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Everything a running instance writes beside the code (broker folders, media, beat schedule):
# ignored by git, so that `make run` leaves the tree clean.
VAR_DIR = BASE_DIR / env.str("VAR_DIR", default="var")

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "apps.accounts.admin_site.AuditedAdminConfig",  # django.contrib.admin, auditing every change
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "axes",
    "django_htmx",
    "apps.audit",
    "apps.accounts",
    "apps.agents",
    "apps.policies",
    "apps.proposals",
    "apps.review",
    "apps.escalations",
    "apps.sampling",
    "apps.notifications",
    "apps.reports",
    "apps.insights",
]

MIDDLEWARE = [
    "hitlplatform.ops.middleware.RequestMetricsMiddleware",
    "hitlplatform.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hitlplatform.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "apps.review.middleware.IdleTimeoutMiddleware",
    "apps.review.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hitlplatform.urls"
WSGI_APPLICATION = "hitlplatform.wsgi.application"
ASGI_APPLICATION = "hitlplatform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN,
    # which is what serializes audit-chain appends on SQLite (DESIGN.md, Audit trail).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The test database is a file (one per test process), so that a real Celery worker started by
    # the tests (tests/celery/) sees the same data; an in-memory database is private to its process.
    DATABASES["default"]["TEST"] = {
        "NAME": env.str("HITL_TEST_SQLITE_NAME", default=str(Path(gettempdir()) / f"hitl-test-{os.getpid()}.sqlite3"))
    }
elif env.bool("DB_POOL", default=True):
    # A bounded pool per process (psycopg_pool): DB_POOL_MAX_SIZE x processes is the most connections
    # the deployment opens, by design (README, "Database connections"). A request that waits longer
    # than DB_POOL_TIMEOUT for a connection is answered 503 with Retry-After.
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django must not
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=8),
        "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
        "max_idle": env.float("DB_POOL_MAX_IDLE", default=600.0),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/review/"
LOGOUT_REDIRECT_URL = "login"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous object permissions
GUARDIAN_RAISE_403 = False

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
# One user's failures lock that user from that address only: a shared proxy address or a typo-prone
# colleague does not lock everyone out (the client address: hitlplatform/clientip.py).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "hitlplatform.clientip.client_ip"
# The header a trusted TLS proxy sets with the client's address (e.g. X-Forwarded-For, X-Real-IP); empty: REMOTE_ADDR.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
CLIENT_IP_PROXY_COUNT = env.int("CLIENT_IP_PROXY_COUNT", default=1)
# Addresses or networks of those proxies; the header from anyone else is ignored (empty: any peer).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Electronic signatures (apps/accounts/signatures.py): this many wrong passwords lock the user's
# signing for the cool-off; failures older than the cool-off are forgotten.
SIGNATURE_FAILURE_LIMIT = env.int("SIGNATURE_FAILURE_LIMIT", default=5)
SIGNATURE_COOLOFF_MINUTES = env.int("SIGNATURE_COOLOFF_MINUTES", default=30)

SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT", default=15 * 60)
# Every script, style and font comes from this origin (no CDN); htmx is served from static/vendor.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'",
)
# The generated API docs pages carry inline bootstrap scripts of their own.
CONTENT_SECURITY_POLICY_EXEMPT_PATHS = env.list(
    "CONTENT_SECURITY_POLICY_EXEMPT_PATHS", default=["/api/v1/docs/", "/api/v1/redoc/"]
)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
# Behind TLS in production; plain HTTP for `make run` and the test server.
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- I18n -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # The manifest needs `collectstatic`, which a deployment runs and a checkout has not.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("STATIC_MANIFEST", default=not DEBUG)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- Email ------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="hitlplatform <noreply@localhost>")

# --- REST API ---------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hitlplatform.api.authentication.BearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["hitlplatform.jsonlimits.LimitedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "hitlplatform.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "hitlplatform.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "hitlplatform.api.schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "hitlplatform API",
    "DESCRIPTION": _("Human-in-the-loop oversight for AI agents: proposals, decisions, audit."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "hitlplatform.api.schema.error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "VerdictEnum": "apps.proposals.models.Verdict",
        "PostReviewVerdictEnum": "apps.proposals.models.PostActionReview.Verdict",
        "QaVerdictEnum": "apps.insights.models.QaAssignment.Verdict",
    },
}

# --- Domain -----------------------------------------------------------------------
# Every JSON body and JSON form field (hitlplatform/jsonlimits.py): nesting deeper than this is a 400.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)
PROPOSAL_MAX_PAYLOAD_BYTES = env.int("PROPOSAL_MAX_PAYLOAD_BYTES", default=256 * 1024)
PROPOSAL_WAIT_MAX_SECONDS = 60
PROPOSAL_DEFAULT_SLA_SECONDS = env.int("PROPOSAL_DEFAULT_SLA_SECONDS", default=24 * 3600)
PROPOSAL_WAIT_POLL_SECONDS = env.float("PROPOSAL_WAIT_POLL_SECONDS", default=0.25)
# The review page cuts a payload's JSON past this many characters and links the whole file.
REVIEW_PAYLOAD_DISPLAY_CHARS = env.int("REVIEW_PAYLOAD_DISPLAY_CHARS", default=20_000)
PROPOSAL_MAX_REVISIONS = env.int("PROPOSAL_MAX_REVISIONS", default=3)
REVIEW_CLAIM_SECONDS = env.int("REVIEW_CLAIM_SECONDS", default=900)
# Waiting requests (wait/, events/, events/stream/; hitlplatform/wakeups.py): caps per server
# process, beyond them 429 with Retry-After; SSE keep-alive comments; events per events/ answer.
WAIT_MAX_PER_AGENT = env.int("WAIT_MAX_PER_AGENT", default=500)
WAIT_MAX_TOTAL = env.int("WAIT_MAX_TOTAL", default=10_000)
WAIT_RETRY_AFTER_SECONDS = env.int("WAIT_RETRY_AFTER_SECONDS", default=5)
EVENTS_KEEPALIVE_SECONDS = env.float("EVENTS_KEEPALIVE_SECONDS", default=15.0)
EVENTS_MAX_PER_RESPONSE = env.int("EVENTS_MAX_PER_RESPONSE", default=100)
# Threads per server process for every other (synchronous) request, as gunicorn's --threads was.
WEB_THREADS = env.int("WEB_THREADS", default=8)
REVIEW_PAGE_SIZE = env.int("REVIEW_PAGE_SIZE", default=25)
REVIEW_DUE_SOON_SECONDS = env.int("REVIEW_DUE_SOON_SECONDS", default=3600)
REVIEW_FACETS_CACHE_SECONDS = env.int("REVIEW_FACETS_CACHE_SECONDS", default=300)
REVIEW_STATS_CACHE_SECONDS = env.int("REVIEW_STATS_CACHE_SECONDS", default=60)
DATA_UPLOAD_MAX_MEMORY_SIZE = PROPOSAL_MAX_PAYLOAD_BYTES * 4
SAMPLING_KEY = env.str("SAMPLING_KEY", default=SECRET_KEY)
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")
AUDIT_DEV_KEY_FILE = env.path("AUDIT_DEV_KEY_FILE", default=str(Path.home() / ".hitlplatform" / "audit-dev-key"))
AUDIT_MIN_RETENTION_DAYS = env.int("AUDIT_MIN_RETENTION_DAYS", default=183)
# A chain of at least twice AUDIT_VERIFY_MIN_SEGMENT events is verified by this many processes at once.
AUDIT_VERIFY_PROCESSES = env.int("AUDIT_VERIFY_PROCESSES", default=min(os.cpu_count() or 1, 4))
AUDIT_VERIFY_MIN_SEGMENT = env.int("AUDIT_VERIFY_MIN_SEGMENT", default=100_000)
ORGANISATION_NAME = env.str("ORGANISATION_NAME", default="hitlplatform")
# Insights (apps.insights): recommendations need this many human verdicts and a Wilson lower
# bound (95%) above the bar; QA sends this share of human decisions to a blind second review.
INSIGHTS_MIN_SAMPLE = env.int("INSIGHTS_MIN_SAMPLE", default=100)
INSIGHTS_RELAX_LOWER_BOUND = env.float("INSIGHTS_RELAX_LOWER_BOUND", default=0.99)
INSIGHTS_RELAX_SAMPLE_RATE = env.float("INSIGHTS_RELAX_SAMPLE_RATE", default=0.1)
INSIGHTS_TIGHTEN_MIN_SAMPLE = env.int("INSIGHTS_TIGHTEN_MIN_SAMPLE", default=20)
INSIGHTS_RUBBER_STAMP_SECONDS = env.int("INSIGHTS_RUBBER_STAMP_SECONDS", default=5)
INSIGHTS_RUBBER_STAMP_MIN_SAMPLE = env.int("INSIGHTS_RUBBER_STAMP_MIN_SAMPLE", default=100)
INSIGHTS_RUBBER_STAMP_APPROVAL_RATE = env.float("INSIGHTS_RUBBER_STAMP_APPROVAL_RATE", default=0.99)
INSIGHTS_QA_SHARE = env.float("INSIGHTS_QA_SHARE", default=0.05)
INSIGHTS_QA_LOOKBACK_DAYS = env.int("INSIGHTS_QA_LOOKBACK_DAYS", default=2)
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# SLA sweep (apps/escalations): batches locked with SKIP LOCKED; one run stops after its time budget.
SLA_SWEEP_BATCH_SIZE = env.int("SLA_SWEEP_BATCH_SIZE", default=500)
SLA_SWEEP_MAX_SECONDS = env.float("SLA_SWEEP_MAX_SECONDS", default=25.0)
SLA_REMINDER_FRACTION = env.float("SLA_REMINDER_FRACTION", default=0.8)

# Notifications outbox (apps/notifications): exponential backoff for up to a day, then dead-lettered.
NOTIFICATION_RETRY_BASE_SECONDS = env.float("NOTIFICATION_RETRY_BASE_SECONDS", default=30.0)
NOTIFICATION_RETRY_MAX_INTERVAL_SECONDS = env.float("NOTIFICATION_RETRY_MAX_INTERVAL_SECONDS", default=3600.0)
NOTIFICATION_RETRY_WINDOW_SECONDS = env.float("NOTIFICATION_RETRY_WINDOW_SECONDS", default=24 * 3600.0)
OUTBOX_DISPATCH_GRACE_SECONDS = env.float("OUTBOX_DISPATCH_GRACE_SECONDS", default=60.0)
OUTBOX_LEASE_SECONDS = env.float("OUTBOX_LEASE_SECONDS", default=120.0)
OUTBOX_SWEEP_LIMIT = env.int("OUTBOX_SWEEP_LIMIT", default=5000)
OUTBOX_DELIVERY_CHUNK = env.int("OUTBOX_DELIVERY_CHUNK", default=20)
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)

# Compliance reports (apps.reports). Without REPORT_SIGNING_KEY_FILE/CERT_FILE (PEM) a development
# key and self-signed certificate are made once in REPORT_DEV_SIGNING_DIR, outside the repository.
REPORT_MAX_PERIOD_DAYS = env.int("REPORT_MAX_PERIOD_DAYS", default=366)
REPORT_APPENDIX_MAX_ROWS = env.int("REPORT_APPENDIX_MAX_ROWS", default=2000)
REPORT_EXCEPTION_MAX_ROWS = env.int("REPORT_EXCEPTION_MAX_ROWS", default=25)
# Affecting this many or more makes a proposal high-risk (apps.proposals.figures.high_risk), for the
# report's exceptions and the controls alike.
REPORT_HIGH_RISK_BLAST_RADIUS = env.int("REPORT_HIGH_RISK_BLAST_RADIUS", default=100)
REPORT_SIGNING_KEY_FILE = env.str("REPORT_SIGNING_KEY_FILE", default="")
REPORT_SIGNING_CERT_FILE = env.str("REPORT_SIGNING_CERT_FILE", default="")
REPORT_SIGNING_KEY_PASSPHRASE = env.str("REPORT_SIGNING_KEY_PASSPHRASE", default="")
REPORT_DEV_SIGNING_DIR = env.path(
    "REPORT_DEV_SIGNING_DIR", default=str(Path.home() / ".hitlplatform" / "report-signing")
)
# Generation runs on its own queue: `celery -A hitlplatform worker -Q reports --max-tasks-per-child 1`.
REPORT_TIME_LIMIT = env.int("REPORT_TIME_LIMIT", default=600)
REPORT_SOFT_TIME_LIMIT = env.int("REPORT_SOFT_TIME_LIMIT", default=540)
# The control matrix (apps.reports.controls): above these, 11.200 and Art. 14(4)(b) need attention.
CONTROLS_MAX_SESSION_IDLE_SECONDS = env.int("CONTROLS_MAX_SESSION_IDLE_SECONDS", default=30 * 60)
CONTROLS_MAX_QUICK_DECISION_RATE = env.float("CONTROLS_MAX_QUICK_DECISION_RATE", default=0.2)

# --- Celery -------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        # kombu's exchange tables, else `control/` in the working directory (the checkout).
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=240)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ROUTES = {"reports.*": {"queue": "reports"}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A web request dispatching after commit must not hang on a dead broker: a short retry, then the
# outbox sweep re-sends (apps/notifications).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=4.0)
# A static schedule of idempotent sweeps (DESIGN.md, Celery rules); each task is named
# after the service it wraps.
CELERY_BEAT_SCHEDULE = {
    "sweep-sla": {"task": "escalations.sweep_sla", "schedule": env.float("SLA_SWEEP_SECONDS", default=30.0)},
    "audit-checkpoint": {"task": "audit.checkpoint", "schedule": env.float("AUDIT_CHECKPOINT_SECONDS", default=300.0)},
    "audit-verify-nightly": {"task": "audit.verify_full", "schedule": 24 * 3600.0},
    "sweep-outbox": {"task": "notifications.sweep_outbox", "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=15.0)},
    "sampling-daily-minimum": {
        "task": "sampling.ensure_daily_minimum",
        "schedule": env.float("SAMPLING_TOPUP_SECONDS", default=3600.0),
    },
    "insights-nightly": {"task": "insights.compute_recommendations", "schedule": 24 * 3600.0},
}

# Operations (hitlplatform/ops): /metrics needs this bearer token when set; /readyz waits this long for the broker.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
READYZ_BROKER_TIMEOUT_SECONDS = env.float("READYZ_BROKER_TIMEOUT_SECONDS", default=2.0)
# Probes come over plain HTTP from inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# A 503 (database or broker unavailable, connection pool exhausted) tells clients to retry after this.
UNAVAILABLE_RETRY_AFTER_SECONDS = env.int("UNAVAILABLE_RETRY_AFTER_SECONDS", default=5)

# --- Logging ------------------------------------------------------------------------
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"))
