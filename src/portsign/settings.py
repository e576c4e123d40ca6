"""PortSign settings: one file, every knob a PORTSIGN_* environment variable.

Embedded defaults (no variables set) give a complete product on one machine: SQLite in WAL
mode inside DATA_DIR, local files, eager in-process tasks and sandbox providers.
`PORTSIGN_MODE=production` refuses sandbox providers and insecure settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.utils.translation import gettext_lazy as _

from portsign.common.crash import STEPS as CRASH_STEPS
from portsign.common.env import (
    SettingError,
    env_bool,
    env_choice,
    env_int,
    env_int_list,
    env_list,
    env_str,
    secret_from_file,
)

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

MODE = env_choice("MODE", "embedded", ("embedded", "production"))
PRODUCTION = MODE == "production"
SANDBOX = env_bool("SANDBOX", not PRODUCTION)
if PRODUCTION and SANDBOX:
    raise SettingError("PORTSIGN_MODE=production refuses sandbox providers (PORTSIGN_SANDBOX)")
# Test-only hooks (e.g. reading a captcha answer) exist only when explicitly asked for and
# never in production mode.
TEST_HOOKS = env_bool("TEST_HOOKS", False) and not PRODUCTION
# The crash test's hook (common/crash.py): the process kills itself at the named step.
CRASH_AT = env_str("CRASH_AT")
if CRASH_AT and (PRODUCTION or not TEST_HOOKS):
    raise SettingError("PORTSIGN_CRASH_AT is a test hook: it needs PORTSIGN_TEST_HOOKS=1")
if CRASH_AT and CRASH_AT not in CRASH_STEPS:
    raise SettingError(f"PORTSIGN_CRASH_AT: no step {CRASH_AT!r}; one of {sorted(CRASH_STEPS)}")

SECRET_KEY = env_str("SECRET_KEY") or secret_from_file(DATA_DIR / ".secret")
if PRODUCTION and len(SECRET_KEY) < 50:
    raise SettingError("PORTSIGN_SECRET_KEY must be at least 50 characters in production")
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise SettingError("PORTSIGN_DEBUG cannot be on in production mode")

PUBLIC_URL = env_str("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
# Behind a reverse proxy, take the client address from X-Forwarded-For.
TRUST_PROXY = env_bool("TRUST_PROXY", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_URL])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "portsign.common",
    "portsign.accounts",
    "portsign.enterprises",
    "portsign.backoffice",
    "portsign.pki",
    "portsign.seals",
    "portsign.contracts",
    "portsign.verification",
    "portsign.eport",
    "portsign.webhooks",
    "portsign.integrations",
    "portsign.archive",
    "portsign.billing",
    # The OAuth 2.0 authorization server for platform bindings (integrations/oauth_*.py).
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portsign.common.middleware.OriginMiddleware",
    "portsign.common.middleware.RequestSizeMiddleware",
    "portsign.common.middleware.ApiErrorShapeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portsign.common.middleware.ConsoleLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portsign.common.middleware.UserLanguageMiddleware",
    "portsign.common.middleware.ApiTextMiddleware",
    "portsign.common.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portsign.urls"
WSGI_APPLICATION = "portsign.wsgi.application"

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
                "portsign.common.context.shell",
            ],
        },
    },
]


def _database(url: str) -> dict[str, object]:
    if not url:
        # IMMEDIATE transactions take SQLite's write lock at BEGIN, so two requests never
        # both read-then-write and fail with "database is locked" half way.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "portsign.sqlite3",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": None},
            # Kept open across requests: a new connection and its PRAGMAs cost 1.8 ms a
            # request (issue 17); each server thread holds its own.
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": True,
        }
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise SettingError("PORTSIGN_DATABASE_URL must be a postgresql:// URL")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
        # No JIT: PortSign's queries are short, and when the planner overestimates a
        # per-row probe (the box party-name filter at a million contracts) compiling the
        # query cost 140–270 ms more than running it (bench/boxes.py).
        "OPTIONS": {"options": "-c jit=off"},
    }


DATABASES = {"default": _database(env_str("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

CELERY_TASK_ALWAYS_EAGER = not env_str("CELERY_BROKER_URL", REDIS_URL)
# Eager mode never talks to a broker; "memory://" keeps kombu from probing localhost.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL) or "memory://"
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TIMEZONE = "Asia/Shanghai"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["portsign.accounts.backends.AccountBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "console"
LOGOUT_REDIRECT_URL = "accounts:login"

SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE = PUBLIC_URL.startswith("https://")
SESSION_COOKIE_SECURE = SECURE or PRODUCTION
CSRF_COOKIE_SECURE = SECURE or PRODUCTION
SECURE_SSL_REDIRECT = env_bool("SSL_REDIRECT", PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if PRODUCTION else None
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "portsign_language"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = DATA_DIR / "files"
S3_BUCKET = env_str("S3_BUCKET")
STORAGES = {
    "default": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": S3_BUCKET,
                "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
                "access_key": env_str("S3_ACCESS_KEY") or None,
                "secret_key": env_str("S3_SECRET_KEY") or None,
                "region_name": env_str("S3_REGION") or None,
                "default_acl": "private",
                "querystring_auth": True,
            },
        }
        if S3_BUCKET
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Notification gateways. The sandbox keeps every message readable in the outbox.
SMS_GATEWAY = env_choice("SMS_GATEWAY", "sandbox" if SANDBOX else "aliyun", ("sandbox", "aliyun"))
EMAIL_GATEWAY = env_choice("EMAIL_GATEWAY", "sandbox" if SANDBOX else "smtp", ("sandbox", "smtp"))
if PRODUCTION and "sandbox" in (SMS_GATEWAY, EMAIL_GATEWAY):
    raise SettingError("PORTSIGN_MODE=production refuses the sandbox SMS/e-mail gateways")
ALIYUN_SMS: dict[str, Any] = {
    "endpoint": env_str("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/"),
    "access_key_id": env_str("ALIYUN_ACCESS_KEY_ID"),
    "access_key_secret": env_str("ALIYUN_ACCESS_KEY_SECRET"),
    "sign_name": env_str("ALIYUN_SMS_SIGN_NAME", "PortSign"),
    "template_code": env_str("ALIYUN_SMS_TEMPLATE_CODE"),
    "timeout": env_int("ALIYUN_SMS_TIMEOUT", 10, minimum=1),
}
if SMS_GATEWAY == "aliyun" and not (
    ALIYUN_SMS["access_key_id"] and ALIYUN_SMS["access_key_secret"] and ALIYUN_SMS["template_code"]
):
    raise SettingError(
        "the Aliyun SMS gateway needs PORTSIGN_ALIYUN_ACCESS_KEY_ID, "
        "PORTSIGN_ALIYUN_ACCESS_KEY_SECRET and PORTSIGN_ALIYUN_SMS_TEMPLATE_CODE"
    )
REALNAME_PROVIDER = env_choice(
    "REALNAME_PROVIDER", "sandbox" if SANDBOX else "tencent", ("sandbox", "tencent")
)
if PRODUCTION and REALNAME_PROVIDER == "sandbox":
    raise SettingError("PORTSIGN_MODE=production refuses the sandbox real-name provider")
TENCENT_FACEID: dict[str, Any] = {
    "endpoint": env_str("TENCENT_FACEID_ENDPOINT", "https://faceid.tencentcloudapi.com"),
    "secret_id": env_str("TENCENT_SECRET_ID"),
    "secret_key": env_str("TENCENT_SECRET_KEY"),
    "region": env_str("TENCENT_REGION", "ap-guangzhou"),
    "rule_id": env_str("TENCENT_FACEID_RULE_ID"),
}
if REALNAME_PROVIDER == "tencent" and not (
    TENCENT_FACEID["secret_id"] and TENCENT_FACEID["secret_key"]
):
    raise SettingError(
        "the Tencent real-name provider needs PORTSIGN_TENCENT_SECRET_ID and "
        "PORTSIGN_TENCENT_SECRET_KEY"
    )
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("EMAIL_FROM", "PortSign <noreply@portsign.local>")

# Abuse limits (SPEC A6). Every number is a setting so an operator can tune it.
# How long a write sent with an Idempotency-Key holds its key before a retry may run it again.
IDEMPOTENCY_LEASE_SECONDS = env_int("IDEMPOTENCY_LEASE_SECONDS", 120, minimum=5)
CODE_TTL_SECONDS = env_int("CODE_TTL_SECONDS", 300, minimum=30)
CODE_RESEND_SECONDS = env_int("CODE_RESEND_SECONDS", 60, minimum=0)
CODE_DAILY_LIMIT = env_int("CODE_DAILY_LIMIT", 10, minimum=1)
CODE_MAX_ATTEMPTS = env_int("CODE_MAX_ATTEMPTS", 5, minimum=1)
# Signing codes (one per act, signed-in person) have their own daily cap per address.
CODE_SIGN_DAILY_LIMIT = env_int("CODE_SIGN_DAILY_LIMIT", 300, minimum=1)
CODE_IP_HOURLY_LIMIT = env_int("CODE_IP_HOURLY_LIMIT", 30, minimum=1)
# Notices that one sender causes (contract invitations, reminders, approvals): per recipient
# address and per sending enterprise or person, each in one hour. Notices past either budget
# are held and folded into one digest per recipient by `cleanup` (issue 11: SMS bombing).
NOTICE_RECIPIENT_HOURLY_LIMIT = env_int("NOTICE_RECIPIENT_HOURLY_LIMIT", 10, minimum=1)
NOTICE_SENDER_HOURLY_LIMIT = env_int("NOTICE_SENDER_HOURLY_LIMIT", 500, minimum=1)
PASSWORD_MAX_FAILURES = env_int("PASSWORD_MAX_FAILURES", 5, minimum=1)
PASSWORD_LOCK_SECONDS = env_int("PASSWORD_LOCK_SECONDS", 900, minimum=1)
# Failures after which the captcha is demanded; 0 = on every password sign-in.
CAPTCHA_AFTER_FAILURES = env_int("CAPTCHA_AFTER_FAILURES", 0)
CAPTCHA_TTL_SECONDS = env_int("CAPTCHA_TTL_SECONDS", 300, minimum=30)
# Each captcha is a row: an address (an office behind one NAT counts as one) gets this many an hour.
CAPTCHA_IP_HOURLY_LIMIT = env_int("CAPTCHA_IP_HOURLY_LIMIT", 600, minimum=1)
# Certificate sign-in: how long a challenge may be signed, and challenges per IP and hour
# (every sign-in attempt uses up one challenge, so this also bounds attempts).
CERT_LOGIN_CHALLENGE_SECONDS = env_int("CERT_LOGIN_CHALLENGE_SECONDS", 120, minimum=10)
CERT_LOGIN_IP_HOURLY_LIMIT = env_int("CERT_LOGIN_IP_HOURLY_LIMIT", 60, minimum=1)
PERSON_VERIFICATION_DAILY_LIMIT = env_int("PERSON_VERIFICATION_DAILY_LIMIT", 5, minimum=1)
# Documents are at most 10 MB; a request declaring more is refused before its body is read
# (RequestSizeMiddleware). Smaller uploads are kept in memory, never spooled to disk.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_MB", 12, minimum=1) * 2**20
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
# Days an enterprise has to complete verification before its basic information lapses.
ENTERPRISE_MATERIALS_DAYS = env_int("ENTERPRISE_MATERIALS_DAYS", 30, minimum=1)
DEPOSIT_MAX_TRIES = env_int("DEPOSIT_MAX_TRIES", 3, minimum=1)
DEPOSIT_VALID_DAYS = env_int("DEPOSIT_VALID_DAYS", 7, minimum=1)
DEPOSIT_MAX_STARTS = env_int("DEPOSIT_MAX_STARTS", 5, minimum=1)
# PKI (issue 4). The key-encryption key lives outside the database; see pki/kek.py.
PKI_ALGORITHM = env_choice("PKI_ALGORITHM", "rsa2048", ("rsa2048", "rsa3072", "ecp256"))
# "file": a 0600 file (allowed in production too, but then the file must be guarded like the
# keys); "pkcs11": a non-extractable AES key inside an HSM reached through a PKCS#11 module.
PKI_KEK = env_choice("PKI_KEK", "file", ("file", "pkcs11"))
PKI_KEK_FILE = env_str("PKI_KEK_FILE", str(DATA_DIR / "kek"))
# The audit chain's HMAC key: outside the database, held like the file KEK.
AUDIT_KEY_FILE = env_str("AUDIT_KEY_FILE", str(DATA_DIR / "audit-key"))
# Where time-stamped anchors of the audit head are kept, in file storage (local or S3), never
# in the database they vouch for.
AUDIT_ANCHOR_PREFIX = env_str("AUDIT_ANCHOR_PREFIX", "audit-anchors/")
# An empty variable means the default, as for every choice: a blank label would match nothing.
PKCS11_MODULE = env_str("PKCS11_MODULE") or "/usr/lib/softhsm/libsofthsm2.so"
PKCS11_TOKEN_LABEL = env_str("PKCS11_TOKEN_LABEL") or "portsign"
# The user PIN is read from this file when the session opens: never from the environment,
# which leaks into process listings, crash reports and child processes.
PKCS11_PIN_FILE = env_str("PKCS11_PIN_FILE")
# Rotation adds generations "<label>.1", "<label>.2", … beside it in the token.
PKCS11_KEK_LABEL = env_str("PKCS11_KEK_LABEL") or "portsign-kek"
if PKI_KEK == "pkcs11" and not PKCS11_PIN_FILE:
    raise SettingError("PORTSIGN_PKI_KEK=pkcs11 needs PORTSIGN_PKCS11_PIN_FILE")
# E-Port cards (issue 14): each card is a PKCS#11 token with its key pair generated on it. The
# embedded default keeps SoftHSM2 tokens in DATA_DIR/cards; production names a vendor's UKey
# module, whose cards arrive initialised with the card number as their label.
CARD_PKCS11_MODULE = env_str("CARD_PKCS11_MODULE") or "/usr/lib/softhsm/libsofthsm2.so"
CARD_TOKEN_DIR = Path(env_str("CARD_TOKEN_DIR", str(DATA_DIR / "cards")))
CARD_YEARS = env_int("CARD_YEARS", 10, minimum=1)
# Consecutive wrong PINs that lock a card (EPORT.md §3.2: UNVERIFIED, configurable, default 5).
CARD_PIN_TRIES = env_int("CARD_PIN_TRIES", 5, minimum=1)
# Cards expiring within this many days are listed and their holders reminded (seed 004: 延期
# from 60 days before expiry).
CARD_EXPIRY_NOTICE_DAYS = env_int("CARD_EXPIRY_NOTICE_DAYS", 60, minimum=1)
# The longest validity an initiator may give a 代理报关委托书 (EPORT.md §4.2: "often said to be
# ≤ 1 year", UNVERIFIED, so configurable).
ENTRUSTMENT_MAX_DAYS = env_int("ENTRUSTMENT_MAX_DAYS", 365, minimum=1)
# Who approves certificate applications: "auto" for verified applicants (embedded default),
# "enterprise_admin" (an administrator of the enterprise; personal ones stay automatic) or
# "back_office" (PortSign reviewers).
CERTIFICATE_APPROVAL = env_choice(
    "CERTIFICATE_APPROVAL", "auto", ("auto", "enterprise_admin", "back_office")
)
# How long an enterprise's certificate authorization code (证书授权码) may be used, in days.
CERTIFICATE_AUTH_CODE_DAYS = env_int("CERTIFICATE_AUTH_CODE_DAYS", 30, minimum=1)
# `manage.py cleanup` tells a certificate's holder this many days before it expires (once).
CERTIFICATE_EXPIRY_NOTICE_DAYS = env_int("CERTIFICATE_EXPIRY_NOTICE_DAYS", 30, minimum=1)
# Seals (SPEC C2): how many live seals an enterprise, and signatures a person, may keep.
SEAL_QUOTA = env_int("SEAL_QUOTA", 20, minimum=1)
SIGNATURE_QUOTA = env_int("SIGNATURE_QUOTA", 10, minimum=1)
# Contracts (SPEC D1–D4).
CONTRACT_MAX_MB = env_int("CONTRACT_MAX_MB", 10, minimum=1)  # within MAX_REQUEST_MB
CONTRACT_MAX_PAGES = env_int("CONTRACT_MAX_PAGES", 300, minimum=1)
# Word conversions at once on a host (each LibreOffice takes ~0.5 GB), and how long one may run.
WORD_CONVERSIONS = env_int("WORD_CONVERSIONS", 2, minimum=1)
WORD_CONVERSION_SECONDS = env_int("WORD_CONVERSION_SECONDS", 60, minimum=5)
# Where uploaded Word documents are converted (common/conversions.py, common/jobs.py): on Celery
# workers with a broker, else in WORD_CONVERSIONS background threads of the web process.
CONVERSION_RUNNER = env_choice(
    "CONVERSION_RUNNER",
    "thread" if CELERY_TASK_ALWAYS_EAGER else "celery",
    ("celery", "thread", "inline"),
)
# Address space of the child process that renders one page (common/pdf_render.py).
PDF_RENDER_MEMORY_MB = env_int("PDF_RENDER_MEMORY_MB", 768, minimum=256)
# Quotas and billing (SPEC D7). The free allotment on verification (seed 000: a verified
# enterprise "可发: 对公合同 5 份 对私合同 10 份"); a person gets a few to try PortSign.
BILLING_FREE: dict[str, dict[str, int]] = {
    "enterprise": {
        "corporate": env_int("FREE_CORPORATE_CONTRACTS", 5),
        "personal": env_int("FREE_PERSONAL_CONTRACTS", 10),
    },
    "person": {
        "corporate": env_int("PERSON_FREE_CORPORATE_CONTRACTS", 1),
        "personal": env_int("PERSON_FREE_PERSONAL_CONTRACTS", 3),
    },
}
PAYMENT_PROVIDER = env_choice(
    "PAYMENT_PROVIDER", "sandbox" if SANDBOX else "alipay", ("sandbox", "alipay")
)
if PRODUCTION and PAYMENT_PROVIDER == "sandbox":
    raise SettingError("PORTSIGN_MODE=production refuses the sandbox payment provider")
# Recharge orders one person may open per hour.
ORDERS_PER_HOUR = env_int("ORDERS_PER_HOUR", 20, minimum=1)
# How long the sandbox cashier's "pay, notify late" holds its notification back.
SANDBOX_PAYMENT_LATE_SECONDS = env_int("SANDBOX_PAYMENT_LATE_SECONDS", 120, minimum=1)
ALIPAY: dict[str, str] = {
    "app_id": env_str("ALIPAY_APP_ID"),
    "gateway": env_str("ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
    # The merchant's RSA private key (PEM) and Alipay's public key, in files mode 0600.
    "private_key_file": env_str("ALIPAY_PRIVATE_KEY_FILE"),
    "public_key_file": env_str("ALIPAY_PUBLIC_KEY_FILE"),
}
if PAYMENT_PROVIDER == "alipay" and not (
    ALIPAY["app_id"] and ALIPAY["private_key_file"] and ALIPAY["public_key_file"]
):
    raise SettingError(
        "the Alipay payment provider needs PORTSIGN_ALIPAY_APP_ID, "
        "PORTSIGN_ALIPAY_PRIVATE_KEY_FILE and PORTSIGN_ALIPAY_PUBLIC_KEY_FILE"
    )
CONTRACT_DEFAULT_DAYS = env_int("CONTRACT_DEFAULT_DAYS", 14, minimum=1)
CONTRACT_DUE_SOON_DAYS = env_int("CONTRACT_DUE_SOON_DAYS", 3, minimum=1)
# 催签: the sender may remind at most once per this many minutes; automatic reminders go out
# this many hours before the deadline; 即将过期 lists contracts valid for this many more days.
CONTRACT_REMIND_MINUTES = env_int("CONTRACT_REMIND_MINUTES", 60, minimum=1)
CONTRACT_AUTO_REMIND_HOURS = env_int("CONTRACT_AUTO_REMIND_HOURS", 24, minimum=1)
CONTRACT_EXPIRING_DAYS = env_int("CONTRACT_EXPIRING_DAYS", 30, minimum=1)
# Public verification (SPEC D6): checks per client address per hour.
VERIFY_IP_HOURLY_LIMIT = env_int("VERIFY_IP_HOURLY_LIMIT", 60, minimum=1)
PKI_TSA_POLICY = env_str("PKI_TSA_POLICY", "1.3.6.1.4.1.61234.1.1")
TOKEN_TTL_DAYS = env_int("TOKEN_TTL_DAYS", 30, minimum=1)
# Webhooks (issue 6 §7): callback URLs per enterprise, signed JSON, retried with back-off.
WEBHOOK_MAX_ENDPOINTS = env_int("WEBHOOK_MAX_ENDPOINTS", 10, minimum=1)
# Enterprise API keys (API.md, SPEC B6): requests per key per minute, beyond which it gets
# 429; and active keys per enterprise (each is a service account in the member list).
API_KEY_RATE_PER_MINUTE = env_int("API_KEY_RATE_PER_MINUTE", 600, minimum=1)
API_KEY_MAX_PER_ENTERPRISE = env_int("API_KEY_MAX_PER_ENTERPRISE", 20, minimum=1)
# Platform bindings (SPEC B6) through django-oauth-toolkit: clients are registered by the back
# office (`portsign oauth-client add`) with exact redirect URIs; authorization code with PKCE
# S256 only (RFC 9700); the consent page is integrations.oauth_views.ConsentView, which
# always asks (a binding is given once, with a code, never silently renewed).
OAUTH_ACCESS_TOKEN_SECONDS = env_int("OAUTH_ACCESS_TOKEN_SECONDS", 3600, minimum=60)
OAUTH_REFRESH_TOKEN_DAYS = env_int("OAUTH_REFRESH_TOKEN_DAYS", 30, minimum=1)
OAUTH2_PROVIDER = {
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # S256 only, never "plain"
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,  # header only, never the query
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # only tokens' SHA-256 is kept
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,  # RFC 9207 `iss` on the redirect
    "REFRESH_TOKEN_REUSE_PROTECTION": True,  # a replayed refresh token ends its family
    "ALLOW_URI_WILDCARDS": False,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if PRODUCTION else ["http", "https"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": OAUTH_ACCESS_TOKEN_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": OAUTH_REFRESH_TOKEN_DAYS * 86400,
    "ROTATE_REFRESH_TOKEN": True,
    "REQUEST_APPROVAL_PROMPT": "force",
    # One scope: what the consent page lists (account, real-name status, the enterprise's
    # basics) and acting for that enterprise through integrations.oauth_rules.
    "SCOPES": {"binding": "Account, real-name status and the bound enterprise's basics"},
    "DEFAULT_SCOPES": ["binding"],
}
# DOT's stock models, named so migrations that point at them resolve (they are swappable).
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
# Connect and read timeout of one delivery attempt: a slow receiver must not hold a worker.
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Waits after each failed attempt (10 s, 30 s, 2 min, 10 min, 1 h, 6 h); after the last one
# the delivery has failed and waits for "redeliver".
WEBHOOK_RETRY_SECONDS = env_int_list(
    "WEBHOOK_RETRY_SECONDS", [10, 30, 120, 600, 3600, 21600], minimum=1
)
# Finished deliveries (delivered or failed) stay in the log this long; `cleanup` drops older.
WEBHOOK_LOG_DAYS = env_int("WEBHOOK_LOG_DAYS", 30, minimum=1)
# Bulk send (批量发送): one template × a CSV/XLSX of rows. Jobs run on Celery workers when a
# broker is configured; in embedded mode in a background thread of the web process, so the
# upload returns at once and the progress bar moves; "inline" runs them inside the upload.
BULK_SEND_RUNNER = env_choice(
    "BULK_SEND_RUNNER",
    "thread" if CELERY_TASK_ALWAYS_EAGER else "celery",
    ("celery", "thread", "inline"),
)
BULK_SEND_MAX_ROWS = env_int("BULK_SEND_MAX_ROWS", 1000, minimum=1)
BULK_SEND_MAX_MB = env_int("BULK_SEND_MAX_MB", 5, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
