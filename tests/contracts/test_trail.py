"""The contract trail in words (issue 13 item 9)."""

from __future__ import annotations

from django.utils import timezone

from portsign.common.models import AuditEvent
from portsign.contracts.domain.trail import describe


def _event(action: str, actor_id: str = "", acting_as: str = "") -> AuditEvent:
    return AuditEvent(at=timezone.now(), action=action, actor_id=actor_id, acting_as=acting_as)


def test_each_event_says_who_acted_for_whom_and_what(alice, acme):
    lines = describe(
        [
            _event("contract.party_signed", alice.user.id, acme.id),
            _event("contract.created", alice.user.id),
            _event("contract.completed"),
            _event("contract.something_new", "01NOSUCHUSER00000000000000"),
        ]
    )
    assert [(line.who, line.what) for line in lines] == [
        (f"Alice Test（代表 {acme.name}）", "签署"),
        ("Alice Test", "创建了草稿"),
        ("港签 PortSign", "各方均已签署，合同完成"),
        ("已注销的用户", "contract.something_new"),  # no label: the code, nothing hidden
    ]
