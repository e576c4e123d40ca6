"""API shapes of the accounts app."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from portsign.accounts.models import ApiToken, PersonVerification, User
from portsign.common.cn_ids import mask_id_number
from portsign.pki.models import LoginCertificate


class CodeRequest(Schema):
    to: str = Field(description="Mobile number (+8613800000000) or e-mail address")
    purpose: str = Field(
        description="register | login | reset | change_phone | change_email | certificate"
    )


class CodeSent(Schema):
    expires_in: int
    resend_after: int


class RegisterIn(Schema):
    account: str
    code: str
    name: str
    password: str
    accept_terms: bool = Field(True, description="The user accepted the terms of service")


class LoginIn(Schema):
    account: str
    code: str | None = None
    password: str | None = None
    captcha_id: str | None = None
    captcha: str | None = None


class ResetIn(Schema):
    account: str
    code: str
    password: str


class CaptchaOut(Schema):
    captcha_id: str
    image: str = Field(description="PNG data URI")


class RealNameOut(Schema):
    status: str = Field(description="unverified | pending | verified")
    name: str | None = None
    id_number: str | None = Field(default=None, description="masked")
    method: str | None = None
    verified_at: datetime | None = None

    @staticmethod
    def of(user: User) -> RealNameOut:
        if not user.is_real_name_verified:
            pending = user.verifications.filter(status="pending").exists()
            return RealNameOut(status="pending" if pending else "unverified")
        return RealNameOut(
            status="verified",
            name=user.name,
            id_number=mask_id_number(user.id_number),
            method=user.real_name_method,
            verified_at=user.real_name_verified_at,
        )


class VerificationIn(Schema):
    name: str
    id_number: str
    method: str = Field(description="carrier3 | bank4 | face")
    phone: str = Field(
        "",
        description="carrier3: defaults to the account's number; "
        "bank4: the number reserved with the bank",
    )
    card_number: str = Field("", description="bank4 only")


class VerificationOut(Schema):
    id: str
    method: str
    status: str = Field(description="pending | verified | failed")
    failure: str = Field(description="mismatch | provider_error, when failed")
    message: str
    name: str
    id_number: str = Field(description="masked")
    face_url: str = Field(description="face: open on a phone (QR code)")
    created_at: datetime
    completed_at: datetime | None

    @staticmethod
    def of(attempt: PersonVerification) -> VerificationOut:
        from portsign.accounts.domain.realname import failure_reason

        return VerificationOut(
            id=attempt.id,
            method=attempt.method,
            status=attempt.status,
            failure=attempt.failure,
            message=failure_reason(attempt),
            name=attempt.name,
            id_number=mask_id_number(attempt.id_number),
            face_url=attempt.face_url if attempt.status == "pending" else "",
            created_at=attempt.created_at,
            completed_at=attempt.completed_at,
        )


class UserOut(Schema):
    id: str
    name: str
    phone: str | None
    email: str | None
    language: str
    real_name: RealNameOut
    enterprises: list[dict[str, object]]

    @staticmethod
    def of(user: User) -> UserOut:
        return UserOut(
            id=user.id,
            name=user.name,
            phone=user.phone,
            email=user.email,
            language=user.language,
            real_name=RealNameOut.of(user),
            enterprises=_enterprises(user),
        )


def _enterprises(user: User) -> list[dict[str, object]]:
    """The enterprises the user may act for (API.md: acting_as = an enterprise id)."""
    from portsign.enterprises.domain.enterprises import enterprises_of

    return [
        {
            "id": m.enterprise_id,
            "name": m.enterprise.name,
            "status": m.enterprise.status,
            "role": m.role.key,
            "role_name": m.role.display_name,
            "permissions": m.role.permissions,
            "is_main_admin": m.enterprise.main_admin_id == user.id,
        }
        for m in enterprises_of(user=user)
    ]


class ActingOut(Schema):
    kind: str = Field(description="personal | enterprise")
    enterprise_id: str | None = None
    enterprise_name: str | None = None
    role: str | None = None
    permissions: list[str] = []


class MeOut(UserOut):
    acting_as: ActingOut


class TokenOut(Schema):
    token: str
    expires_at: datetime
    user: UserOut


class RegisteredOut(Schema):
    user: UserOut
    token: str


class TokenInfo(Schema):
    id: str
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    current: bool

    @staticmethod
    def of(token: ApiToken, current_id: str | None) -> TokenInfo:
        return TokenInfo(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            current=token.id == current_id,
        )


class NewTokenIn(Schema):
    name: str = Field("api", max_length=100)


class ProfileIn(Schema):
    name: str | None = None
    language: str | None = None


class PasswordIn(Schema):
    current_password: str
    new_password: str


class PhoneIn(Schema):
    current_password: str
    new_phone: str
    code: str


class EmailIn(Schema):
    current_password: str
    new_email: str
    code: str


class ChallengeOut(Schema):
    challenge_id: str
    challenge: str = Field(description="32 random bytes, base64; sign as /certificate/login says")
    expires_in: int = Field(description="Seconds the challenge may be signed")


class CertificateLoginIn(Schema):
    challenge_id: str = Field(max_length=26)
    certificate: str = Field(description="The login certificate, PEM")
    signature: str = Field(
        description="base64 RSA PKCS#1 v1.5 or ECDSA (DER) SHA-256 signature of the message "
        '"PortSign login v1\\nchallenge=<challenge>\\naudience=<host[:port]>"'
    )


class LoginCertificateIn(Schema):
    csr: str = Field(description="PKCS#10 certificate request, PEM (RSA-2048/3072, ECDSA P-256)")
    code: str = Field(description="Code from /auth/codes with purpose certificate")


class LoginCertificateIssued(Schema):
    id: str
    serial: str
    not_after: datetime
    pem: str

    @staticmethod
    def of(binding: LoginCertificate) -> LoginCertificateIssued:
        cert = binding.certificate
        return LoginCertificateIssued(
            id=binding.id, serial=cert.serial, not_after=cert.not_after, pem=cert.certificate_pem
        )


class LoginCertificateInfo(Schema):
    id: str
    serial: str
    status: str = Field(description="valid | suspended | revoked | expired")
    not_after: datetime

    @staticmethod
    def of(binding: LoginCertificate) -> LoginCertificateInfo:
        from portsign.pki.login_certificates import public_status

        cert = binding.certificate
        return LoginCertificateInfo(
            id=binding.id, serial=cert.serial, status=public_status(cert), not_after=cert.not_after
        )
