"""Platform bindings (SPEC B6, seed 000's 账号绑定 and 解除绑定): a person lets a registered
business platform (an OAuth 2.0 client of django-oauth-toolkit) act for them as one of their
enterprises, after reading exactly what is shared and confirming with a one-time code.

The tokens are DOT's own rows for (user, application). They count only while the person's
binding with that platform is live: `binding_for_token` is what the API's bearer
authentication asks, and revoking a binding deletes every token and pending code of the
pair at once, so the platform's next call is a 401.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from portsign.accounts.domain.codes import consume_code, issue_code, mask_address, parse_account
from portsign.accounts.enums import CodePurpose
from portsign.accounts.models import User
from portsign.common.audit import record_event
from portsign.common.errors import Invalid, NotFound
from portsign.enterprises.models import Enterprise, Membership
from portsign.enterprises.rules import membership_of
from portsign.integrations.models import Binding

PERSONAL = "personal"
# There is no binding purpose among the accounts app's codes yet; a signing-confirmation code
# bound to this one consent (person, platform, enterprise) is the closest: it is a signed-in
# person's own code for one act, with the per-act resend interval.
CODE_PURPOSE = CodePurpose.SIGN
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class SharedFacts:
    """What the consent page shows and the platform may then read: nothing more."""

    account: str  # masked phone or e-mail
    name: str
    real_name_verified: bool
    enterprise: Enterprise | None


def choosable_enterprises(*, user: User) -> list[Enterprise]:
    """The enterprises the person may bind a platform to: active memberships of live ones."""
    memberships = (
        Membership.objects.select_related("enterprise")
        .filter(user=user, is_active=True)
        .exclude(enterprise__status="expired")
        .order_by("enterprise__name", "enterprise_id")
    )
    return [m.enterprise for m in memberships]


def chosen_enterprise(*, user: User, choice: str) -> Enterprise | None:
    """*choice* is "personal" or one of the person's enterprise ids (else 404)."""
    if choice in ("", PERSONAL):
        return None
    return membership_of(user=user, enterprise_id=choice).enterprise


def shared_facts(*, user: User, enterprise: Enterprise | None) -> SharedFacts:
    address = user.phone or user.email or ""
    return SharedFacts(
        account=mask_address(address) if address else "",
        name=user.name,
        real_name_verified=user.is_real_name_verified,
        enterprise=enterprise,
    )


def _code_binding(user: User, application: Application, enterprise: Enterprise | None) -> str:
    """The code is good for this one consent only: another enterprise needs another code."""
    what = f"{user.id}|{application.client_id}|{enterprise.id if enterprise else PERSONAL}"
    return "oauth-binding:" + hashlib.sha256(what.encode()).hexdigest()[:32]


def _own_address(user: User) -> str:
    address = user.phone or user.email
    if not address:
        raise Invalid(_("Your account has no mobile number or e-mail for a code."))
    return address


def send_binding_code(
    *, user: User, application: Application, enterprise: Enterprise | None
) -> str:
    """Send the person a code confirming this binding; the masked address it went to."""
    address = _own_address(user)
    issue_code(
        to=address,
        purpose=CODE_PURPOSE,
        binding=_code_binding(user, application, enterprise),
        actor_id=user.id,
    )
    return mask_address(address)


def bind_platform(
    *,
    user: User,
    application: Application,
    enterprise: Enterprise | None,
    scopes: list[str],
    code: str,
) -> Binding:
    """Accept the person's code and record the binding, replacing any earlier one with the
    same platform (whose tokens stop at once)."""
    # Outside the binding's transaction: a wrong guess must stay counted when this raises.
    consume_code(
        account=parse_account(_own_address(user), field="code"),
        purpose=CODE_PURPOSE,
        code=code,
        binding=_code_binding(user, application, enterprise),
    )
    with transaction.atomic():
        return _record_binding(user, application, enterprise, scopes)


def _record_binding(
    user: User, application: Application, enterprise: Enterprise | None, scopes: list[str]
) -> Binding:
    for old in Binding.objects.select_for_update().filter(
        user=user, application=application, revoked_at__isnull=True
    ):
        _revoke(old, actor=user, reason="replaced")
    binding = Binding.objects.create(
        user=user, enterprise=enterprise, application=application, scopes=sorted(scopes)
    )
    record_event(
        action="binding.created",
        actor_id=user.id,
        acting_as=enterprise.id if enterprise else "",
        object_type="binding",
        object_id=binding.id,
        data={"application": application.client_id, "scopes": binding.scopes},
    )
    return binding


def bindings_of(*, user: User) -> QuerySet[Binding]:
    """The person's live bindings, newest first."""
    return Binding.objects.select_related("application", "enterprise").filter(
        user=user, revoked_at__isnull=True
    )


@transaction.atomic
def revoke_binding(*, user: User, binding_id: str) -> Binding:
    """解绑: the binding ends and the platform's tokens with it (someone else's → 404)."""
    binding = (
        Binding.objects.select_for_update()
        .filter(pk=binding_id, user=user, revoked_at__isnull=True)
        .first()
    )
    if binding is None:
        raise NotFound()
    _revoke(binding, actor=user, reason="unbound")
    return binding


def _revoke(binding: Binding, *, actor: User, reason: str) -> None:
    binding.revoked_at = timezone.now()
    binding.save(update_fields=["revoked_at"])
    pair = {"user_id": binding.user_id, "application_id": binding.application_id}
    # Refresh tokens first: deleting an access token leaves its refresh token usable.
    RefreshToken.objects.filter(**pair).delete()
    AccessToken.objects.filter(**pair).delete()
    Grant.objects.filter(**pair).delete()
    record_event(
        action="binding.revoked",
        actor_id=actor.id,
        acting_as=binding.enterprise_id or "",
        object_type="binding",
        object_id=binding.id,
        data={"application": binding.application.client_id, "reason": reason},
    )


def binding_for_token(raw: str) -> Binding | None:
    """The live binding an OAuth access token acts under, or None (→ 401): an unknown or
    expired token, or one whose binding was revoked."""
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    token = (
        AccessToken.objects.select_related("user", "application")
        .filter(token_checksum=checksum)
        .first()
    )
    if token is None or token.user is None or token.is_expired():
        return None
    binding = (
        Binding.objects.select_related("user", "enterprise", "application")
        .filter(user=token.user, application=token.application, revoked_at__isnull=True)
        .first()
    )
    if binding is None or not binding.user.is_active:
        return None
    now = timezone.now()
    if binding.last_used_at is None or now - binding.last_used_at >= TOUCH_INTERVAL:
        Binding.objects.filter(pk=binding.pk).update(last_used_at=now)
        binding.last_used_at = now
    return binding


def clear_expired_tokens() -> int:
    """Expired OAuth grants and tokens, and refresh tokens revoked long enough ago, deleted
    (django-oauth-toolkit's own `clear_expired`, run by `cleanup`); how many rows went."""
    from oauth2_provider.models import AccessToken, Grant, RefreshToken, clear_expired

    def rows() -> int:
        return AccessToken.objects.count() + RefreshToken.objects.count() + Grant.objects.count()

    before = rows()
    clear_expired()
    return before - rows()
