"""Fieldtrace settings: one file, every value from the environment (see README, "Configuration").

Defaults are for a laptop: SpatiaLite and files under ``var/``, Celery tasks run inline, a per-process
cache. Production sets DATABASE_URL (PostGIS), S3_* (object storage), CELERY_BROKER_URL and CACHE_URL
(Redis: rate limits shared by every worker).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from server.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_secret,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)


def _local_secret_key() -> str:
    """For local runs (DEBUG on): a key generated once and kept under var/, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting together (runserver's reloader) must not write two keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(50))
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_secret("SECRET_KEY", None)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off. "
            "For a local run set DEBUG=1 and a key is generated under var/."
        )
    SECRET_KEY = _local_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "server.apps.AdminConfig",  # django.contrib.admin, with regulators (server/admin_scope.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "server.accounts",
    "server.registry",
    "server.fieldwork",
    "server.om",
    "server.tracks",
    "server.notifications",
    "server.violations",
    "server.audit",
    "server.privacy",
    "sync",
    "media_rules",
    "server.maps",
    "workspace",  # the web workspace (工作台) at /
    "field_app.apps.FieldAppConfig",  # the field app (外业端) at /app/
    "server.apps.ServerConfig",
]

MIDDLEWARE = [
    # Outermost, so that every error response, whoever made it, leaves in the one JSON shape.
    "server.errors.JsonErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sync.idempotency.IdempotencyMiddleware",
    # Who and which phone: audit entries written during the request name its device token.
    "server.audit.context.AuditOriginMiddleware",
]

ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"
ASGI_APPLICATION = "server.asgi.application"
CSRF_FAILURE_VIEW = "server.errors.csrf_failure"
# How an error reaches a person's browser (server.errors.for_person): a workspace page.
PERSON_ERROR_VIEW = "workspace.pages.status_page"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
if "DATABASE_URL" in os.environ:
    DATABASES = {"default": parse_database_url(env_str("DATABASE_URL"))}
else:
    # The embedded default: SpatiaLite in var/, so that `make run` needs nothing but the machine.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {"default": parse_database_url(f"spatialite:///{VAR_DIR / 'fieldtrace.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("spatialite"):
    # Writers take the lock when their transaction begins (not when they first write), so that two
    # concurrent pushes queue up instead of failing with "database is locked" mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
    # Tests: in memory, as Django does for SQLite; said outright so that pytest-xdist's workers (which
    # suffix any other test database name per worker) each keep their own in-memory database.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", ":memory:")
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("postgis"):
    # A health check or a request must fail in seconds, not hang, when the database is gone.
    DATABASES["default"]["OPTIONS"].setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
    )
if os.environ.get("SPATIALITE_LIBRARY_PATH"):
    SPATIALITE_LIBRARY_PATH = env_str("SPATIALITE_LIBRARY_PATH")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# Password sign-in and sessions only for accounts in service: a departed employee's is not (F9 item 7).
