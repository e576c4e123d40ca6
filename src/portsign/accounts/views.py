"""Web pages for accounts. They call the same domain functions as the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portsign.accounts.backends import signed_in_user
from portsign.accounts.domain import captcha as captchas
from portsign.accounts.domain import login as logins
from portsign.accounts.domain import realname, tokens, users
from portsign.accounts.domain.codes import request_code
from portsign.accounts.enums import VerificationMethod
from portsign.accounts.models import Captcha, User
from portsign.common.cn_ids import mask_id_number
from portsign.common.errors import DomainError, NotFound, RateLimited
from portsign.common.middleware import client_ip
from portsign.common.qr import qr_svg
from portsign.pki import applications as certificate_applications
from portsign.pki import login_certificates
from portsign.pki.application_details import DEFAULT_TERM, TERMS, ApplicationForm

BACKEND = "portsign.accounts.backends.AccountBackend"


def _attempt(call: Callable[[], Any]) -> tuple[Any, DomainError | None]:
    try:
        return call(), None
    except DomainError as exc:
        return None, exc


def _errors(exc: DomainError | None) -> dict[str, Any]:
    if exc is None:
        return {}
    return {"error": exc.message, "field_errors": {k: str(v) for k, v in exc.fields.items()}}


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("console")


def _sign_in(request: HttpRequest, user: User) -> HttpResponse:
    django_login(request, user, backend=BACKEND)
    return redirect(_next_url(request))


def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("console")
    method = request.POST.get("method") or request.GET.get("method") or "password"
    context: dict[str, Any] = {"method": method, "values": request.POST, "next": _next_url(request)}
    exc: DomainError | None = None
    if request.method == "POST":
        data = request.POST
        if method == "code":
            user, exc = _attempt(
                lambda: logins.login_with_code(
                    account=data.get("account", ""), code=data.get("code", "")
                )
            )
        else:
            user, exc = _attempt(
                lambda: logins.login_with_password(
                    account=data.get("account", ""),
                    password=data.get("password", ""),
                    captcha_id=data.get("captcha_id", ""),
                    captcha=data.get("captcha", ""),
                )
            )
        if user is not None:
            return _sign_in(request, user)
        context.update(_errors(exc))
    try:
        context["captcha"] = captchas.new_captcha(ip=client_ip(request))
    except RateLimited as limited:
        context.update(_errors(limited))
        exc = limited
    status = 429 if isinstance(exc, RateLimited) else 200
    return render(request, "accounts/login.html", context, status=status)


def register_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"values": request.POST, "next": _next_url(request)}
    if request.method == "POST":
        data = request.POST
        if data.get("password", "") != data.get("password2", ""):
            context.update(
                error=_("The two passwords differ."),
                field_errors={"password2": _("The two passwords differ.")},
            )
        else:
            user, exc = _attempt(
                lambda: users.register_user(
                    account=data.get("account", ""),
                    code=data.get("code", ""),
                    name=data.get("name", ""),
                    password=data.get("password", ""),
                    accept_terms=data.get("accept_terms") == "on",
                )
            )
            if user is not None:
                messages.success(request, _("Welcome to PortSign, %(name)s.") % {"name": user.name})
                return _sign_in(request, user)
            context.update(_errors(exc))
    return render(request, "accounts/register.html", context)


def reset_view(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"values": request.POST}
    if request.method == "POST":
        data = request.POST
        user, exc = _attempt(
            lambda: users.reset_password(
                account=data.get("account", ""),
                code=data.get("code", ""),
                password=data.get("password", ""),
            )
        )
        if user is not None:
            messages.success(request, _("Your password was reset. Sign in with it now."))
            return redirect("accounts:login")
        context.update(_errors(exc))
    return render(request, "accounts/reset.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        logins.record_logout(user=signed_in_user(request))
    django_logout(request)
    return redirect("accounts:login")


@require_POST
def send_code_view(request: HttpRequest) -> HttpResponse:
    """htmx endpoint behind every "send code" button; answers with a status fragment."""
    to = request.POST.get(request.POST.get("field", "account"), "")
    actor = signed_in_user(request) if request.user.is_authenticated else None
    issued, exc = _attempt(
        lambda: request_code(to=to, purpose=request.POST.get("purpose", ""), actor=actor)
    )
    context = {
        "issued": issued,
        "error": exc.message if exc else "",
        "wait": exc.retry_after if isinstance(exc, RateLimited) else 0,
    }
    return render(request, "accounts/_code_status.html", context)


@require_GET
def captcha_view(request: HttpRequest) -> HttpResponse:
    try:
        captcha = captchas.new_captcha(ip=client_ip(request))
    except RateLimited as exc:
        return render(request, "accounts/_captcha.html", {"error": exc.message}, status=429)
    return render(request, "accounts/_captcha.html", {"captcha": captcha})


@require_GET
def captcha_image(request: HttpRequest, captcha_id: str) -> HttpResponse:
    row = Captcha.objects.filter(pk=captcha_id, used=False).first()
    if row is None:
        return HttpResponse(status=404)
    response = HttpResponse(captchas.render_png(row.answer), content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def language_view(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    if request.user.is_authenticated:
        users.set_language(user=signed_in_user(request), language=language)
    translation.activate(language)
    response = redirect(_next_url(request))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 86400, samesite="Lax"
    )
    return response


def _profile(request: HttpRequest, **extra: Any) -> HttpResponse:
    user = signed_in_user(request)
    attempt = realname.latest_verification(user=user)
    if attempt is not None:
        attempt = realname.refresh_person_verification(user=user, verification_id=attempt.id)
    context = {
        "active": "me",
        "tokens": tokens.tokens_of(user=user)[:50],
        "verification": attempt,
        "verification_message": realname.failure_reason(attempt) if attempt else "",
        "face_qr": qr_svg(attempt.face_url) if attempt and attempt.status == "pending" else "",
        "methods": VerificationMethod.choices,
        "masked_id": mask_id_number(user.id_number) if user.id_number else "",
        "login_certificates": [
            (b, login_certificates.STATUS_LABELS[login_certificates.public_status(b.certificate)])
            for b in login_certificates.login_certificates_of(user=user)
        ],
        "public_url": settings.PUBLIC_URL,
        "certificates": certificate_applications.rows(
            certificate_applications.personal_applications(actor=user)[:20]
        ),
        "certificate_terms": TERMS,
        **extra,
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_GET
def profile_view(request: HttpRequest) -> HttpResponse:
    return _profile(request)


def _profile_action(
    request: HttpRequest, form: str, call: Callable[[], Any], done: str, anchor: str = ""
) -> HttpResponse:
    _result, exc = _attempt(call)
    if isinstance(exc, NotFound):
        raise Http404
    if exc is not None:
        return _profile(request, form=form, values=request.POST, **_errors(exc))
    messages.success(request, done)
    return redirect(reverse("accounts:profile") + anchor)


@login_required
@require_POST
def password_view(request: HttpRequest) -> HttpResponse:
    def call() -> User:
        user = users.change_password(
            user=signed_in_user(request),
            current_password=request.POST.get("current_password", ""),
            new_password=request.POST.get("new_password", ""),
        )
        update_session_auth_hash(request, user)  # keep this session, end the others
        return user

    return _profile_action(request, "password", call, _("Your password was changed."))


@login_required
@require_POST
def phone_view(request: HttpRequest) -> HttpResponse:
    data = request.POST
    return _profile_action(
        request,
        "phone",
        lambda: users.change_phone(
            user=signed_in_user(request),
            current_password=data.get("current_password", ""),
            new_phone=data.get("new_phone", ""),
            code=data.get("code", ""),
        ),
        _("Your mobile number was changed."),
    )


@login_required
@require_POST
def email_view(request: HttpRequest) -> HttpResponse:
    data = request.POST
    return _profile_action(
        request,
        "email",
        lambda: users.change_email(
            user=signed_in_user(request),
            current_password=data.get("current_password", ""),
            new_email=data.get("new_email", ""),
            code=data.get("code", ""),
        ),
        _("Your e-mail address was changed."),
    )


@login_required
@require_POST
def verification_view(request: HttpRequest) -> HttpResponse:
    data = request.POST
    attempt, exc = _attempt(
        lambda: realname.verify_person(
            user=signed_in_user(request),
            method=data.get("method", ""),
            name=data.get("name", ""),
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            card_number=data.get("card_number", ""),
        )
    )
    if exc is not None:
        return _profile(request, form="verification", values=data, **_errors(exc))
    if attempt.status == "verified":
        messages.success(request, _("Your real name is verified."))
    elif attempt.status == "failed":
        messages.error(request, realname.failure_reason(attempt))
    return redirect(reverse("accounts:profile") + "#verification")


@login_required
@require_POST
def token_create_view(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    _token, raw = tokens.issue_token(user=user, name=request.POST.get("name", "").strip() or "api")
    return _profile(request, new_token=raw)


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: str) -> HttpResponse:
    _result, exc = _attempt(
        lambda: tokens.revoke_token(user=signed_in_user(request), token_id=token_id)
    )
    if exc is not None:
        return HttpResponse(status=404)
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:profile")


@login_required
@require_POST
def login_certificate_unbind_view(request: HttpRequest, binding_id: str) -> HttpResponse:
    _result, exc = _attempt(
        lambda: login_certificates.unbind_login_certificate(
            actor=signed_in_user(request), binding_id=binding_id
        )
    )
    if exc is not None:
        return HttpResponse(status=404)
    messages.success(request, _("The sign-in certificate was unbound and revoked."))
    return redirect(reverse("accounts:profile") + "#login-certificates")


@login_required
@require_POST
def certificate_apply_view(request: HttpRequest) -> HttpResponse:
    """Apply for one's personal cloud certificate (SPEC C5)."""
    return _profile_action(
        request,
        "certificate",
        lambda: certificate_applications.apply(
            actor=signed_in_user(request),
            enterprise_id=None,
            code=request.POST.get("code", ""),
            form=ApplicationForm.from_post(request.POST, default_term=DEFAULT_TERM),
        ),
        _("The certificate application was submitted."),
        "#certificates",
    )


@login_required
@require_POST
def certificate_renew_view(request: HttpRequest, application_id: str) -> HttpResponse:
    return _profile_action(
        request,
        "certificate_renew",
        lambda: certificate_applications.renew(
            actor=signed_in_user(request),
            application_id=application_id,
            code=request.POST.get("code", ""),
            form=ApplicationForm.from_post(request.POST, default_term=None),
        ),
        _("The renewal was submitted."),
        "#certificates",
    )
