"""The archive cabinet plugs into one-click transfer (一键转交, SPEC B5; 000 lists 档案柜 among
what is handed over): the items a departing member filed go to the successor, who answers for
them from then on. Deleted items keep their uploader: they are history, not work."""

from __future__ import annotations

from django.db.models import QuerySet

from portsign.archive.domain.items import OBJECT_TYPE
from portsign.archive.models import ArchivedContract
from portsign.enterprises.models import Membership
from portsign.enterprises.transfer import Transferable, register


def _filed(member: Membership) -> QuerySet[ArchivedContract]:
    return ArchivedContract.objects.filter(
        enterprise_id=member.enterprise_id, uploaded_by_id=member.user_id, deleted_at__isnull=True
    )


def _count(member: Membership) -> int:
    return _filed(member).count()


def _move(source: Membership, target: Membership, actor_id: str) -> list[str]:
    ids = list(_filed(source).values_list("id", flat=True))
    ArchivedContract.objects.filter(pk__in=ids).update(uploaded_by_id=target.user_id)
    return ids


register(Transferable(kind=OBJECT_TYPE, count=_count, move=_move))