AUTHENTICATION_BACKENDS = ["server.accounts.backends.InServiceBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ----------------------------------------------------------------------------
# Chinese by default; English when the client asks (Accept-Language: en).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
USE_I18N = True
# The database keeps UTC; Asia/Shanghai is for display. Fieldtrace relies on aware datetimes
# (a system check refuses USE_TZ off).
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_TZ = env_bool("USE_TZ", True)

# --- Files ----------------------------------------------------------------------------------------
STATIC_URL = "static/"
# Production sets STATIC_ROOT and runs collectstatic: WhiteNoise then serves hashed, compressed
# files from there. Unset (local runs, tests), WhiteNoise serves them straight from the apps.
STATIC_ROOT = env_str("STATIC_ROOT", "") or None
WHITENOISE_USE_FINDERS = STATIC_ROOT is None
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

S3_BUCKET = env_str("S3_BUCKET", "")
# A photo upload waits on the bucket while the phone waits on us: an endpoint that does not answer
# must fail the request in seconds (a clean 503 storage_unavailable), not hold a worker until
# gunicorn's timeout. botocore's "standard" retry mode counts the first try in max_attempts.
S3_CONNECT_TIMEOUT = env_int("S3_CONNECT_TIMEOUT", 3, minimum=1, maximum=60)
S3_READ_TIMEOUT = env_int("S3_READ_TIMEOUT", 20, minimum=1, maximum=300)
S3_MAX_ATTEMPTS = env_int("S3_MAX_ATTEMPTS", 2, minimum=1, maximum=10)
if S3_BUCKET:
    from botocore.config import Config as _BotoConfig

    _s3_addressing = env_choice("S3_ADDRESSING_STYLE", ["path", "virtual", "auto"], "path")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("S3_REGION", "") or None,
            "access_key": env_secret("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_secret("S3_SECRET_ACCESS_KEY", "") or None,
            "addressing_style": _s3_addressing,
            "location": env_str("S3_PREFIX", ""),
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
            # Presigned POSTs and URLs signed with SigV4: S3 buckets made since 2020 accept nothing else.
            "signature_version": "s3v4",
            # With client_config given, django-storages builds no Config of its own: addressing and
            # signature are repeated here.
            "client_config": _BotoConfig(
                s3={"addressing_style": _s3_addressing},
                signature_version="s3v4",
                connect_timeout=S3_CONNECT_TIMEOUT,
                read_timeout=S3_READ_TIMEOUT,
                retries={"mode": "standard", "max_attempts": S3_MAX_ATTEMPTS},
            ),
        },
    }
else:
    # No fixed location: FileSystemStorage follows MEDIA_ROOT (and tests that move it).
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_ROOT
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Photos (media_rules) ------------------------------------------------------------------------
# The largest photo file accepted (a 48-megapixel phone JPEG is 15-25 MB), advertised to phones.
MEDIA_MAX_BYTES = env_int("MEDIA_MAX_BYTES", 30 * 1024 * 1024, minimum=1024)
# Documents uploaded to the back office (project attachments, departure proofs, rectification files,
# Excel imports): 413 attachment_too_large above this.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
# An upload is held in memory up to this size, then spilled to a temporary file (media_rules/intake.py).
MEDIA_MEMORY_BYTES = env_int("MEDIA_MEMORY_BYTES", 16 * 1024 * 1024, minimum=0)
# The largest chunk of a resumable upload: small enough to get through one bar of signal.
MEDIA_CHUNK_MAX_BYTES = env_int("MEDIA_CHUNK_MAX_BYTES", 2 * 1024 * 1024, minimum=16 * 1024)
MEDIA_UPLOAD_TTL_HOURS = env_int("MEDIA_UPLOAD_TTL_HOURS", 72, minimum=1)
MEDIA_PRESIGN_TTL_S = env_int("MEDIA_PRESIGN_TTL_S", 900, minimum=60)
# Near-duplicate search looks this far either side of a photo's capture time.
MEDIA_NEAR_DUPLICATE_WINDOW_DAYS = env_int("MEDIA_NEAR_DUPLICATE_WINDOW_DAYS", 365, minimum=1)
# Overrides of media_rules.rules.Thresholds for every photo, as JSON (checked by a system check);
# photo types and sites override these in turn.
PHOTO_RULE_THRESHOLDS = json.loads(env_str("PHOTO_RULE_THRESHOLDS", "{}") or "{}")

