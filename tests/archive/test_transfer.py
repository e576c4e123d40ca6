"""One-click transfer (一键转交, SPEC B5; seed 000 lists 档案柜): the items a departing member
filed go to the successor, one `item.transferred` audit event each."""

from __future__ import annotations

from portsign.archive.models import ArchivedContract
from portsign.common.models import AuditEvent
from portsign.enterprises import transfer
from tests.archive.conftest import filed
from tests.helpers import error_code, make_person
from tests.seals.conftest import add_member


def test_the_departing_members_items_move_to_the_successor(alice, bob, acme, globex):
    assert "archive" in transfer.kinds()
    dave = make_person("+8613800000004", "Dave Test")
    member = add_member(acme, dave, "signer")
    erin = make_person("+8613800000005", "Erin Test")
    successor = add_member(acme, erin, "signer")
    mine = [filed(dave, acme.id, title=f"线下合同{n}")["id"] for n in range(2)]
    deleted = filed(dave, acme.id, title="已删除")["id"]
    assert dave.api.delete(f"/archive/{deleted}").status_code == 204
    others = filed(alice, acme.id)["id"]
    add_member(globex, dave, "signer")
    elsewhere = filed(dave, globex.id)["id"]  # the same person in another enterprise

    refused = alice.api.delete(f"/enterprises/{acme.id}/members/{member.id}")
    assert (refused.status_code, error_code(refused)) == (409, "member_owns_items")
    assert refused.json()["error"]["fields"]["items"] == {"archive": 2}

    moved = alice.api.post(
        f"/enterprises/{acme.id}/members/{member.id}/transfer",
        {
            "to_member_id": acme.memberships.get(user=alice.user).id,
            "targets": {"archive": successor.id},
        },
    )
    assert moved.status_code == 200, moved.content
    assert sorted(moved.json()["archive"]) == sorted(mine)
    uploader = dict(ArchivedContract.objects.values_list("id", "uploaded_by"))
    assert {uploader[i] for i in mine} == {erin.user.id}
    assert (uploader[deleted], uploader[others], uploader[elsewhere]) == (
        dave.user.id,
        alice.user.id,
        dave.user.id,
    )
    events = AuditEvent.objects.filter(action="item.transferred", object_type="archive")
    assert sorted(events.values_list("object_id", flat=True)) == sorted(mine)
    assert {e.data["to"] for e in events} == {erin.user.id}
    assert erin.api.get(f"/archive/{mine[0]}").json()["uploaded_by"] == erin.user.id
    assert alice.api.delete(f"/enterprises/{acme.id}/members/{member.id}").status_code == 204
    assert dave.api.get(f"/archive/{mine[0]}").status_code == 404
