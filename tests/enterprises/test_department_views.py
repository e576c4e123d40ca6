"""The departments console page: administrators create, rename, move, delete departments and
say who belongs; other members only look; outsiders get a 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client

from portsign.enterprises.models import Department, Membership, Role
from portsign.seals.models import Seal

EN = {"Accept-Language": "en"}


def _web(person) -> Client:
    """A signed-in console session in English (the console follows the language cookie, not
    Accept-Language)."""
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _flash(response) -> str:
    """The newest message (earlier ones wait unread: the tests follow no redirect)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1]


def _page(enterprise) -> str:
    return f"/console/enterprise/{enterprise.id}/departments/"


def test_administrators_manage_departments_from_the_console(alice, bob, acme):
    bob_member = Membership.objects.create(
        enterprise=acme, user=bob.user, role=Role.objects.get(enterprise=acme, key="member")
    )
    web = _web(alice)
    detail = web.get(f"/console/enterprise/{acme.id}/")
    assert f'href="{_page(acme)}" data-testid="departments"' in detail.content.decode()

    created = web.post(_page(acme) + "create/", {"name": "操作部", "parent_id": ""}, headers=EN)
    assert created["Location"] == _page(acme)
    assert _flash(created) == "The department was created."
    ops = Department.objects.get(enterprise=acme, name="操作部")
    web.post(_page(acme) + "create/", {"name": "堆场组", "parent_id": ops.id})
    yard = Department.objects.get(enterprise=acme, name="堆场组")
    assert yard.parent_id == ops.id

    added = web.post(f"{_page(acme)}{ops.id}/members/", {"member_id": bob_member.id}, headers=EN)
    assert _flash(added) == "The member was added to the department."
    assert list(ops.members.all()) == [bob_member]
    page = web.get(_page(acme)).content.decode()
    assert 'data-department="操作部"' in page
    assert 'data-testid="department-member-remove"' in page

    renamed = web.post(
        f"{_page(acme)}{yard.id}/", {"name": "堆场一组", "parent_id": ""}, headers=EN
    )
    assert _flash(renamed) == "The department was saved."
    yard.refresh_from_db()
    assert (yard.name, yard.parent_id) == ("堆场一组", None)

    cycle = web.post(f"{_page(acme)}{ops.id}/", {"name": "操作部", "parent_id": ops.id}, headers=EN)
    assert _flash(cycle) == "A department cannot sit inside itself or one of its sub-departments."

    removed = web.post(f"{_page(acme)}{ops.id}/members/{bob_member.id}/remove/", headers=EN)
    assert _flash(removed) == "The member was taken out of the department."
    assert list(ops.members.all()) == []
    deleted = web.post(f"{_page(acme)}{ops.id}/delete/", headers=EN)
    assert _flash(deleted) == "The department was deleted."
    assert Department.objects.get(pk=ops.id).deleted_at is not None


def test_members_only_look_and_outsiders_get_404(alice, bob, charlie, acme):
    Membership.objects.create(
        enterprise=acme, user=bob.user, role=Role.objects.get(enterprise=acme, key="member")
    )
    Department.objects.create(enterprise=acme, name="操作部")
    page = _web(bob).get(_page(acme))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-department="操作部"' in body
    assert 'data-testid="department-create"' not in body
    refused = _web(bob).post(_page(acme) + "create/", {"name": "财务部"})
    assert refused.status_code == 302
    assert Department.objects.filter(enterprise=acme).count() == 1
    assert _web(charlie).get(_page(acme)).status_code == 404
    assert _web(charlie).post(_page(acme) + "create/", {"name": "x"}).status_code == 404


def test_a_seal_is_given_to_a_department_from_seal_management(alice, acme):
    ops = Department.objects.create(enterprise=acme, name="操作部")
    seal = _web(alice)
    created = alice.api.post(f"/enterprises/{acme.id}/seals", {"type": "contract"}).json()
    back = f"/console/seals/enterprise/{acme.id}/"
    page = seal.get(back).content.decode()
    assert 'data-testid="seal-department-select"' in page
    seal.post(f"/console/seals/{created['id']}/update/", {"department_id": ops.id, "back": back})
    assert Seal.objects.get(pk=created["id"]).department_id == ops.id
    assert 'data-testid="seal-department"' in seal.get(back).content.decode()
    listed = _web(alice).get(_page(acme)).content.decode()
    assert "合同专用章" in listed


def test_a_department_certificate_is_applied_for_from_the_console(alice, acme):
    from portsign.pki.ca import init_hierarchy
    from portsign.pki.models import CertificateApplication
    from tests.helpers import verify_person
    from tests.pki.certificate_helpers import certificate_code

    verify_person(alice, 1)
    init_hierarchy()
    ops = Department.objects.create(enterprise=acme, name="操作部")
    web = _web(alice)
    form = web.get(f"/console/enterprise/{acme.id}/").content.decode()
    assert 'data-testid="certificate-department"' in form
    web.post(
        f"/console/enterprise/{acme.id}/certificates/",
        {
            "account": alice.account,
            "code": certificate_code(alice),
            "term_years": "2",
            "medium": "cloud",
            "department_id": ops.id,
        },
    )
    application = CertificateApplication.objects.get(enterprise=acme)
    assert (application.status, application.department_id) == ("issued", ops.id)
    page = web.get(f"/console/enterprise/{acme.id}/").content.decode()
    assert 'data-testid="certificate-department-name">操作部<' in page