# --- O&M management (server/om/plans.py, server/om/reports.py) ------------------------------------
# The largest report file accepted (上传报告: scanned PDFs of quarterly reports run to tens of MB).
OM_REPORT_MAX_BYTES = env_int("OM_REPORT_MAX_BYTES", 50 * 1024 * 1024, minimum=1024)
# How far back the overdue list (超期) and its reminders look, in days.
OM_OVERDUE_LOOKBACK_DAYS = env_int("OM_OVERDUE_LOOKBACK_DAYS", 31, minimum=1)
# The Chinese font embedded in printed O&M records (PDF, server/om/printing.py): a TrueType font or
# collection (ReportLab cannot embed CFF/OpenType). Debian's fonts-wqy-microhei by default; checked at
# start (om.E001).
PRINT_CJK_FONT = env_str("PRINT_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

# --- Maps (the map page /map/ and the admin's map widgets; server/maps) ----------------------------
# The base map's tiles. Points are stored in WGS-84; on GCJ-02 tiles (Gaode, Tencent) they are drawn
# shifted by server.geo.from_wgs84, on WGS-84 / CGCS2000 tiles (OpenStreetMap, Tianditu) as they are.
MAP_TILE_URL = env_str("MAP_TILE_URL", "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env_str(
    "MAP_TILE_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
)
MAP_TILE_SYSTEM = env_choice("MAP_TILE_SYSTEM", ["wgs84", "gcj02"], "wgs84")
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (35.0, 105.0),  # (lat, lon): China
    "DEFAULT_ZOOM": 4,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 18,
    "TILES": [("底图", MAP_TILE_URL, {"attribution": MAP_TILE_ATTRIBUTION, "maxZoom": 18})],
    "RESET_VIEW": False,
}

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_secret("CELERY_BROKER_URL", "")
# Without a broker the tasks run inline, in the request that queued them (make run needs no worker).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("CELERY_BROKER_CONNECTION_TIMEOUT", 3, minimum=1)
# The queue the web processes send to and the workers take from: several installations (or test
# runs) can share one broker without taking each other's work.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_BEAT_SCHEDULE = {
    # Held sync work is never dropped: past its deadline it is processed or flagged for review.
    "sync-expire-holds": {"task": "sync.expire_holds", "schedule": 3600.0},
    # Held sync work whose prerequisite is on the server is retried (a safety net: F10 item 1).
    "sync-release-stranded": {"task": "sync.release_stranded", "schedule": 60.0},
    # Chunks of resumable uploads abandoned past MEDIA_UPLOAD_TTL_HOURS are removed from storage.
    "media-expire-uploads": {"task": "media_rules.expire_uploads", "schedule": 3600.0},
    # Files whose thumbnail and hashes were never made (the queued task was lost) get them.
    "media-process-pending": {"task": "media_rules.process_pending", "schedule": 3600.0},
    # Reminders ([F6]), in CELERY_TIMEZONE: the enterprise at the end of the working day of the days it
    # has not confirmed, the agency and technicians in the morning of overdue O&M plans.
    "reminders-unconfirmed-days": {
        "task": "notifications.remind_unconfirmed_days",
        "schedule": crontab(hour=18, minute=0),
    },
    "reminders-overdue-plans": {
        "task": "notifications.remind_overdue_plans",
        "schedule": crontab(hour=8, minute=30),
    },
}

# --- Personal information at rest and retention (server/privacy) ----------------------------------
# ID numbers and face photos are encrypted with PII_KEYS ("id:base64 32-byte key", comma-separated;
# the first encrypts, all decrypt) and ID numbers found by an HMAC under PII_INDEX_KEY (base64, 32+
# bytes); both may be *_FILE. Never in the database. DEBUG runs generate them once under var/; without
# DEBUG, servers and workers refuse to start without them (server/privacy/crypto.py).
PII_KEYS = env_secret("PII_KEYS", "")
PII_INDEX_KEY = env_secret("PII_INDEX_KEY", "")
if DEBUG and not (PII_KEYS and PII_INDEX_KEY):
    from server.privacy.crypto import local_keys

    PII_KEYS, PII_INDEX_KEY = local_keys(VAR_DIR, PII_KEYS, PII_INDEX_KEY)
if PII_KEYS or PII_INDEX_KEY:  # given: a typo stops the process now, not at the first ID number
    from server.privacy.crypto import parse_index_key, parse_keys

    parse_keys(PII_KEYS)
    parse_index_key(PII_INDEX_KEY)
