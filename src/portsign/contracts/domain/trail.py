"""A contract's audit trail in words (issue 13 item 9): who acted, for whom, and what they did.

The audit log keeps machine codes (`contract.party_signed`, and the enterprise acted for as an
id); people read "Alice Test (for Acme Port Logistics) signed". One table of labels for the
console and the evidence report; an action without a label shows its code, so nothing is
hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portsign.accounts.models import User
from portsign.common.models import AuditEvent
from portsign.enterprises.models import Enterprise

LABELS: dict[str, Promise] = {
    "contract.created": gettext_lazy("created the draft"),
    "contract.created_from_template": gettext_lazy("created the contract from a template"),
    "contract.party_added": gettext_lazy("added a signing party"),
    "contract.party_removed": gettext_lazy("removed a signing party"),
    "contract.attachment_added": gettext_lazy("added an attachment"),
    "contract.fields_filled": gettext_lazy("filled in the contract's fields"),
    "contract.signing": gettext_lazy("sent the contract for signing"),
    "contract.intent_confirmed": gettext_lazy("confirmed the intent to sign on a phone"),
    "contract.intent_face_passed": gettext_lazy("confirmed the intent to sign by a face check"),
    "contract.intent_face_failed": gettext_lazy("failed the face check to confirm signing"),
    "contract.party_signed": gettext_lazy("signed"),
    "contract.evidence_package": gettext_lazy("downloaded the evidence package"),
    "contract.area_added": gettext_lazy("drew a signing area"),
    "contract.area_removed": gettext_lazy("removed a signing area"),
    "contract.party_signed_act": gettext_lazy("signed (one act; the party may sign again)"),
    "contract.party_finished": gettext_lazy("finished signing for the party"),
    "contract.completed": gettext_lazy("completed the contract: every party has signed"),
    "contract.rejected": gettext_lazy("rejected the contract"),
    "contract.revoked": gettext_lazy("revoked the contract"),
    "contract.expired": gettext_lazy("the deadline passed unsigned"),
    "contract.void_proposed": gettext_lazy("proposed voiding the contract"),
    "contract.voided": gettext_lazy("the contract is void"),
    "contract.reminded": gettext_lazy("reminded the parties to sign"),
    "contract.auto_reminded": gettext_lazy("reminded the parties before the deadline"),
    "contract.deadline_changed": gettext_lazy("changed the signing deadline"),
    "contract.evidence_report": gettext_lazy("produced the evidence report"),
}


@dataclass(frozen=True)
class TrailLine:
    at: dt.datetime
    who: str  # "Alice Test (for Acme …)", or "PortSign" for the platform's own acts
    what: str
    action: str  # the audit code, for those who want it
    ip: str


def describe(events: list[AuditEvent]) -> list[TrailLine]:
    """The events in words, in the current language (two queries for every name)."""
    users = {
        u.id: u.name for u in User.objects.filter(pk__in={e.actor_id for e in events if e.actor_id})
    }
    enterprises = {
        e.id: e.name
        for e in Enterprise.objects.filter(pk__in={e.acting_as for e in events if e.acting_as})
    }
    lines = []
    for event in events:
        label = LABELS.get(event.action)
        lines.append(
            TrailLine(
                at=event.at,
                who=_who(event, users, enterprises),
                what=str(label) if label is not None else event.action,
                action=event.action,
                ip=event.ip,
            )
        )
    return lines


def _who(event: AuditEvent, users: dict[str, str], enterprises: dict[str, str]) -> str:
    if not event.actor_id:
        return _("PortSign")
    name = users.get(event.actor_id, _("a former user"))
    enterprise = enterprises.get(event.acting_as)
    if enterprise is None:
        return name
    return _("%(name)s (for %(enterprise)s)") % {"name": name, "enterprise": enterprise}
