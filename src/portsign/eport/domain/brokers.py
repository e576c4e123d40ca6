"""Customs brokers (报关企业, EPORT.md §4.2): an enterprise files 报关单位信息登记 with the
brokers association (an authority of kind `association`); once approved it is a registered
broker, found by consignors and able to initiate or confirm declaration entrustments."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from portsign.common.audit import record_event
from portsign.common.errors import NotFound
from portsign.eport.enums import FilingKind, FilingStatus
from portsign.eport.models import Broker, Filing

SEARCH_LIMIT = 20


def on_decided(filing: Filing) -> None:
    """An approved registration makes the enterprise a broker (in the decision's transaction)."""
    if filing.kind != FilingKind.BROKER_REGISTRATION or filing.status != FilingStatus.APPROVED:
        return
    broker, _created = Broker.objects.update_or_create(
        enterprise=filing.enterprise,
        defaults={
            "customs_code": filing.data["customs_code"],
            "organization_code": filing.enterprise.uscc[8:17],
            "filing": filing,
        },
    )
    record_event(
        action="eport.broker_registered",
        actor_id=filing.decided_by_id or "",
        acting_as=filing.enterprise_id,
        object_type="eport_filing",
        object_id=filing.id,
        data={"customs_code": broker.customs_code},
    )


def search(query: str) -> list[Broker]:
    """By customs code, organization code (or the USCC holding it), or part of the name."""
    text = query.strip()[:100]
    if len(text) < 2:
        return []
    code = text.upper()
    found = Broker.objects.select_related("enterprise").filter(
        Q(customs_code=code)
        | Q(organization_code=code)
        | Q(enterprise__uscc=code)
        | Q(enterprise__name__icontains=text)
    )
    return list(found.order_by("customs_code")[:SEARCH_LIMIT])


def registered(enterprise_id: str) -> Broker:
    """The registered broker, or 404: an unregistered enterprise is no broker to anyone."""
    broker = Broker.objects.select_related("enterprise").filter(pk=enterprise_id).first()
    if broker is None:
        raise NotFound(_("No registered customs broker has this id."))
    return broker


def is_broker(enterprise_id: str) -> bool:
    return Broker.objects.filter(pk=enterprise_id).exists()
