"""Every console page at phone size (issue 13 item 4): on a 390×844 screen no page scrolls
sideways, the main navigation folds behind a menu button that opens it, and the signing page's
code input and buttons are big enough to use with a thumb (signing on a phone is a main use)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from playwright.sync_api import expect

from portsign.eport.domain import authorities
from portsign.eport.enums import AuthorityKind
from portsign.eport.models import Filing
from tests.backoffice.test_letter_review import PDF, _png
from tests.contracts.conftest import contract_seal, create_draft, give_certificate
from tests.contracts.template_helpers import make_template
from tests.helpers import Person, make_enterprise, make_person, synthetic_id_number

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# name → (who looks at it, path with {placeholders} filled from the world)
PAGES = {
    "sign-in": (None, "/account/login/"),
    "console-home": ("admin", "/console/"),
    "personal-centre": ("admin", "/account/me/"),
    "enterprise-console": ("admin", "/console/enterprise/"),
    "enterprise-detail": ("admin", "/console/enterprise/{acme}/"),
    "seals": ("admin", "/console/seals/"),
    "enterprise-seals": ("admin", "/console/seals/enterprise/{acme}/"),
    "contracts": ("admin", "/console/contracts/"),
    "new-contract": ("admin", "/console/contracts/new/"),
    "signing": ("admin", "/console/contracts/{contract}/"),
    "templates": ("admin", "/console/contracts/templates/"),
    "template-designer": ("admin", "/console/contracts/templates/{template}/"),
    "webhooks": ("admin", "/console/webhooks/enterprise/{acme}/"),
    "verify": ("admin", "/verify/"),
    "eport": ("admin", "/console/eport/"),
    "eport-filing": ("admin", "/console/eport/filings/{filing}/"),
    "eport-reviews": ("reviewer", "/console/eport/reviews/"),
    "eport-review": ("reviewer", "/console/eport/reviews/{filing}/"),
    "backoffice": ("staff", "/console/backoffice/"),
}


@dataclass
class World:
    people: dict[str, Person]
    acting: dict[str, str]
    ids: dict[str, str]


def _client(person: Person, acting_as: str = "") -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    if acting_as:
        client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    return client


@pytest.fixture
def world(live_server) -> World:
    """An enterprise admin with a certificate, a seal, a template, a webhook, a contract whose
    turn to sign is theirs, and a declared E-Port filing; a reviewer of the filing's office; a
    back-office staff member with an authorization letter to review."""
    admin = make_person("+8613800000081", "手机签署管理员")
    partner = make_person("+8613800000082", "理货签署人")
    acme = make_enterprise(admin, "示例港务集团有限公司", 81)
    globex = make_enterprise(partner, "示例外轮理货有限公司", 82)
    give_certificate(admin, acme)
    contract_seal(admin, acme)
    contract = create_draft(admin, acting_as=acme.id, title="集装箱理货及港口作业服务长期合作协议")
    for account, enterprise in (("13800000081", acme), ("13800000082", globex)):
        added = admin.api.post(
            f"/contracts/{contract['id']}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": enterprise.name},
        )
        assert added.status_code == 201, added.content
    assert admin.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    template = make_template(admin, acme)
    hook = admin.api.post(
        f"/enterprises/{acme.id}/webhooks",
        {"url": "http://127.0.0.1:9/portsign/webhooks/contract-events/receiver-with-a-long-path"},
    )
    assert hook.status_code == 201, hook.content

    national = authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="100000", name="数据中心（测试）", parent=None
    )
    office = authorities.create_authority(
        kind=AuthorityKind.OFFICE, code="310000", name="上海电子口岸（测试）", parent=national
    )
    clerk = _client(admin, acme.id)
    assert clerk.post("/console/eport/filings/new/", {"kind": "customs"}).status_code == 302
    filing = Filing.objects.get(kind="customs")
    declared = clerk.post(
        f"/console/eport/filings/{filing.id}/", {"customs_code": "3101960001", "action": "declare"}
    )
    assert declared.status_code == 302
    reviewer = make_person("+8613800000083", "测试审核员")
    authorities.add_reviewer(authority=office, user=reviewer.user)

    staff = make_person("+8613800000084", "后台审核员")
    staff.user.is_staff = True
    staff.user.save(update_fields=["is_staff"])
    applicant = make_person("+8613800000085", "授权书申请人")
    draft = make_enterprise(applicant, "待认证船务代理有限公司", 85, verified=False)
    headers = {"Authorization": f"Bearer {applicant.token}"}
    materials = applicant.api.client.post(
        f"/api/v1/enterprises/{draft.id}/materials",
        {
            "licence": SimpleUploadedFile("licence.png", _png()),
            "id_front": SimpleUploadedFile("front.png", _png()),
            "id_back": SimpleUploadedFile("back.png", _png()),
            "legal_rep_id_number": synthetic_id_number(85),
        },
        headers=headers,
    )
    assert materials.status_code in (200, 201), materials.content
    letter = applicant.api.client.post(
        f"/api/v1/enterprises/{draft.id}/verification/letter",
        {"letter": SimpleUploadedFile("letter.pdf", PDF)},
        headers=headers,
    )
    assert letter.status_code in (200, 201, 202), letter.content
    return World(
        people={"admin": admin, "reviewer": reviewer, "staff": staff},
        acting={"admin": acme.id},
        ids={
            "acme": acme.id,
            "contract": contract["id"],
            "template": template["id"],
            "filing": filing.id,
        },
    )


def _phone(browser, live_server, world: World, who: str | None, viewport=PHONE):
    context = browser.new_context(
        viewport=viewport, locale="zh-CN", base_url=live_server.url, has_touch=True
    )
    if who is not None:
        client = _client(world.people[who], world.acting.get(who, ""))
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def _scroll_width(page) -> int:
    page.wait_for_load_state("load")
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )


def _inside(page, locator, width: int = 390, height: int = 844) -> dict:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None
    assert box["x"] >= 0, box
    assert box["x"] + box["width"] <= width, box
    assert box["y"] >= 0, box
    assert box["y"] + box["height"] <= height, box
    return box


@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_a_phone(browser, live_server, world, name):
    who, path = PAGES[name]
    context, page = _phone(browser, live_server, world, who)
    try:
        response = page.goto(path.format(**world.ids))
        assert response is not None
        assert response.status == 200, (name, response.status)
        width = _scroll_width(page)
        assert width <= PHONE["width"], f"{name} is {width} px wide at 390 px"

        toggle = page.get_by_test_id("menu-toggle")
        expect(toggle).to_be_visible()
        _inside(page, toggle)
        box = toggle.bounding_box()
        assert box["height"] >= 44, box
        assert box["width"] >= 44, box
        expect(toggle).to_have_attribute("aria-expanded", "false")
        menu = page.locator(".topbar-menu")
        expect(menu).to_be_hidden()
        expect(page.locator(".lang-switch")).to_be_hidden()
        toggle.click()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.locator(".lang-switch button")).to_be_visible()
        _inside(page, page.locator(".lang-switch button"))
        if who is None:
            return
        nav = page.locator(".mainnav")
        expect(nav).to_be_visible()
        for item in ("acting-switcher", "current-user"):
            expect(page.get_by_test_id(item)).to_be_visible()
        expect(page.get_by_role("button", name="退出登录")).to_be_visible()
        assert _scroll_width(page) <= PHONE["width"], f"{name}: the open menu widens the page"
        links = nav.locator("a")
        for index in range(links.count()):
            link = links.nth(index)
            expect(link).to_be_visible()
            _inside(page, link)
            assert link.bounding_box()["height"] >= 40
        target = nav.locator("a[href='/verify/']")
        if "/verify/" in path:
            target = nav.locator("a[href='/console/contracts/']")
        href = target.get_attribute("href")
        target.click()
        page.wait_for_url(f"**{href}")
        expect(page.get_by_test_id("menu-toggle")).to_have_attribute("aria-expanded", "false")
    finally:
        context.close()


def test_signing_controls_are_thumb_sized(browser, live_server, world):
    context, page = _phone(browser, live_server, world, "admin")
    try:
        page.goto(f"/console/contracts/{world.ids['contract']}/")
        sheet = page.get_by_test_id("sign-page-1")
        expect(sheet.locator("img")).to_be_visible()
        for part in (sheet, page.get_by_test_id("palette")):
            box = part.bounding_box()
            assert box["x"] >= 0, box
            assert box["x"] + box["width"] <= 390, box
        code = page.get_by_test_id("sign-code")
        box = _inside(page, code)
        assert box["width"] >= 120, f"the code input is {box['width']} px wide"
        assert box["height"] >= 44, box
        for button in ("sign-send-code", "sign-confirm", "sign-qr"):
            box = _inside(page, page.get_by_test_id(button))
            assert box["height"] >= 44, (button, box)
        assert _scroll_width(page) <= 390
    finally:
        context.close()


def test_desktop_keeps_the_open_header(browser, live_server, world):
    context, page = _phone(browser, live_server, world, "admin", {"width": 1280, "height": 800})
    try:
        page.goto("/console/contracts/")
        expect(page.get_by_test_id("menu-toggle")).to_be_hidden()
        expect(page.locator(".mainnav")).to_be_visible()
        expect(page.get_by_test_id("acting-switcher")).to_be_visible()
        nav_box = page.locator(".mainnav").bounding_box()
        brand_box = page.locator(".brand").bounding_box()
        assert abs(nav_box["y"] - brand_box["y"]) < 20  # one row: brand, nav, the rest
        assert page.locator(".topbar").bounding_box()["height"] <= 57
    finally:
        context.close()
