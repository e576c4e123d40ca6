"""Whose wallet a caller may read or recharge. Tenancy first: another enterprise's wallet or
order is a 404 (DESIGN rule 4)."""

from __future__ import annotations

from portsign.accounts.models import User
from portsign.billing.domain.quotas import wallet_of_enterprise, wallet_of_user
from portsign.billing.models import Order, Wallet
from portsign.common.errors import NotFound
from portsign.enterprises.enums import Permission
from portsign.enterprises.rules import enterprise_for, membership_of


def readable_wallet(*, actor: User, enterprise_id: str = "") -> Wallet:
    """An enterprise's wallet for any of its members; without an enterprise, the caller's own."""
    if not enterprise_id:
        return wallet_of_user(actor.id)
    membership_of(user=actor, enterprise_id=enterprise_id)
    return wallet_of_enterprise(enterprise_id)


def managed_wallet(*, actor: User, enterprise_id: str = "") -> Wallet:
    """A wallet the caller may recharge and ask invoices for: administrators (管理企业信息)."""
    if not enterprise_id:
        return wallet_of_user(actor.id)
    enterprise_for(user=actor, enterprise_id=enterprise_id, permission=Permission.MANAGE_ENTERPRISE)
    return wallet_of_enterprise(enterprise_id)


def order_of(*, actor: User, order_id: str, lock: bool = False) -> Order:
    rows = Order.objects.select_related("wallet", "wallet__enterprise", "package")
    if lock:
        rows = rows.select_for_update(of=("self",))
    order = rows.filter(pk=order_id).first()
    if order is None:
        raise NotFound()
    wallet = order.wallet
    if wallet.user_id:
        if wallet.user_id != actor.id:
            raise NotFound()
    else:
        assert wallet.enterprise_id
        managed_wallet(actor=actor, enterprise_id=wallet.enterprise_id)
    return order
