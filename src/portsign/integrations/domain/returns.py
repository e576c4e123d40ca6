"""Sending the person back to the calling platform after signing (seed 002, SPEC B6).

The platform asks first, with its token (POST /api/v1/platform/signing-returns): which
contract, where to return (an address on one of its registered redirect URIs' origins, so
PortSign is nobody's open redirect) and an opaque `state`. The person signs on PortSign's
own contract page, then follows /oauth/return/<id>/, which redirects to

    return_url?contract_id=<id>&state=<state>&sig=<hex HMAC-SHA256(return secret,
                                                      "<contract_id>|<state>")>

only once that person has signed the contract for the bound identity. The return secret is
per client, derived from the server's secret and the client id (so it is never stored), and
printed by `portsign oauth-client add`; the platform recomputes `sig` and compares it in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import Application

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Invalid, NotFound
from portsign.integrations.models import Binding, SigningReturn

STATE_MAX = 200


def return_secret(application: Application) -> str:
    """The key the platform checks `sig` with (hex, 64 characters)."""
    material = f"portsign.oauth.return|{application.client_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), material, hashlib.sha256).hexdigest()


def return_signature(*, application: Application, contract_id: str, state: str) -> str:
    key = bytes.fromhex(return_secret(application))
    return hmac.new(key, f"{contract_id}|{state}".encode(), hashlib.sha256).hexdigest()


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _check_return_url(application: Application, url: str) -> None:
    allowed = {_origin(uri) for uri in application.redirect_uris.split()}
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or _origin(url) not in allowed or parts.fragment:
        message = _("The return URL must be on the origin of one of the platform's redirect URIs.")
        raise Invalid(message, code="return_url_invalid", fields={"return_url": message})


def _signed_by_person(binding: Binding) -> Q:
    """A party of the bound identity that this person signed (one join: same party row)."""
    if binding.enterprise_id:
        return Q(
            parties__enterprise_id=binding.enterprise_id,
            parties__signed_by=binding.user,
            parties__status="signed",
        )
    return Q(parties__user=binding.user, parties__kind="person", parties__status="signed")


def request_return(
    *, binding: Binding, contract_id: str, return_url: str, state: str
) -> SigningReturn:
    """Record where to send the person after they sign *contract_id* (404 unless the bound
    identity is a party of it)."""
    from portsign.contracts.models import Contract

    _check_return_url(binding.application, return_url)
    if len(state) > STATE_MAX:
        message = _("The state has at most %(n)d characters.") % {"n": STATE_MAX}
        raise Invalid(message, code="state_too_long", fields={"state": message})
    party = (
        Q(parties__enterprise_id=binding.enterprise_id)
        if binding.enterprise_id
        else Q(parties__user=binding.user, parties__kind="person")
    )
    if not Contract.objects.filter(party, pk=contract_id).exists():
        raise NotFound()
    return SigningReturn.objects.create(
        binding=binding, contract_id=contract_id, return_url=return_url, state=state
    )


def return_target(*, user: User, return_id: str) -> str:
    """The signed URL to send *user* back to; 404 if the return is not theirs or its binding
    ended, 409 while they have not signed the contract."""
    from portsign.contracts.models import Contract

    found = (
        SigningReturn.objects.select_related("binding__application")
        .filter(pk=return_id, binding__user=user, binding__revoked_at__isnull=True)
        .first()
    )
    if found is None:
        raise NotFound()
    binding = found.binding
    signed = Contract.objects.filter(_signed_by_person(binding), pk=found.contract_id)
    if not signed.exists():
        raise Conflict(
            _("Sign the contract first; then you are taken back to the platform."),
            code="not_signed",
            fields={"contract_id": found.contract_id},
        )
    SigningReturn.objects.filter(pk=found.pk, returned_at__isnull=True).update(
        returned_at=timezone.now()
    )
    record_event(
        action="binding.returned",
        actor_id=user.id,
        acting_as=binding.enterprise_id or "",
        object_type="contract",
        object_id=found.contract_id,
        data={"binding": binding.id, "application": binding.application.client_id},
    )
    return _with_query(found, binding.application)


def _with_query(found: SigningReturn, application: Application) -> str:
    sig = return_signature(
        application=application, contract_id=found.contract_id, state=found.state
    )
    parts = urlsplit(found.return_url)
    extra = urlencode({"contract_id": found.contract_id, "state": found.state, "sig": sig})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
