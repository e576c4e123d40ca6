"""Accounts: users, one-time codes, captchas and API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from portsign.accounts.enums import Channel, CodePurpose, VerificationMethod, VerificationStatus
from portsign.common.ids import new_id


class UserManager(BaseUserManager["User"]):
    def create_user(self, *, password: str | None = None, **fields: Any) -> User:
        user = self.model(**fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, *, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(password=password, **fields)


class User(AbstractBaseUser):
    """A person. Signs in with a mainland mobile number or an e-mail address."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    phone = models.CharField(max_length=20, unique=True, null=True, blank=True)
    email = models.EmailField(unique=True, null=True, blank=True)
    name = models.CharField(max_length=50)
    # Empty = follow the browser (Accept-Language); otherwise one of settings.LANGUAGES.
    language = models.CharField(max_length=10, blank=True)
    is_active = models.BooleanField(default=True)
    # Staff are PortSign's back-office reviewers, not enterprise users.
    is_staff = models.BooleanField(default=False)
    is_superuser = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)
    # Real-name identity (SPEC A5). Once verified, `name` is the verified legal name and both
    # are locked: changing them takes a new verification.
    id_number = models.CharField(max_length=18, blank=True)
    real_name_verified_at = models.DateTimeField(null=True, blank=True)
    real_name_method = models.CharField(max_length=16, blank=True)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "id"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    class Meta:
        verbose_name = _("user")

    def __str__(self) -> str:
        return self.name

    @property
    def is_real_name_verified(self) -> bool:
        return self.real_name_verified_at is not None

    @property
    def account(self) -> str:
        return self.phone or self.email or ""

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_active and self.is_superuser

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_active and self.is_superuser


class VerificationCode(models.Model):
    """A 6-digit one-time code sent to a phone or mailbox. Only its HMAC is stored."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    target = models.CharField(max_length=254)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    purpose = models.CharField(max_length=20, choices=CodePurpose.choices)
    # Binds a code to one action (e.g. a signing request); empty for account codes.
    binding = models.CharField(max_length=64, blank=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    burned = models.BooleanField(default=False)
    ip = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["target", "purpose", "created_at"]),
            models.Index(fields=["target", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
        ]


class Captcha(models.Model):
    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    answer = models.CharField(max_length=8)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)


class SignInThrottle(models.Model):
    """Wrong-password count and lock of an *address*, whether or not an account has it, so
    that lock-outs and captcha demands do not reveal which accounts exist."""

    address = models.CharField(primary_key=True, max_length=254)
    failures = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the prefix lets a user recognise it."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_ip = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]


class PersonVerification(models.Model):
    """One attempt at personal real-name verification, kept as evidence whatever its end."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verifications")
    method = models.CharField(max_length=16, choices=VerificationMethod.choices)
    status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING
    )
    name = models.CharField(max_length=50)
    id_number = models.CharField(max_length=18)
    # The other elements are kept masked only: the provider's answer is the evidence.
    phone_masked = models.CharField(max_length=20, blank=True)
    card_masked = models.CharField(max_length=24, blank=True)
    provider = models.CharField(max_length=32)
    provider_code = models.CharField(max_length=64, blank=True)
    # Why a failed attempt failed: "mismatch" (the source said no) or "provider_error".
    failure = models.CharField(max_length=16, blank=True)
    provider_request_id = models.CharField(max_length=64, blank=True)
    face_session_id = models.CharField(max_length=100, blank=True)
    face_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]


class LoginChallenge(models.Model):
    """A nonce for certificate sign-in (SPEC A2). Not a secret — the holder signs it — so it is
    stored as issued; `used_at` makes it single use and `expires_at` short-lived."""

    id = models.CharField(primary_key=True, max_length=26, default=new_id, editable=False)
    challenge = models.CharField(max_length=64)  # base64 of 32 random bytes
    ip = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["ip", "created_at"]),
            models.Index(fields=["created_at"]),
        ]
