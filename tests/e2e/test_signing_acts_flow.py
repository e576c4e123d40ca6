"""The signing page in Chromium (issue 13 items 8, 11, 16): the palette marks what the party must
apply and leaves out the finance seal; a party signs in two acts and then presses 完成签署; the
paging seal (骑缝章) keeps to the right edge; a long contract has a thumbnail rail and "go to
page"; a face check confirms the marks and the page signs once it passes."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from portsign.contracts.models import Party, SigningIntent
from portsign.seals.models import Seal
from tests.contracts.conftest import contract_seal, give_certificate, pdf_bytes, upload
from tests.e2e.test_seals_flow import _image_loaded, _signed_in
from tests.helpers import last_code, make_enterprise, make_person

pytestmark = pytest.mark.e2e

PORT = "示例港务集团有限公司"
TALLY = "示例外轮理货有限公司"


def _seal(person, enterprise, body: dict) -> str:
    response = person.api.post(f"/enterprises/{enterprise.id}/seals", body)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _deal(browser, live_server, n: int, pages: int = 2):
    """示例港务 (signer +86138000006{n}0) must apply its enterprise seal and the legal
    representative's seal, then 示例外轮理货 signs; the port's signer opens the contract."""
    signer = make_person(f"+86138000006{n}0", "示例签署人")
    partner = make_person(f"+86138000006{n}1", "示例理货员")
    port = make_enterprise(signer, PORT, 600 + 2 * n)
    make_enterprise(partner, TALLY, 601 + 2 * n)
    give_certificate(signer, port)
    contract_seal(signer, port)
    _seal(signer, port, {"type": "legal_rep"})
    _seal(signer, port, {"type": "finance", "shape": "oval"})
    created = upload(
        signer,
        "/contracts",
        pdf_bytes(pages, label="Berth lease"),
        title="泊位租赁合同",
        acting_as=port.id,
    )
    assert created.status_code == 201, created.content
    contract_id = created.json()["id"]
    for account, name in ((signer.account, PORT), (partner.account, TALLY)):
        added = signer.api.post(
            f"/contracts/{contract_id}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": name},
        )
        assert added.status_code == 201, added.content
    Party.objects.filter(contract_id=contract_id, position=1).update(needs_legal_rep_seal=True)
    assert signer.api.post(f"/contracts/{contract_id}/send").status_code == 200
    context, page = _signed_in(browser, live_server, signer.user, acting_as=port.id)
    page.goto(f"/console/contracts/{contract_id}/")
    first = page.get_by_test_id("sign-page-1")
    assert _image_loaded(first.locator("img"))
    first.scroll_into_view_if_needed()
    return context, page, signer


def _drop(page, item: str, y: float, x: float = 0.6) -> None:
    """Drag palette item *item* onto page 1, *y* px from its top (inside the first screenful,
    so the drop lands where the mouse is)."""
    target = page.get_by_test_id("sign-page-1")
    box = target.bounding_box()
    page.get_by_test_id(item).drag_to(target, target_position={"x": box["width"] * x, "y": y})


def _sign_act(page, account: str, *, finish: bool) -> None:
    finish_box = page.get_by_test_id("sign-finish")
    finish_box.set_checked(finish)
    page.get_by_test_id("sign-send-code").click()
    expect(page.get_by_test_id("sign-status")).to_contain_text("验证码已发送")
    page.get_by_test_id("sign-code").fill(last_code(account))
    with page.expect_navigation(url=f"**?signed={1 if finish else 'act'}", timeout=30000):
        page.get_by_test_id("sign-confirm").click()


def _party_status(page, name: str):
    return page.locator(f'tr[data-party="{name}"]').get_by_test_id("party-status")


def test_palette_and_page_rail_of_a_long_contract(browser, live_server):
    context, page, signer = _deal(browser, live_server, 0, pages=4)
    # Required marks (issue 13 item 8): the contract and legal-rep seals, never the finance seal
    # (which the signer holds: whoever creates a seal holds it).
    assert Seal.objects.filter(kind="finance", grants__member__user=signer.user).count() == 1
    palette = page.get_by_test_id("palette")
    expect(palette.get_by_test_id("palette-contract")).to_be_visible()
    expect(palette.get_by_test_id("palette-legal_rep")).to_be_visible()
    expect(palette.get_by_test_id("palette-finance")).to_have_count(0)
    for kind in ("contract", "legal_rep"):
        badge = palette.get_by_test_id(f"palette-{kind}").get_by_test_id("palette-required")
        expect(badge).to_be_visible()
        expect(badge).to_have_text("必填")
    expect(palette.get_by_test_id("palette-required")).to_have_count(2)  # not the date stamp
    must = page.get_by_test_id("must-apply")
    expect(must).to_be_visible()
    expect(must).to_contain_text("本方须加盖")
    expect(must).to_contain_text("企业印章（公章或合同专用章任选其一）")
    expect(must).to_contain_text("法定代表人章")

    # The thumbnail rail and "go to page" (issue 13 item 11).
    rail = page.get_by_test_id("page-rail")
    expect(rail).to_be_visible()
    expect(rail).to_have_count(1)
    for n in range(1, 5):
        thumb = rail.get_by_test_id(f"thumb-{n}")
        expect(thumb).to_be_visible()
        expect(thumb).to_have_attribute("href", f"#sign-page-{n}")
        # Every picture loaded, so the layout no longer shifts under the scroll.
        assert _image_loaded(thumb.locator("img")), n
        assert _image_loaded(page.get_by_test_id(f"sign-page-{n}").locator("img")), n
    expect(rail.get_by_test_id("thumb-5")).to_have_count(0)
    third = page.get_by_test_id("sign-page-3")
    assert third.bounding_box()["y"] > page.viewport_size["height"]  # not on screen yet
    jump = page.get_by_test_id("jump-page")
    jump.scroll_into_view_if_needed()
    jump.fill("3")
    jump.press("Enter")  # the handler listens on change
    expect(third).to_be_in_viewport()
    top = third.bounding_box()["y"]
    assert abs(top) <= 50, top
    context.close()


def test_two_acts_then_finish_signing(browser, live_server):
    context, page, signer = _deal(browser, live_server, 1)
    expect(page.get_by_test_id("sign-finish-button")).to_have_count(0)

    _drop(page, "palette-contract", 260)
    expect(page.get_by_test_id("placed-mark")).to_have_count(1)
    _sign_act(page, signer.account, finish=False)
    expect(page.locator(".flash")).to_be_visible()
    expect(page.get_by_test_id("sign-finish-button")).to_be_visible()
    expect(page.get_by_test_id("acts-done")).to_be_visible()
    expect(_party_status(page, PORT)).not_to_contain_text("已签署")
    expect(page.get_by_test_id("sign-finish")).to_be_checked()  # a new act finishes by default

    assert _image_loaded(page.get_by_test_id("sign-page-1").locator("img"))
    page.get_by_test_id("sign-page-1").scroll_into_view_if_needed()
    _drop(page, "palette-legal_rep", 420)
    expect(page.get_by_test_id("placed-mark")).to_have_count(1)
    _sign_act(page, signer.account, finish=False)
    expect(page.get_by_test_id("placed-mark")).to_have_count(0)
    expect(page.locator(".flash")).to_be_visible()
    expect(_party_status(page, PORT)).not_to_contain_text("已签署")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("sign-finish-button").click()
    expect(page.locator(".flash")).to_contain_text("本方已完成签署")
    expect(_party_status(page, PORT)).to_contain_text("已签署")
    expect(_party_status(page, TALLY)).not_to_contain_text("等待前序签署")  # its turn now
    expect(page.locator("#sign")).to_have_count(0)
    expect(page.get_by_test_id("contract-status")).to_have_text("签署中")
    context.close()


def _drag(page, mark, dx: float, dy: float) -> tuple[dict, dict]:
    """Drag *mark* by (dx, dy) px with the mouse; its bounding box before and after."""
    before = mark.bounding_box()
    x, y = before["x"] + before["width"] / 2, before["y"] + before["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()
    return before, mark.bounding_box()


def _place_paging_seal(page):
    _drop(page, "palette-paging-contract", 300, x=0.3)
    mark = page.get_by_test_id("placed-mark")
    expect(mark).to_have_count(1)
    expect(mark).to_have_class("placed paging")
    edge = page.get_by_test_id("sign-page-1").bounding_box()
    return mark, edge["x"] + edge["width"]


def test_paging_seal_keeps_to_the_right_edge(browser, live_server):
    context, page, _signer = _deal(browser, live_server, 2)
    mark, right = _place_paging_seal(page)
    placed = mark.bounding_box()
    assert abs(placed["x"] + placed["width"] - right) <= 2, (placed, right)  # dropped at 30 %
    # Moved left and down, staying on the seal: it moves down only, and stays at the edge.
    before, moved = _drag(page, mark, -60, 40)
    assert abs(moved["x"] + moved["width"] - right) <= 2, (moved, right)
    assert abs(moved["y"] - before["y"] - 40) <= 2, (moved, before)
    assert abs(moved["width"] - before["width"]) <= 1
    expect(page.get_by_test_id("placed-list")).to_contain_text("骑缝章")
    context.close()


def test_paging_seal_follows_a_drag_that_leaves_it(browser, live_server):
    context, page, _signer = _deal(browser, live_server, 3)
    try:
        mark, right = _place_paging_seal(page)
        before, moved = _drag(page, mark, -200, 60)  # the pointer leaves the pinned seal
        assert abs(moved["x"] + moved["width"] - right) <= 2, (moved, right)
        assert abs(moved["y"] - before["y"] - 60) <= 2, (moved, before)
    finally:
        context.close()


def test_face_check_confirms_and_signs(browser, live_server):
    context, page, _signer = _deal(browser, live_server, 4)
    face = page.get_by_test_id("sign-face")
    expect(face).to_be_disabled()  # nothing placed yet
    _drop(page, "palette-contract", 260)
    _drop(page, "palette-legal_rep", 420, x=0.3)
    expect(page.get_by_test_id("placed-mark")).to_have_count(2)
    expect(page.get_by_test_id("sign-finish")).to_be_checked()
    face.click()
    expect(page.get_by_test_id("sign-qr-box")).to_be_visible()
    expect(page.get_by_test_id("sign-qr-box").locator("svg")).to_have_count(1)
    link = page.get_by_test_id("sign-face-link")
    expect(link).to_be_visible()
    path = urlparse(link.get_attribute("href")).path
    found = re.fullmatch(r"/sandbox/face/(\w+)/", path)
    assert found, path
    assert SigningIntent.objects.filter(face_session_id=found[1], confirmed_at=None).count() == 1

    phone = context.new_page()
    phone.goto(path)
    phone.get_by_test_id("face-pass").click()
    expect(phone.get_by_test_id("face-status")).to_have_text("已通过")
    phone.close()

    expect(page.locator(".flash")).to_contain_text("签署成功", timeout=30000)
    expect(_party_status(page, PORT)).to_contain_text("已签署")
    expect(page.locator("#sign")).to_have_count(0)
    context.close()
