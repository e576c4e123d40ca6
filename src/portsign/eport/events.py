"""E-Port events for other apps (webhooks): emitted inside the change's transaction.

Listeners must only queue work (an outbox row sent after commit), like contract events. Each
event goes to one enterprise's endpoints with a body the E-Port app writes (`{"filing": …}`,
`{"agreement": …}`, `{"entrustment": …}`); an entrustment event goes to both of its parties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portsign.eport.models import Filing

APPROVED = "eport.filing.approved"
RETURNED = "eport.filing.returned"
AGREEMENT_SIGNED = "eport.agreement.signed"
AGREEMENT_RECEIVED = "eport.agreement.received"
AGREEMENT_APPROVED = "eport.agreement.approved"
AGREEMENT_RETURNED = "eport.agreement.returned"
AGREEMENT_TERMINATED = "eport.agreement.terminated"
ENTRUSTMENT_CREATED = "eport.entrustment.created"
ENTRUSTMENT_EFFECTIVE = "eport.entrustment.effective"
ENTRUSTMENT_REFUSED = "eport.entrustment.refused"
ENTRUSTMENT_REVOKED = "eport.entrustment.revoked"
ENTRUSTMENT_EXPIRED = "eport.entrustment.expired"
EVENTS = (
    APPROVED,
    RETURNED,
    AGREEMENT_SIGNED,
    AGREEMENT_RECEIVED,
    AGREEMENT_APPROVED,
    AGREEMENT_RETURNED,
    AGREEMENT_TERMINATED,
    ENTRUSTMENT_CREATED,
    ENTRUSTMENT_EFFECTIVE,
    ENTRUSTMENT_REFUSED,
    ENTRUSTMENT_REVOKED,
    ENTRUSTMENT_EXPIRED,
)

# (event name, the enterprise whose endpoints hear it, the body under "event"/"created_at")
Listener = Callable[[str, str, dict[str, Any]], None]
_LISTENERS: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def publish(name: str, enterprise_ids: list[str], body: dict[str, Any]) -> None:
    for enterprise_id in dict.fromkeys(enterprise_ids):
        for listener in list(_LISTENERS):
            listener(name, enterprise_id, body)


def filing_decided(filing: Filing) -> None:
    name = APPROVED if filing.status == "approved" else RETURNED
    body = {
        "filing": {
            "id": filing.id,
            "kind": filing.kind,
            "status": filing.status,
            "opinion": filing.opinion,
            "auto_approved": filing.auto_approved,
            "enterprise": {"id": filing.enterprise_id, "name": filing.enterprise.name},
            "authority": {"code": filing.authority.code, "name": filing.authority.name},
        }
    }
    publish(name, [filing.enterprise_id], body)
