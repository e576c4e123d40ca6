"""Business platforms registered by the back office as OAuth 2.0 clients (SPEC B6).

A platform is a confidential client (it keeps its secret on its server) of the
authorization-code grant only, with PKCE required by the server's settings; its redirect
URIs are matched exactly. No self-service registration: the back office vets platforms.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import transaction
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application
from oauth2_provider.settings import oauth2_settings

from portsign.common.audit import record_event
from portsign.common.errors import Invalid, NotFound
from portsign.common.text import clean_text
from portsign.integrations.domain.returns import return_secret


@dataclass(frozen=True)
class RegisteredClient:
    application: Application
    client_secret: str  # shown once: DOT keeps only its hash
    return_secret: str


def _clean_redirect_uris(uris: list[str]) -> str:
    schemes: list[str] = oauth2_settings.ALLOWED_REDIRECT_URI_SCHEMES
    for uri in uris:
        parts = urlsplit(uri)
        if parts.scheme not in schemes or not parts.netloc or parts.fragment:
            raise Invalid(
                _("Not a usable redirect URI: %(uri)s") % {"uri": uri},
                code="redirect_uri_invalid",
            )
    if not uris:
        raise Invalid(_("Give at least one redirect URI."), code="redirect_uri_invalid")
    return " ".join(uris)


@transaction.atomic
def register_client(*, name: str, redirect_uris: list[str]) -> RegisteredClient:
    secret = generate_client_secret()
    application = Application.objects.create(
        name=clean_text(
            name,
            field="name",
            min_length=1,
            max_length=100,
            message=_("The platform's name has 1 to 100 characters."),
            code="name_invalid",
        ),
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=_clean_redirect_uris(redirect_uris),
        client_secret=secret,
        skip_authorization=False,
    )
    record_event(
        action="oauth_client.registered",
        object_type="oauth_client",
        object_id=application.client_id,
        data={"name": application.name, "redirect_uris": application.redirect_uris},
    )
    return RegisteredClient(application, secret, return_secret(application))


@transaction.atomic
def remove_client(*, client_id: str) -> None:
    """The platform stops: its bindings' tokens go with it (CASCADE)."""
    deleted, _rows = Application.objects.filter(client_id=client_id).delete()
    if not deleted:
        raise NotFound()
    record_event(action="oauth_client.removed", object_type="oauth_client", object_id=client_id)
