"""Enterprise console forms: each calls its domain action and reports the outcome."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from portsign.enterprises.models import Membership, Role
from tests.helpers import give_materials, make_enterprise, outbox, verify_person


def _web(person) -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    return client


def _flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def bob_in_acme(acme, bob):
    verify_person(bob, 2)
    return Membership.objects.create(
        enterprise=acme, user=bob.user, role=Role.objects.get(enterprise=acme, key="member")
    )


def test_detail_is_404_for_outsiders(acme, bob):
    assert _web(bob).get(f"/console/enterprise/{acme.id}/").status_code == 404


def test_invite_remove_and_hand_over(acme, alice, bob, bob_in_acme):
    web = _web(alice)
    invited = web.post(f"/console/enterprise/{acme.id}/invite/", {"account": "13800000066"})
    assert invited["Location"] == f"/console/enterprise/{acme.id}/#members"
    assert _flash(invited) == ["邀请已发送。"]
    assert outbox("+8613800000066")[-1].data["url"].startswith("http")

    handed = web.post(f"/console/enterprise/{acme.id}/main-admin/", {"member_id": bob_in_acme.id})
    acme.refresh_from_db()
    assert acme.main_admin_id == bob.user.id
    assert _flash(handed)[-1] == "主管理员身份已移交。"

    refused = web.post(f"/console/enterprise/{acme.id}/members/{bob_in_acme.id}/remove/")
    assert _flash(refused)[-1].startswith("主管理员")
    assert Membership.objects.filter(pk=bob_in_acme.pk).exists()


def test_deposit_forms(alice):
    draft = make_enterprise(alice, "Form Test Co., Ltd.", 9, verified=False)
    give_materials(alice, draft, 9)
    web = _web(alice)
    web.post(
        f"/console/enterprise/{draft.id}/verification/start/",
        {"method": "micro_deposit", "bank_name": "Test Bank", "bank_account": "6222000099"},
    )
    wrong = web.post(f"/console/enterprise/{draft.id}/verification/confirm/", {"amount": "1.00"})
    assert "2" in _flash(wrong)[-1]
    amount = outbox("6222000099")[-1].data["amount"]
    done = web.post(f"/console/enterprise/{draft.id}/verification/confirm/", {"amount": amount})
    draft.refresh_from_db()
    assert draft.status == "verified"
    assert done["Location"].endswith("#verification")


def test_role_forms(acme, alice):
    web = _web(alice)
    web.post(
        f"/console/enterprise/{acme.id}/roles/",
        {"name": "Clerk", "permissions": ["view_contracts", "send_contracts"]},
    )
    role = Role.objects.get(enterprise=acme, name="Clerk")
    assert role.permissions == ["send_contracts", "view_contracts"]
    web.post(f"/console/enterprise/{acme.id}/roles/{role.id}/delete/")
    assert not Role.objects.filter(pk=role.pk).exists()
    assert web.post(f"/console/enterprise/{acme.id}/roles/nope/delete/").status_code == 404


def test_lapsed_enterprise_page_still_opens_for_its_admin(alice):
    from datetime import timedelta

    from django.utils import timezone

    from portsign.enterprises.domain.enterprises import expire_overdue
    from portsign.enterprises.models import Enterprise

    draft = make_enterprise(alice, "Lapsed Co., Ltd.", 10, verified=False)
    Enterprise.objects.filter(pk=draft.id).update(
        materials_deadline=timezone.now() - timedelta(days=1)
    )
    assert expire_overdue() == 1
    page = _web(alice).get(f"/console/enterprise/{draft.id}/")
    assert page.status_code == 200
    assert 'data-testid="enterprise-status"' in page.content.decode()
    assert "deposit-start" not in page.content.decode()
