"""Which requests an API key's scopes open, by method and path.

A key's role permissions are the first line: each endpoint checks them as for any member, and
tenancy makes another enterprise's objects a 404. This table is the second. It exists because
the permissions are coarser than the scopes: webhooks need `manage_enterprise`, which also
opens enterprise verification, certificates and E-Port filings; and a key's service account
must never use the personal routes (/me, /auth, join requests, invitations), which could
verify it as a person or sign it up elsewhere. An allow-list fails closed: a new route is out
of every key's reach until a scope names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from portsign.common.errors import Forbidden
from portsign.integrations.enums import ApiKeyScope

API_ROOT = "/api/v1"
_READ = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE = _READ | {"POST", "PUT", "PATCH", "DELETE"}
_ID = r"[^/]+"


@dataclass(frozen=True)
class PathRule:
    methods: frozenset[str]
    pattern: re.Pattern[str]

    def allows(self, method: str, path: str) -> bool:
        return method in self.methods and self.pattern.fullmatch(path) is not None


def _rule(methods: frozenset[str], pattern: str) -> PathRule:
    return PathRule(methods, re.compile(pattern + "/?"))


# Signing is a person's act with their own intent check; no scope reaches it.
_NEVER = (re.compile(rf"/contracts/{_ID}/sign(/.*)?"), re.compile(r"/signing-batches(/.*)?"))
# Every key may ask who it is and read its enterprise (GET /me?acting_as=…), and verify files.
_EVERY_KEY = (
    _rule(_READ, r"/me"),
    _rule(_READ, rf"/enterprises/{_ID}"),
    _rule(_WRITE, r"/verify"),
)
_CATALOGUE = _rule(_READ, rf"/enterprises/{_ID}/(contract-types|business-fields)")
# What is left to send, and what sending used: an integrator checks before a batch.
_QUOTA = _rule(_READ, rf"/enterprises/{_ID}/(quota|usage|usage/chart)")
SCOPE_PATHS: dict[str, tuple[PathRule, ...]] = {
    ApiKeyScope.CONTRACTS_READ: (
        _rule(_READ, r"/contracts(/.*)?"),
        _rule(_READ, r"/templates(/.*)?"),
        _rule(_READ, r"/bulk-sends(/.*)?"),
        _CATALOGUE,
        _QUOTA,
    ),
    ApiKeyScope.CONTRACTS_WRITE: (
        _rule(_WRITE, r"/contracts(/.*)?"),
        _rule(_WRITE, r"/templates(/.*)?"),
        _rule(_WRITE, r"/bulk-sends(/.*)?"),
        _rule(_WRITE, r"/conversions(/.*)?"),
        _CATALOGUE,
        _QUOTA,
    ),
    ApiKeyScope.WEBHOOKS: (
        _rule(_WRITE, rf"/enterprises/{_ID}/webhooks"),
        _rule(_WRITE, r"/webhooks(/.*)?"),
    ),
}


def in_scope(*, scopes: Iterable[str], method: str, path: str) -> bool:
    """Whether a key with *scopes* may send *method* to *path* (a full /api/v1/… path)."""
    if not path.startswith(API_ROOT + "/"):
        return False
    inner = path[len(API_ROOT) :]
    if any(pattern.fullmatch(inner) for pattern in _NEVER):
        return False
    rules = [*_EVERY_KEY, *(rule for scope in scopes for rule in SCOPE_PATHS.get(scope, ()))]
    return any(rule.allows(method.upper(), inner) for rule in rules)


def require_in_scope(*, scopes: Iterable[str], method: str, path: str) -> None:
    if not in_scope(scopes=scopes, method=method, path=path):
        raise Forbidden(
            _("This API key's scopes do not allow %(method)s %(path)s.")
            % {"method": method.upper(), "path": path},
            code="api_key_scope",
        )