# PIPL art. 19: kept for the shortest period necessary. Raw GPS track points and face (work) photo
# files are deleted after these many days; the records that they existed stay (server/privacy/retention.py).
TRACK_RETENTION_DAYS = env_int("TRACK_RETENTION_DAYS", 365, minimum=1)
FACE_PHOTO_RETENTION_DAYS = env_int("FACE_PHOTO_RETENTION_DAYS", 365, minimum=1)
CELERY_BEAT_SCHEDULE["privacy-daily"] = {
    "task": "privacy.daily",
    "schedule": crontab(hour=3, minute=15),
}

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["server.renderers.JSONRenderer"],  # one way to write times
    "DEFAULT_PARSER_CLASSES": [
        "server.parsers.JSONParser",  # NUL and lone surrogates made storable (server/parsers.py)
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "server.accounts.authentication.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "server.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_PAGINATION_CLASS": "mobile_api.common.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {
        # Per client address: guessing passwords or flooding sign-ups is slowed, a field team is not.
        "sign_in": env_str("THROTTLE_SIGN_IN", "30/min"),
        # Per account (the username, whatever the address): one password cannot be guessed from many.
        "sign_in_account": env_str("THROTTLE_SIGN_IN_ACCOUNT", "10/min"),
        "register": env_str("THROTTLE_REGISTER", "20/hour"),
        # The public look-up of agencies and reports (no sign-in): people typing, not scrapers.
        "public_lookup": env_str("THROTTLE_PUBLIC_LOOKUP", "30/min"),
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Fieldtrace API",
    "DESCRIPTION": (
        "Field-data backend for environmental monitoring. Every error has the shape "
        '`{"code": ..., "message": ..., "details": ...}`; messages are Chinese unless the request '
        "sends `Accept-Language: en`. Every moment the API writes (answers, pull rows, push results) "
        "is RFC 3339 in Beijing time with its offset, `2026-05-04T08:00:00+08:00`; moments sent to it "
        "may carry any offset (`Z` too), and one without an offset is read as Beijing time."
    ),
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Swagger UI and Redoc come from drf-spectacular-sidecar's static files: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Error answers (the one error shape, under every status an error code is declared with).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "server.openapi.document_errors",
        "server.openapi.document_moments",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AgencyKindEnum": "server.registry.models.Agency.Kind",
        "FilingStatusEnum": "server.registry.models.Agency.FilingStatus",
        "OutletKindEnum": "server.registry.models.OutletKind",
        "InstrumentKindEnum": "server.registry.models.Instrument.Kind",
        "AttachmentKindEnum": "server.fieldwork.models.ProjectAttachment.Kind",
        "ProjectStatusEnum": "server.fieldwork.models.MonitoringProject.Status",
        "UserRoleEnum": "server.accounts.models.Role",
        "OmStaffRoleEnum": "server.om.models.OmTaskStaff.Role",
        "ViolationStatusEnum": "server.violations.models.Violation.Status",
        "AgencyDocumentKindEnum": "server.registry.models.AgencyDocument.Kind",
        "QualificationKindEnum": "server.registry.models.AgencyQualification.Kind",
        "PersonDocumentKindEnum": "server.registry.models.PersonDocument.Kind",
        "AgencyNatureEnum": "server.registry.models.AgencyNature",
        "ContractNatureEnum": "server.registry.models.Contract.Nature",
    },
}

# --- Cache (throttle counts, the WeChat access token) ---------------------------------------------
# Unset: each process counts in its own memory, so N gunicorn workers let N times the rate through.
# Production sets CACHE_URL (Redis, e.g. redis://127.0.0.1:6379/1: another db than the broker's).
CACHE_URL = env_secret("CACHE_URL", "")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("CACHE_URL must be a redis://, rediss:// or unix:// URL.")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "fieldtrace"),
        # A cache that does not answer must fail a request's cache call in a second, not hang it.
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- WeChat mini-program login --------------------------------------------------------------------
# The server exchanges the mini-program's wx.login() code at code2session for the user's openid.
WECHAT_APPID = env_str("WECHAT_APPID", "")
WECHAT_SECRET = env_secret("WECHAT_SECRET", "")
WECHAT_CODE2SESSION_URL = env_str("WECHAT_CODE2SESSION_URL", "https://api.weixin.qq.com/sns/jscode2session")
WECHAT_TIMEOUT_SECONDS = env_int("WECHAT_TIMEOUT_SECONDS", 5, minimum=1, maximum=60)

