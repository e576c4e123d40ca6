"""The open API v1 (API.md): one NinjaAPI, one error format, bearer-token or session auth."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from portsign.accounts.api import auth_router, me_router
from portsign.archive.api import router as archive_router
from portsign.billing.api import router as billing_router
from portsign.common.api import sandbox_router
from portsign.common.conversions_api import router as conversions_router
from portsign.common.errors import DomainError, PaymentRequired, RateLimited, error_body
from portsign.common.schemas import ErrorOut
from portsign.contracts.api import approval_router
from portsign.contracts.api import router as contracts_router
from portsign.contracts.areas_api import router as areas_router
from portsign.contracts.draft_api import router as _drafts  # noqa: F401  (on contracts_router)
from portsign.contracts.package_api import router as package_router
from portsign.contracts.signing_api import router as signing_router
from portsign.contracts.templates_api import router as templates_router
from portsign.enterprises import departments_api as _departments  # noqa: F401  (on its router)
from portsign.enterprises.api import invitation_router, join_router, sandbox_bank_router
from portsign.enterprises.api import router as enterprises_router
from portsign.eport.api import router as eport_router
from portsign.eport.cards_api import login_router as card_login_router
from portsign.eport.cards_api import router as cards_router
from portsign.eport.customs_api import router as customs_router
from portsign.eport.entrustments_api import router as entrustments_router
from portsign.integrations.api import router as api_keys_router
from portsign.integrations.oauth_api import router as bindings_router
from portsign.pki.api import router as certificate_router
from portsign.seals.api import router as seals_router
from portsign.verification.api import router as verify_router
from portsign.webhooks.api import router as webhooks_router

log = logging.getLogger(__name__)


# What any operation can answer besides its own results (API.md "Errors"), each in the ErrorOut
# shape. One list for every operation: which rule a given call trips depends on the caller and
# the object's state, so integrators and the API fuzzer are told all of them everywhere.
API_ERRORS = {
    "400": "Invalid input; the error code says which rule",
    "401": "Not signed in, or the bearer token is invalid",
    "402": "The sender's contract quota is used up (quota_exhausted); `link` is the recharge page",
    "403": "Signed in, but without the permission (or CSRF token) this needs",
    "404": "Not found, or not yours: another enterprise's object is a 404",
    "409": "Conflicts with the object's state, or an Idempotency-Key still running",
    "413": "The request or upload is too large",
    "422": "A field is missing or has the wrong type",
    "429": "Too many requests; see Retry-After",
    "503": "The server is at its limit for this work (e.g. Word conversion); see Retry-After",
}


class PortSignApi(NinjaAPI):
    """NinjaAPI whose OpenAPI also documents the error answers (ninja documents only the
    responses an operation declares)."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(error_schema.pop("$defs", {}))
        components["ErrorOut"] = error_schema
        error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for item in schema["paths"].values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                for status, description in API_ERRORS.items():
                    responses.setdefault(
                        status, {"description": description, "content": error_content}
                    )
        return schema


api = PortSignApi(
    title="PortSign API",
    version="1.0.0",
    description=(
        "Open API v1 of PortSign: accounts, enterprises, seals, certificates, contracts, webhooks."
    ),
    urls_namespace="api",
    docs_url="/docs",
)


def _json(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    link = exc.link if isinstance(exc, PaymentRequired) else ""
    body = error_body(exc.code, exc.message, exc.fields, link=link)
    response = _json(request, exc.status, body)
    if isinstance(exc, RateLimited):  # also Busy (503)
        response["Retry-After"] = str(exc.retry_after)
    return response


# Pydantic's messages are English only; the common ones get a translated sentence.
_PYDANTIC_MESSAGES = {
    "missing": _("This field is required."),
    "string_type": _("Must be text."),
    "int_type": _("Must be a whole number."),
    "int_parsing": _("Must be a whole number."),
    "bool_type": _("Must be true or false."),
    "bool_parsing": _("Must be true or false."),
    "string_too_long": _("Too long."),
    "string_too_short": _("Too short."),
    "model_attributes_type": _("Must be a JSON object."),
    "dict_type": _("Must be a JSON object."),
    "list_type": _("Must be a list."),
}


def _field_errors(errors: list[dict[str, Any]]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        if len(loc) > 1 and loc[0] in ("query", "path"):
            loc = loc[1:]
        message = _PYDANTIC_MESSAGES.get(str(error.get("type")), error.get("msg", ""))
        fields[".".join(loc) or "body"] = str(message)
    return fields


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _json(
        request,
        422,
        error_body(
            "validation_failed", _("Some fields are missing or invalid."), _field_errors(exc.errors)
        ),
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _json(
        request, 401, error_body("unauthorized", _("Sign in first, or send a valid bearer token."))
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _json(request, 404, error_body("not_found", _("Not found.")))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # ninja's only 400: a body that is not valid JSON
        return _json(
            request, 400, error_body("malformed_body", _("The request body is not valid JSON."))
        )
    if exc.status_code == 403:  # ninja's only 403: session auth without a valid CSRF token
        return _json(
            request,
            403,
            error_body(
                "csrf_failed", _("The security token (CSRF) is missing or wrong. Reload the page.")
            ),
        )
    return _json(request, exc.status_code, error_body("http_error", str(exc)))


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return _json(
        request,
        400,
        error_body("malformed_body", _("The upload is not a well-formed multipart form.")),
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _json(request, 413, error_body("too_large", _("The request is too large.")))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled error on %s %s", request.method, request.path)
    if settings.DEBUG:
        raise exc
    return _json(
        request,
        500,
        error_body("internal_error", _("Something went wrong on our side. Please try again.")),
    )


api.add_router("/auth", auth_router)
api.add_router("/me", me_router)
api.add_router("/enterprises", enterprises_router)
api.add_router("/join-requests", join_router)
api.add_router("/invitations", invitation_router)
api.add_router("", certificate_router)
api.add_router("", seals_router)
api.add_router("/contracts", contracts_router)
api.add_router("/contracts", package_router)
api.add_router("", signing_router)
api.add_router("", areas_router)
api.add_router("", approval_router)
api.add_router("/conversions", conversions_router)
api.add_router("/verify", verify_router)
api.add_router("/eport", eport_router)
# The sign-in route first: "/cards/login" would otherwise match "/cards/{card_id}".
api.add_router("/eport", card_login_router)
api.add_router("/eport", cards_router)
api.add_router("/eport", customs_router)
api.add_router("/eport", entrustments_router)
api.add_router("", webhooks_router)
api.add_router("", api_keys_router)
api.add_router("", bindings_router)
api.add_router("", templates_router)
api.add_router("", archive_router)
api.add_router("", billing_router)
if settings.SANDBOX:
    api.add_router("/sandbox", sandbox_router)
    api.add_router("/sandbox/bank", sandbox_bank_router)
