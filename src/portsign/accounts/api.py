"""Accounts API (API.md "Accounts"). Handlers only translate; rules live in domain/."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from portsign.accounts.backends import signed_in_user
from portsign.accounts.domain import captcha as captchas
from portsign.accounts.domain import challenges, realname, tokens, users
from portsign.accounts.domain import login as logins
from portsign.accounts.domain.codes import request_code
from portsign.accounts.schemas import (
    ActingOut,
    CaptchaOut,
    CertificateLoginIn,
    ChallengeOut,
    CodeRequest,
    CodeSent,
    EmailIn,
    LoginCertificateIn,
    LoginCertificateInfo,
    LoginCertificateIssued,
    LoginIn,
    MeOut,
    NewTokenIn,
    PasswordIn,
    PhoneIn,
    ProfileIn,
    RegisteredOut,
    RegisterIn,
    ResetIn,
    TokenInfo,
    TokenOut,
    UserOut,
    VerificationIn,
    VerificationOut,
)
from portsign.common.api_auth import AUTH, optional_user
from portsign.common.errors import Invalid, NotFound
from portsign.common.middleware import client_ip
from portsign.pki import login_certificates

auth_router = Router(tags=["auth"])
me_router = Router(tags=["me"], auth=AUTH)


@auth_router.post("/codes", response={202: CodeSent}, summary="Send a one-time code")
def send_code(request: HttpRequest, payload: CodeRequest) -> Status[CodeSent]:
    issued = request_code(to=payload.to, purpose=payload.purpose, actor=optional_user(request))
    return Status(202, CodeSent(expires_in=issued.expires_in, resend_after=issued.resend_after))


@auth_router.post("/register", response={201: RegisteredOut}, summary="Register an account")
def register(request: HttpRequest, payload: RegisterIn) -> Status[RegisteredOut]:
    user = users.register_user(
        account=payload.account,
        code=payload.code,
        name=payload.name,
        password=payload.password,
        accept_terms=payload.accept_terms,
    )
    _token, raw = tokens.issue_token(user=user, name="register")
    return Status(201, RegisteredOut(user=UserOut.of(user), token=raw))


@auth_router.post("/login", response=TokenOut, summary="Sign in by code or password + captcha")
def login(request: HttpRequest, payload: LoginIn) -> TokenOut:
    if payload.code:
        user = logins.login_with_code(account=payload.account, code=payload.code)
    elif payload.password:
        user = logins.login_with_password(
            account=payload.account,
            password=payload.password,
            captcha_id=payload.captcha_id or "",
            captcha=payload.captcha or "",
        )
    else:
        raise Invalid(
            _("Send either a code, or a password with the image code."),
            code="credentials_missing",
            fields={"code": _("Required."), "password": _("Required.")},
        )
    token, raw = tokens.issue_token(user=user, name="login")
    return TokenOut(token=raw, expires_at=token.expires_at, user=UserOut.of(user))


@auth_router.post(
    "/certificate/challenge",
    response=ChallengeOut,
    summary="A challenge to sign with a login certificate",
)
def certificate_challenge(request: HttpRequest) -> ChallengeOut:
    row = challenges.new_challenge()
    expires_in = int((row.expires_at - row.created_at).total_seconds())
    return ChallengeOut(challenge_id=row.id, challenge=row.challenge, expires_in=expires_in)


@auth_router.post(
    "/certificate/login", response=TokenOut, summary="Sign in with a signed challenge"
)
def certificate_login(request: HttpRequest, payload: CertificateLoginIn) -> TokenOut:
    user, certificate = login_certificates.login_with_certificate(
        challenge_id=payload.challenge_id,
        certificate_pem=payload.certificate,
        signature=payload.signature,
        host=request.get_host(),
    )
    token, raw = tokens.issue_token(user=user, name="login")
    login_certificates.remember_sign_in(certificate, token=token)
    return TokenOut(token=raw, expires_at=token.expires_at, user=UserOut.of(user))


@auth_router.get("/captcha", response=CaptchaOut, summary="A new image captcha")
def captcha(request: HttpRequest) -> CaptchaOut:
    row = captchas.new_captcha(ip=client_ip(request))
    return CaptchaOut(captcha_id=row.id, image=captchas.data_uri(row.answer))


@auth_router.post("/reset", response={200: UserOut}, summary="Reset the password with a code")
def reset(request: HttpRequest, payload: ResetIn) -> UserOut:
    user = users.reset_password(
        account=payload.account, code=payload.code, password=payload.password
    )
    return UserOut.of(user)


@auth_router.post("/logout", response={204: None}, auth=AUTH, summary="Revoke this token")
def logout(request: HttpRequest) -> Status[None]:
    token = getattr(request, "api_token", None)
    if token is not None:
        tokens.revoke_token(user=signed_in_user(request), token_id=token.id)
    logins.record_logout(user=signed_in_user(request))
    return Status(204, None)


@auth_router.get("/tokens", response=list[TokenInfo], auth=AUTH, summary="My API tokens")
def list_tokens(request: HttpRequest) -> list[TokenInfo]:
    current = getattr(request, "api_token", None)
    user = signed_in_user(request)
    return [TokenInfo.of(t, current.id if current else None) for t in tokens.tokens_of(user=user)]


@auth_router.post("/tokens", response={201: TokenOut}, auth=AUTH, summary="Create an API token")
def create_token(request: HttpRequest, payload: NewTokenIn) -> Status[TokenOut]:
    user = signed_in_user(request)
    token, raw = tokens.issue_token(user=user, name=payload.name)
    return Status(201, TokenOut(token=raw, expires_at=token.expires_at, user=UserOut.of(user)))


@auth_router.delete(
    "/tokens/{token_id}", response={204: None}, auth=AUTH, summary="Revoke one of my tokens"
)
def revoke_token(request: HttpRequest, token_id: str) -> Status[None]:
    tokens.revoke_token(user=signed_in_user(request), token_id=token_id)
    return Status(204, None)


@me_router.get("", response=MeOut, summary="Who am I (and who I act as)")
def me(request: HttpRequest, acting_as: str = "personal") -> MeOut:
    """Who I am, and — with `acting_as` — the identity and permissions I act with."""
    from portsign.enterprises.rules import resolve_acting_as

    user = signed_in_user(request)
    membership = resolve_acting_as(user=user, acting_as=acting_as)
    acting = (
        ActingOut(kind="personal")
        if membership is None
        else ActingOut(
            kind="enterprise",
            enterprise_id=membership.enterprise_id,
            enterprise_name=membership.enterprise.name,
            role=membership.role.key,
            permissions=list(membership.role.permissions),
        )
    )
    return MeOut(**UserOut.of(user).model_dump(), acting_as=acting)


@me_router.patch("", response=UserOut, summary="Update my name or language")
def update_me(request: HttpRequest, payload: ProfileIn) -> UserOut:
    user = signed_in_user(request)
    if payload.language is not None:
        users.set_language(user=user, language=payload.language)
    if payload.name is not None:
        users.rename_user(user=user, name=payload.name)
    return UserOut.of(user)


@me_router.post("/password", response=UserOut, summary="Change my password")
def change_password(request: HttpRequest, payload: PasswordIn) -> UserOut:
    user = users.change_password(
        user=signed_in_user(request),
        current_password=payload.current_password,
        new_password=payload.new_password,
    )
    return UserOut.of(user)


@me_router.post("/phone", response=UserOut, summary="Change my mobile number")
def change_phone(request: HttpRequest, payload: PhoneIn) -> UserOut:
    return UserOut.of(
        users.change_phone(
            user=signed_in_user(request),
            current_password=payload.current_password,
            new_phone=payload.new_phone,
            code=payload.code,
        )
    )


@me_router.post("/email", response=UserOut, summary="Change my e-mail address")
def change_email(request: HttpRequest, payload: EmailIn) -> UserOut:
    return UserOut.of(
        users.change_email(
            user=signed_in_user(request),
            current_password=payload.current_password,
            new_email=payload.new_email,
            code=payload.code,
        )
    )


@me_router.post("/verification", response={201: VerificationOut}, summary="Verify my real name")
def start_verification(request: HttpRequest, payload: VerificationIn) -> Status[VerificationOut]:
    attempt = realname.verify_person(
        user=signed_in_user(request),
        method=payload.method,
        name=payload.name,
        id_number=payload.id_number,
        phone=payload.phone,
        card_number=payload.card_number,
    )
    return Status(201, VerificationOut.of(attempt))


@me_router.get(
    "/verification", response=VerificationOut, summary="My latest verification (refreshed)"
)
def get_verification(request: HttpRequest) -> VerificationOut:
    user = signed_in_user(request)
    attempt = realname.latest_verification(user=user)
    if attempt is None:
        raise NotFound(_("No verification has been started."))
    return VerificationOut.of(
        realname.refresh_person_verification(user=user, verification_id=attempt.id)
    )


@me_router.post(
    "/login-certificates",
    response={201: LoginCertificateIssued},
    summary="Get a login certificate for my key (PKCS#10 request)",
)
def request_login_certificate(
    request: HttpRequest, payload: LoginCertificateIn
) -> Status[LoginCertificateIssued]:
    binding = login_certificates.request_login_certificate(
        actor=signed_in_user(request), csr_pem=payload.csr, code=payload.code
    )
    return Status(201, LoginCertificateIssued.of(binding))


@me_router.get(
    "/login-certificates", response=list[LoginCertificateInfo], summary="My login certificates"
)
def list_login_certificates(request: HttpRequest) -> list[LoginCertificateInfo]:
    bindings = login_certificates.login_certificates_of(user=signed_in_user(request))
    return [LoginCertificateInfo.of(b) for b in bindings]


@me_router.delete(
    "/login-certificates/{binding_id}",
    response={204: None},
    summary="Unbind (and revoke) one of my login certificates",
)
def unbind_login_certificate(request: HttpRequest, binding_id: str) -> Status[None]:
    login_certificates.unbind_login_certificate(
        actor=signed_in_user(request), binding_id=binding_id
    )
    return Status(204, None)