# --- WeChat subscription messages (reminders) ----------------------------------------------------
# The API's base URL (tests point it at a local stub) and the token endpoint (blank: stable_token
# under the base URL). Templates map a reminder kind to a subscription template, as JSON:
#   {"om_day_unconfirmed": {"template_id": "...", "page": "pages/om/confirm?date={date}",
#                           "fields": {"thing1": "{enterprise}", "date2": "{date}"}}}
# A kind without a template is reminded in-app only. Checked at start (notifications.E001).
WECHAT_API_BASE = env_str("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_TOKEN_URL = env_str("WECHAT_TOKEN_URL", "")
WECHAT_MINIPROGRAM_STATE = env_choice("WECHAT_MINIPROGRAM_STATE", ["formal", "trial", "developer"], "formal")
WECHAT_MESSAGE_LANG = env_choice("WECHAT_MESSAGE_LANG", ["zh_CN", "en_US", "zh_HK", "zh_TW"], "zh_CN")
WECHAT_SUBSCRIBE_TEMPLATES = json.loads(env_str("WECHAT_SUBSCRIBE_TEMPLATES", "{}") or "{}")

# --- Phone sign-in --------------------------------------------------------------------------------
# A device token is revoked by its user or an administrator; it also lapses after this many days unused.
DEVICE_TOKEN_IDLE_DAYS = env_int("DEVICE_TOKEN_IDLE_DAYS", 90, minimum=1)

# --- Offline sync -----------------------------------------------------------------------------------
# Sized for a WeChat mini-program: its local storage holds 10 MB, one key at most 1 MB.
SYNC_MAX_OPS = env_int("SYNC_MAX_OPS", 500, minimum=1, maximum=5000)
SYNC_MAX_BYTES = env_int("SYNC_MAX_BYTES", 1_000_000, minimum=10_000)
SYNC_PULL_MAX_ROWS = env_int("SYNC_PULL_MAX_ROWS", 500, minimum=1, maximum=5000)
SYNC_PULL_MAX_BYTES = env_int("SYNC_PULL_MAX_BYTES", 512_000, minimum=10_000)
SYNC_HOLD_DEADLINE_HOURS = env_int("SYNC_HOLD_DEADLINE_HOURS", 72, minimum=1)
# After a push, held work whose prerequisite is on the server is retried (sync.engine.release_stranded),
# at most once per this many seconds per cache; 0 leaves it to the beat schedule (every minute).
SYNC_STRANDED_CHECK_SECONDS = env_int("SYNC_STRANDED_CHECK_SECONDS", 5, minimum=0)

# --- Security (production) ------------------------------------------------------------------------
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The proxies in front (addresses or networks): X-Forwarded-For is read only as far as they wrote it,
# so a client cannot pick its own address for the rate limits (server/client_address.py, F9 item 8).
# gunicorn_conf.py trusts the same ones for X-Forwarded-Proto.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", "")
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Request lines are logged with their query strings (runserver's django.server): an ID number or a
    # token in a URL is masked before any handler writes it (F9 item 11, server/logmask.py).
    "filters": {"mask_query": {"()": "server.logmask.MaskQueryFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_query"]}
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", ["DEBUG", "INFO", "WARNING", "ERROR"], "INFO"),
    },
    # Django's own handler for runserver's request lines has no filter: send them through ours, and
    # mask them on the logger too, so that every handler attached to it receives them masked.
    "loggers": {
        "django.server": {
            "handlers": ["console"],
            "filters": ["mask_query"],
            "level": "INFO",
            "propagate": False,
        }
    },
}
