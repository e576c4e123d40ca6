"""What a platform's OAuth access token may do, and as whom (SPEC B6).

The token acts as the person who bound the platform — but only for the one identity they
chose on the consent page: the bound enterprise, or themselves for a personal binding. So,
on top of every endpoint's own permission and tenancy checks:

* an allow-list of routes, failing closed like the API keys' (rules.py): the binding's shared
  facts (GET /platform/binding: exactly what the consent page listed — not /me, which names
  every enterprise of the person and their full phone and e-mail), reading the bound
  identity's contracts, verifying files, and asking to be sent back after signing. Never
  signing (the person signs on PortSign's own page with their own code), never the personal
  routes (/me…, /auth, tokens, bindings), never an enterprise's administration;
* `acting_as` (query or JSON body) must be the bound identity, else 403; a route that acts
  as an identity must name it;
* an object of another identity is 404 as for a stranger: another enterprise's path, or a
  contract the bound identity is neither sender nor party of (GET /contracts/{id} itself sees
  across all the person's identities).
"""

from __future__ import annotations

import json
import re

from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _

from portsign.common.errors import Forbidden, NotFound
from portsign.integrations.models import Binding
from portsign.integrations.rules import API_ROOT

_READ = frozenset({"GET", "HEAD", "OPTIONS"})
_ID = r"[^/]+"
_NEVER = re.compile(rf"/contracts/{_ID}/(sign|approvals)(/.*)?")
# (methods, path pattern, must the request name its acting_as)
_ALLOWED: tuple[tuple[frozenset[str], re.Pattern[str], bool], ...] = (
    (_READ, re.compile(r"/platform/binding/?"), False),
    (_READ, re.compile(r"/contracts/?"), True),
    (_READ, re.compile(rf"/contracts/(?P<contract>{_ID})(/.*)?"), False),
    (frozenset({"POST"}), re.compile(r"/verify/?"), False),
    (frozenset({"POST"}), re.compile(r"/platform/signing-returns/?"), False),
)


def bound_identity(binding: Binding) -> str:
    return binding.enterprise_id or "personal"


def _out_of_reach(method: str) -> Forbidden:
    return Forbidden(
        _("A platform binding does not allow %(method)s on this path.") % {"method": method},
        code="binding_scope",
    )


def _acting_as(request: HttpRequest) -> str | None:
    if "acting_as" in request.GET:
        return request.GET["acting_as"]
    if request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except ValueError:
            return None  # the endpoint answers the malformed body itself
        if isinstance(body, dict) and isinstance(body.get("acting_as"), str):
            return str(body["acting_as"])
    return None


def require_within_binding(*, binding: Binding, request: HttpRequest) -> None:
    """Raise Forbidden (403) or NotFound (404) unless *binding* covers this request."""
    method, path = (request.method or "").upper(), request.path
    if not path.startswith(API_ROOT + "/"):
        raise _out_of_reach(method)
    inner = path[len(API_ROOT) :]
    if _NEVER.fullmatch(inner):
        raise _out_of_reach(method)
    for methods, pattern, names_identity in _ALLOWED:
        match = pattern.fullmatch(inner)
        if match is None or method not in methods:
            continue
        _check_identity(binding, _acting_as(request), required=names_identity)
        _check_objects(binding, match.groupdict())
        return
    raise _out_of_reach(method)


def _check_identity(binding: Binding, acting_as: str | None, *, required: bool) -> None:
    identity = bound_identity(binding)
    named = acting_as if acting_as not in (None, "") else None
    if named is None and not required:
        return
    if (named or "personal") != identity:
        raise Forbidden(
            _("This platform is bound to act as %(identity)s only: send acting_as=%(identity)s.")
            % {"identity": identity},
            code="binding_identity",
        )


def _check_objects(binding: Binding, ids: dict[str, str | None]) -> None:
    contract_id = ids.get("contract")
    if contract_id is not None and not _contract_of_identity(binding, contract_id):
        raise NotFound()


def _contract_of_identity(binding: Binding, contract_id: str) -> bool:
    # Read-only use of the contracts app's models: the bound identity as sender or party.
    from portsign.contracts.models import Contract

    if binding.enterprise_id:
        mine = Q(sender_enterprise_id=binding.enterprise_id) | Q(
            parties__enterprise_id=binding.enterprise_id
        )
    else:
        mine = Q(sender_id=binding.user_id, sender_enterprise__isnull=True) | Q(
            parties__user_id=binding.user_id, parties__kind="person"
        )
    return Contract.objects.filter(mine, pk=contract_id).exists()
