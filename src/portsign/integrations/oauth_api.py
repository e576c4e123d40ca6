"""Platform bindings API (API.md "platform bindings", SPEC B6). Handlers translate; rules
live in domain/.

`/me/bindings` is the person's own (a personal token or the console session: a platform's
token never reaches it, oauth_rules). `/platform/signing-returns` is the platform's, with
its OAuth access token.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Status

from portsign.accounts.backends import signed_in_user
from portsign.common.api_auth import AUTH
from portsign.common.errors import Forbidden
from portsign.integrations.domain import bindings, returns
from portsign.integrations.models import Binding
from portsign.integrations.oauth_schemas import (
    BindingOut,
    SharedFactsOut,
    SigningReturnIn,
    SigningReturnOut,
)

router = Router(tags=["platform-bindings"], auth=AUTH)


@router.get(
    "/me/bindings",
    response=list[BindingOut],
    summary="The platforms bound to my account (已绑定), live ones",
)
def list_bindings(request: HttpRequest) -> list[BindingOut]:
    return [BindingOut.of(b) for b in bindings.bindings_of(user=signed_in_user(request))]


@router.delete(
    "/me/bindings/{platform_binding_id}",
    response={204: None},
    summary="Unbind a platform (解除绑定): its tokens stop at once",
)
def delete_binding(request: HttpRequest, platform_binding_id: str) -> Status[None]:
    # Not {binding_id}: that names a login-certificate binding (/me/login-certificates/…).
    bindings.revoke_binding(user=signed_in_user(request), binding_id=platform_binding_id)
    return Status(204, None)


def _platform_binding(request: HttpRequest) -> Binding:
    binding: Binding | None = getattr(request, "oauth_binding", None)
    if binding is None:
        raise Forbidden(
            _("Only a bound platform, with its OAuth access token, may ask for this."),
            code="platform_only",
        )
    return binding


@router.get(
    "/platform/binding",
    response=SharedFactsOut,
    summary="Platforms: what the person shared when binding (账号和企业基本信息)",
)
def shared_facts(request: HttpRequest) -> SharedFactsOut:
    binding = _platform_binding(request)
    facts = bindings.shared_facts(user=binding.user, enterprise=binding.enterprise)
    return SharedFactsOut.of(binding, facts)


@router.post(
    "/platform/signing-returns",
    response={201: SigningReturnOut},
    summary="Platforms: send the person back here, with a signed state, after they sign",
)
def create_signing_return(
    request: HttpRequest, payload: SigningReturnIn
) -> Status[SigningReturnOut]:
    binding = _platform_binding(request)
    found = returns.request_return(
        binding=binding,
        contract_id=payload.contract_id,
        return_url=payload.return_url,
        state=payload.state,
    )
    url = request.build_absolute_uri(reverse("oauth2_provider:signing_return", args=[found.id]))
    return Status(201, SigningReturnOut.of(found, url))
