"""API shapes of the accounts app."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field

from portsign.accounts.models import ApiToken, User


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
    status: str


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
            real_name=RealNameOut(status="unverified"),
            enterprises=[],
        )


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
