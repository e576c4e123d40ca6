"""Billing listens to the events it charges for; no other app imports billing."""

from __future__ import annotations

from portsign.accounts.domain import realname
from portsign.billing.domain import quotas
from portsign.contracts import events
from portsign.contracts.events import ContractEvent
from portsign.enterprises.domain import enterprises


def on_contract_event(event: ContractEvent) -> None:
    if event.name == "sent":
        quotas.charge_contract(event.contract)
    elif event.name == "revoked":
        quotas.return_contract(event.contract)


events.listen(on_contract_event)
enterprises.on_verified(quotas.grant_enterprise)
realname.on_verified(quotas.grant_person)
