"""Enterprise API keys: created, listed and revoked by an administrator (API.md, SPEC B6).

Managing keys needs `manage_members`: a key is a member of the enterprise (its service
account), and the administrator who handles people's arrivals and departures handles the
keys'. A key's own role never has that permission, so a key cannot make or revoke keys.
The raw key is returned once, by the call that made it; only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, Forbidden, Invalid, NotFound
from portsign.common.text import clean_text
from portsign.enterprises.enums import EnterpriseStatus, Permission
from portsign.enterprises.models import Enterprise, Membership, Role
from portsign.enterprises.rules import membership_of, require, require_can_grant
from portsign.integrations.enums import SCOPE_PERMISSIONS, ApiKeyScope
from portsign.integrations.models import ApiKey

KEY_PREFIX = "psk_"  # a public marker, not a secret (personal tokens are pst_)
PREFIX_LENGTH = 12
# Service accounts get an address in the reserved .invalid domain (RFC 2606): no mail reaches
# it and nobody can register it, so it can never receive a sign-in code.
SERVICE_DOMAIN = "keys.portsign.invalid"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _administrator(actor: User, enterprise_id: str) -> Membership:
    """The actor's membership, which must allow managing members (404 outside it)."""
    membership = membership_of(user=actor, enterprise_id=enterprise_id)
    if ApiKey.objects.filter(user=actor).exists():
        # Belt and braces: a key's role never has manage_members, and rules.SCOPE_PATHS
        # keeps keys off these routes; this holds even if someone widened the key's role.
        raise Forbidden(_("An API key cannot manage API keys."), code="permission_denied")
    require(membership, Permission.MANAGE_MEMBERS)
    return membership


def clean_scopes(raw: Iterable[str]) -> list[str]:
    """The scopes in canonical order; unknown names, or none at all, are 400 naming them."""
    wanted = set(raw)
    unknown = sorted(wanted - set(ApiKeyScope.values))
    if unknown or not wanted:
        choices = ", ".join(ApiKeyScope.values)
        message = (
            _("Unknown scopes: %(unknown)s. Choose from: %(choices)s.")
            % {"unknown": ", ".join(unknown), "choices": choices}
            if unknown
            else _("Choose one or more scopes: %(choices)s.") % {"choices": choices}
        )
        raise Invalid(message, code="scope_invalid", fields={"scopes": message})
    return [scope for scope in ApiKeyScope.values if scope in wanted]


def permissions_for(scopes: Iterable[str]) -> list[str]:
    """The role permissions that *scopes* grant, sorted."""
    return sorted({p for scope in scopes for p in SCOPE_PERMISSIONS[scope]})


def _clean_name(raw: str) -> str:
    return clean_text(
        raw,
        field="name",
        min_length=1,
        max_length=40,
        code="api_key_name_invalid",
        message=_("A key name has 1 to 40 characters."),
    )


def create_key(
    *, actor: User, enterprise_id: str, name: str, scopes: Iterable[str]
) -> tuple[ApiKey, str]:
    """A new key and its raw value, which is not shown again."""
    granter = _administrator(actor, enterprise_id)
    clean_name, clean = _clean_name(name), clean_scopes(scopes)
    permissions = permissions_for(clean)
    require_can_grant(granter, permissions)  # nobody hands a key more than they hold
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        enterprise = _locked_below_limit(granter.enterprise)
        key = ApiKey(
            enterprise=enterprise,
            name=clean_name,
            scopes=clean,
            key_hash=digest(raw),
            prefix=raw[:PREFIX_LENGTH],
            created_by=actor,
        )
        key.user = _service_account(key)
        _service_membership(key, permissions)
        key.save(force_insert=True)
        _audit(key, actor, "api_key.created", {"name": clean_name, "scopes": clean})
    return key, raw


def _locked_below_limit(enterprise: Enterprise) -> Enterprise:
    """Lock the enterprise row (so the limit holds under concurrency) and check the limit."""
    Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
    active = ApiKey.objects.filter(enterprise=enterprise, revoked_at__isnull=True).count()
    if active >= settings.API_KEY_MAX_PER_ENTERPRISE:
        raise Conflict(
            _("An enterprise has at most %(n)d active API keys. Revoke one first.")
            % {"n": settings.API_KEY_MAX_PER_ENTERPRISE},
            code="api_key_limit",
        )
    return enterprise


def _service_account(key: ApiKey) -> User:
    """The key's own user: it cannot sign in (inactive, no usable password, no phone, an
    address no mail reaches) and is never real-name verified, so it can act for the
    enterprise only through its membership, never as a person."""
    user = User(
        email=f"key-{key.id.lower()}@{SERVICE_DOMAIN}",
        phone=None,
        name=(_("API key: %(name)s") % {"name": key.name})[:50],
        is_active=False,
    )
    user.set_unusable_password()
    user.save(force_insert=True)
    return user


def _service_membership(key: ApiKey, permissions: list[str]) -> Membership:
    role = Role.objects.create(
        enterprise=key.enterprise,
        key=f"apikey-{key.id}",
        # The prefix keeps role names unique however many keys share a name.
        name=_("API key %(prefix)s") % {"prefix": key.prefix},
        builtin=False,
        permissions=permissions,
    )
    return Membership.objects.create(enterprise=key.enterprise, user=key.user, role=role)


def keys_of(*, actor: User, enterprise_id: str) -> QuerySet[ApiKey]:
    """Every key of the enterprise, revoked ones too (they explain the audit trail)."""
    _administrator(actor, enterprise_id)
    return ApiKey.objects.select_related("created_by").filter(enterprise_id=enterprise_id)


def revoke_key(*, actor: User, enterprise_id: str, key_id: str) -> ApiKey:
    """Stop the key at once: the next request with it is 401. Nothing is deleted."""
    _administrator(actor, enterprise_id)
    with transaction.atomic():
        key = (
            ApiKey.objects.select_for_update()
            .filter(pk=key_id, enterprise_id=enterprise_id)
            .first()
        )
        if key is None:
            raise NotFound()
        if key.revoked_at is None:
            key.revoked_at, key.revoked_by = timezone.now(), actor
            key.save(update_fields=["revoked_at", "revoked_by"])
            Membership.objects.filter(enterprise_id=enterprise_id, user_id=key.user_id).update(
                is_active=False
            )
            _audit(key, actor, "api_key.revoked", {"name": key.name})
    return key


def key_for_token(raw: str) -> ApiKey | None:
    """The live key a bearer value names, else None. Reads only: it does not count a use.

    Live: not revoked, its enterprise not lapsed, and its membership still active (an
    administrator who disables the key's member in the member list stops the key too).
    """
    if not raw.startswith(KEY_PREFIX):
        return None
    member = Membership.objects.filter(
        enterprise_id=OuterRef("enterprise_id"), user_id=OuterRef("user_id"), is_active=True
    )
    return (
        ApiKey.objects.select_related("user", "enterprise")
        .filter(Exists(member), key_hash=digest(raw), revoked_at__isnull=True)
        .exclude(enterprise__status=EnterpriseStatus.EXPIRED)
        .first()
    )


def _audit(key: ApiKey, actor: User, action: str, data: dict[str, object]) -> None:
    record_event(
        action=action,
        actor_id=actor.id,
        acting_as=key.enterprise_id,
        object_type="api_key",
        object_id=key.id,
        data={**data, "prefix": key.prefix},
    )
