"""The 电子口岸 console pages (issue 12 item 6) through Django's test client: the enterprise's
page, a filing's form, document previews, the reviewer's workspace."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from PIL import Image

from portsign.eport.domain import authorities
from portsign.eport.enums import AuthorityKind
from portsign.eport.models import Filing
from tests.contracts.conftest import pdf_bytes
from tests.helpers import make_enterprise, make_person


@pytest.fixture
def office():
    national = authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="100000", name="数据中心（测试）", parent=None
    )
    return authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="310000", name="上海电子口岸（测试）", parent=national
    )


@pytest.fixture
def clerk(alice):
    return alice


@pytest.fixture
def acme(clerk):
    return make_enterprise(clerk, "示例港务集团有限公司", 1)


def _browser(person, acting_as: str = "") -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    if acting_as:
        client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    return client


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="PNG")
    return out.getvalue()


def _customs(client: Client) -> Filing:
    response = client.post("/console/eport/filings/new/", {"kind": "customs"})
    assert response.status_code == 302, response.content
    return Filing.objects.get(kind="customs")


def test_a_personal_account_is_asked_to_act_for_an_enterprise(clerk, office):
    page = _browser(clerk).get("/console/eport/").content.decode()
    assert "请在右上角切换到企业身份" in page


def test_the_enterprise_page_lists_the_four_filings_not_yet_filed(clerk, acme, office):
    page = _browser(clerk, acme.id).get("/console/eport/").content.decode()
    for kind in ("enterprise_info", "customs", "forex", "commerce"):
        assert f'data-testid="start-{kind}"' in page
    assert page.count("未办理") == 4


def test_a_refused_declaration_shows_the_field_and_keeps_what_was_typed(clerk, acme, office):
    client = _browser(clerk, acme.id)
    filing = _customs(client)
    page = client.post(
        f"/console/eport/filings/{filing.id}/", {"customs_code": "31X", "action": "declare"}
    ).content.decode()
    assert "海关注册编码为 10 位" in page
    assert 'value="31X"' in page
    filing.refresh_from_db()
    assert (filing.status, filing.data) == ("draft", {})
    done = client.post(
        f"/console/eport/filings/{filing.id}/", {"customs_code": "3101960001", "action": "declare"}
    )
    assert done.status_code == 302
    filing.refresh_from_db()
    assert (filing.status, filing.data) == ("declared", {"customs_code": "3101960001"})


def test_documents_are_previewed_for_the_applicant_and_the_reviewer_only(clerk, acme, office, bob):
    client = _browser(clerk, acme.id)
    filing = _customs(client)
    for name, content in (("licence.png", _png()), ("licence.pdf", pdf_bytes(1))):
        client.post(
            f"/console/eport/filings/{filing.id}/documents/",
            {"type": "business_licence", "file": SimpleUploadedFile(name, content)},
        )
    scanned_pdf, photo = filing.documents.order_by("name")  # licence.pdf, licence.png
    png = client.get(f"/console/eport/filings/{filing.id}/documents/{photo.id}/preview/")
    assert (png.status_code, png["Content-Type"], png.content) == (200, "image/png", _png())
    page = client.get(f"/console/eport/filings/{filing.id}/documents/{scanned_pdf.id}/preview/")
    assert (page.status_code, page["Content-Type"]) == (200, "image/png")
    with Image.open(io.BytesIO(page.content)) as drawn:
        assert drawn.size == (595, 842)  # an A4 page at 72 dpi
    stranger = _browser(bob).get(
        f"/console/eport/filings/{filing.id}/documents/{photo.id}/preview/"
    )
    assert stranger.status_code == 404

    client.post(
        f"/console/eport/filings/{filing.id}/", {"customs_code": "3101960001", "action": "declare"}
    )
    officer = make_person("+8613800000072", "测试审核员")
    authorities.add_reviewer(authority=office, user=officer.user)
    seen = _browser(officer).get(
        f"/console/eport/filings/{filing.id}/documents/{photo.id}/preview/"
    )
    assert (seen.status_code, seen.content) == (200, _png())


def test_the_workspace_is_for_reviewers_and_a_decision_needs_an_opinion(clerk, acme, office):
    client = _browser(clerk, acme.id)
    filing = _customs(client)
    client.post(
        f"/console/eport/filings/{filing.id}/", {"customs_code": "3101960001", "action": "declare"}
    )
    assert _browser(clerk).get("/console/eport/reviews/").status_code == 404
    officer = make_person("+8613800000072", "测试审核员")
    authorities.add_reviewer(authority=office, user=officer.user)
    desk = _browser(officer)
    queue = desk.get("/console/eport/reviews/").content.decode()
    assert f"/console/eport/reviews/{filing.id}/" in queue
    blank = desk.post(f"/console/eport/reviews/{filing.id}/", {"decision": "return", "opinion": ""})
    assert "请填写审核意见" in blank.content.decode()
    filing.refresh_from_db()
    assert filing.status == "declared"
    desk.post(f"/console/eport/reviews/{filing.id}/", {"decision": "return", "opinion": "缺回执"})
    filing.refresh_from_db()
    assert (filing.status, filing.opinion) == ("returned", "缺回执")
    mine = client.get("/console/eport/").content.decode()
    assert "缺回执" in mine


def test_the_auto_approval_switch_in_the_workspace(clerk, acme, office):
    officer = make_person("+8613800000072", "测试审核员")
    authorities.add_reviewer(authority=office, user=officer.user)
    desk = _browser(officer)
    desk.post(f"/console/eport/authorities/{office.id}/auto-approve/", {"auto_approve": "on"})
    office.refresh_from_db()
    assert office.auto_approve is True
    client = _browser(clerk, acme.id)
    filing = _customs(client)
    client.post(
        f"/console/eport/filings/{filing.id}/", {"customs_code": "3101960001", "action": "declare"}
    )
    filing.refresh_from_db()
    assert (filing.status, filing.auto_approved) == ("approved", True)
    desk.post(f"/console/eport/authorities/{office.id}/auto-approve/", {})
    office.refresh_from_db()
    assert office.auto_approve is False


def test_the_back_office_registers_authorities_and_reviewers(clerk):
    out = io.StringIO()
    call_command("eport", "authority", "office", "100000", "数据中心（测试）", stdout=out)
    call_command(
        "eport", "authority", "office", "460000", "海南电子口岸", "--parent", "100000", stdout=out
    )
    call_command("eport", "reviewer", "460000", clerk.account, stdout=out)
    call_command("eport", "authorities", stdout=out)
    assert out.getvalue().splitlines() == [
        "authority office 100000 数据中心（测试） (national)",
        "authority office 460000 海南电子口岸 (province)",
        f"{clerk.account} reviews for 海南电子口岸 (460000)",
        "office   100000 national 数据中心（测试）  []",
        f"office   460000 province 海南电子口岸  [{clerk.account}]",
    ]
    with pytest.raises(CommandError, match="该审核单位应隶属于 460000。"):
        call_command("eport", "authority", "office", "460100", "海口", "--parent", "100000")
    with pytest.raises(CommandError, match="no PortSign account"):
        call_command("eport", "reviewer", "460000", "+8613899999999")
