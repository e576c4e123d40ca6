"""The reviewer side: routing to authorities, read-only oversight, auto-approval, opinions,
notifications, webhooks and the queue."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone, translation

from portsign.eport.domain.reviews import auto_opinion
from portsign.eport.models import Authority, Filing, FilingEvent
from portsign.webhooks.models import Delivery
from tests.eport.conftest import (
    FORMS,
    actions,
    decide,
    declared,
    make_enterprise_in,
    new_filing,
    ok,
)
from tests.helpers import error_code, make_person, outbox


def test_a_haikou_enterprise_files_with_the_city(alice, haikou, city_reviewer, province_reviewer):
    filing = declared(alice, haikou, "customs", FORMS["customs"])
    assert filing["authority"]["code"] == "460100"
    assert filing["authority"]["level"] == "city"
    mine = ok(city_reviewer.api.get(f"/eport/filings/{filing['id']}"))
    assert mine["can_decide"] == [""]
    # the province oversees it read-only
    seen = ok(province_reviewer.api.get(f"/eport/filings/{filing['id']}"))
    assert seen["id"] == filing["id"]
    assert seen["can_decide"] == []
    for verb in ("approve", "return"):
        response = province_reviewer.api.post(
            f"/eport/filings/{filing['id']}/{verb}", {"opinion": "同意。"}
        )
        assert response.status_code == 403, verb
        assert error_code(response) == "not_addressed"
    assert Filing.objects.get(pk=filing["id"]).status == "declared"
    queue = ok(province_reviewer.api.get("/eport/reviews"))
    assert [f["id"] for f in queue["items"]] == [filing["id"]]
    assert queue["items"][0]["can_decide"] == []
    assert ok(city_reviewer.api.get("/eport/reviews"))["items"][0]["can_decide"] == [""]


def test_a_sanya_enterprise_files_with_the_province(bob, sanya, city_reviewer, province_reviewer):
    filing = declared(bob, sanya, "forex", FORMS["forex"])
    assert filing["authority"]["code"] == "460000"
    assert filing["authority"]["level"] == "province"
    # the city does not see the province's filings
    assert city_reviewer.api.get(f"/eport/filings/{filing['id']}").status_code == 404
    assert ok(city_reviewer.api.get("/eport/reviews"))["total"] == 0
    approved = decide(province_reviewer, filing["id"], "approve", "同意。")
    assert approved["status"] == "approved"


def test_unrelated_people_do_not_see_a_filing(
    alice, bob, charlie, haikou, sanya, city_reviewer, shanghai_reviewer
):
    filing = declared(alice, haikou, "customs", FORMS["customs"])
    for person in (shanghai_reviewer, charlie, bob):
        for method, path, body in (
            ("GET", f"/eport/filings/{filing['id']}", None),
            ("POST", f"/eport/filings/{filing['id']}/approve", {"opinion": "同意。"}),
            ("POST", f"/eport/filings/{filing['id']}/return", {"opinion": "退回。"}),
        ):
            response = person.api.request(method, path, body)
            assert response.status_code == 404, (person.account, method, path)
            assert error_code(response) == "not_found"
    assert ok(shanghai_reviewer.api.get("/eport/reviews"))["total"] == 0
    assert ok(charlie.api.get("/eport/reviews"))["total"] == 0
    # the applicant is no reviewer either
    response = alice.api.post(f"/eport/filings/{filing['id']}/approve", {"opinion": "自己批"})
    assert response.status_code == 404
    assert Filing.objects.get(pk=filing["id"]).status == "declared"


def test_reviewers_do_not_see_drafts(alice, haikou, city_reviewer):
    filing = new_filing(alice, haikou, "customs", FORMS["customs"])
    assert city_reviewer.api.get(f"/eport/filings/{filing['id']}").status_code == 404
    assert ok(city_reviewer.api.get("/eport/reviews"))["total"] == 0


def test_the_city_auto_approves_its_own_filings(alice, haikou, offices, city_reviewer):
    response = city_reviewer.api.patch(
        f"/eport/authorities/{offices.city.id}", {"auto_approve": True}
    )
    assert ok(response)["auto_approve"] is True
    filing = declared(alice, haikou, "customs", FORMS["customs"])
    assert filing["status"] == "approved"
    assert filing["auto_approved"] is True
    with translation.override("zh-hans"):
        expected = auto_opinion(offices.city)
    assert "海口电子口岸操作中心" in expected
    assert filing["opinion"] == expected == Filing.objects.get(pk=filing["id"]).opinion
    last = filing["history"][-1]
    assert (last["action"], last["auto"], last["actor"], last["opinion"]) == (
        "approved",
        True,
        "",
        expected,
    )
    assert actions(filing) == ["created", "declared", "approved"]
    # switched off again, the next one waits for a reviewer
    ok(city_reviewer.api.patch(f"/eport/authorities/{offices.city.id}", {"auto_approve": False}))
    waiting = declared(alice, haikou, "forex", FORMS["forex"])
    assert waiting["status"] == "declared"
    assert waiting["auto_approved"] is False


def test_the_provinces_switch_does_not_approve_the_citys_filings(
    alice, bob, haikou, sanya, offices, province_reviewer
):
    ok(
        province_reviewer.api.patch(
            f"/eport/authorities/{offices.province.id}", {"auto_approve": True}
        )
    )
    city_filing = declared(alice, haikou, "customs", FORMS["customs"])
    assert city_filing["status"] == "declared"
    own = declared(bob, sanya, "customs", FORMS["customs"])
    assert own["status"] == "approved"
    assert own["auto_approved"] is True


def test_only_an_authoritys_own_reviewers_switch_it(
    alice, offices, city_reviewer, province_reviewer, shanghai_reviewer
):
    for person, authority in (
        (province_reviewer, offices.city),  # a parent decides nothing for its children
        (city_reviewer, offices.province),
        (shanghai_reviewer, offices.city),
        (alice, offices.city),
    ):
        response = person.api.patch(f"/eport/authorities/{authority.id}", {"auto_approve": True})
        assert response.status_code == 404
        assert error_code(response) == "not_found"
    assert not Authority.objects.filter(auto_approve=True).exists()
    listed = ok(alice.api.get("/eport/authorities"))
    assert [(a["code"], a["level"], a["kind"]) for a in listed] == [
        ("100000", "national", "office"),
        ("310000", "province", "office"),
        ("460000", "province", "office"),
        ("460100", "city", "office"),
    ]
    city = next(a for a in listed if a["code"] == "460100")
    assert city["parent_id"] == offices.province.id


def test_an_opinion_is_required_both_ways(alice, haikou, city_reviewer):
    filing = declared(alice, haikou, "customs", FORMS["customs"])
    for verb in ("approve", "return"):
        for opinion in ("", "   ", "\n"):
            response = city_reviewer.api.post(
                f"/eport/filings/{filing['id']}/{verb}", {"opinion": opinion}
            )
            assert response.status_code == 400, (verb, opinion)
            assert error_code(response) == "opinion_required"
            assert list(response.json()["error"]["fields"]) == ["opinion"]
        too_long = city_reviewer.api.post(
            f"/eport/filings/{filing['id']}/{verb}", {"opinion": "长" * 501}
        )
        assert too_long.status_code == 400
    assert Filing.objects.get(pk=filing["id"]).status == "declared"
    assert not FilingEvent.objects.filter(filing_id=filing["id"], action="approved").exists()


def test_decisions_tell_the_applicant_and_fire_webhooks(alice, haikou, city_reviewer):
    endpoint = ok(
        alice.api.post(
            f"/enterprises/{haikou.id}/webhooks",
            {
                "url": "http://127.0.0.1:9/hook",
                "events": ["eport.filing.approved", "eport.filing.returned"],
            },
        ),
        201,
    )
    before = len(outbox(alice.account))
    returned = declared(alice, haikou, "customs", FORMS["customs"])
    decide(city_reviewer, returned["id"], "return", "海关注册编码与回执不符。")
    approved = declared(alice, haikou, "forex", FORMS["forex"])
    decide(city_reviewer, approved["id"], "approve", "同意。")
    messages = outbox(alice.account)[before:]
    assert len(messages) == 2
    assert "海关注册编码与回执不符。" in messages[0].text
    assert haikou.name in messages[0].text
    assert haikou.name in messages[1].text
    rows = list(Delivery.objects.filter(endpoint_id=endpoint["id"]).order_by("created_at", "id"))
    assert [row.event for row in rows] == ["eport.filing.returned", "eport.filing.approved"]
    bodies = [json.loads(row.payload) for row in rows]
    assert [b["filing"]["id"] for b in bodies] == [returned["id"], approved["id"]]
    assert bodies[0]["filing"]["status"] == "returned"
    assert bodies[0]["filing"]["opinion"] == "海关注册编码与回执不符。"
    assert bodies[1]["filing"]["authority"] == {"code": "460100", "name": "海口电子口岸操作中心"}
    assert all(row.contract_id == "" for row in rows)


def test_an_endpoint_not_subscribed_gets_nothing(alice, haikou, city_reviewer):
    ok(alice.api.post(f"/enterprises/{haikou.id}/webhooks", {"url": "http://127.0.0.1:9/c"}), 201)
    filing = declared(alice, haikou, "customs", FORMS["customs"])
    decide(city_reviewer, filing["id"], "approve", "同意。")
    assert not Delivery.objects.exists()


def test_the_queue_filters_and_pages(alice, bob, haikou, offices, city_reviewer, province_reviewer):
    other = make_enterprise_in(bob, "海口南洋船务代理有限公司", 35, "460100")
    customs = declared(alice, haikou, "customs", FORMS["customs"])
    forex = declared(alice, haikou, "forex", FORMS["forex"])
    theirs = declared(bob, other, "customs", FORMS["customs"])
    new_filing(alice, haikou, "commerce", FORMS["commerce"])  # a draft: nobody's queue
    decide(city_reviewer, forex["id"], "approve", "同意。")

    def ids(query: str = "") -> list[str]:
        return [f["id"] for f in ok(city_reviewer.api.get(f"/eport/reviews{query}"))["items"]]

    assert ids() == [theirs["id"], forex["id"], customs["id"]]
    assert ids("?status=declared") == [theirs["id"], customs["id"]]
    assert ids("?status=approved") == [forex["id"]]
    assert ids("?kind=forex") == [forex["id"]]
    assert ids("?enterprise=椰风") == [forex["id"], customs["id"]]
    assert ids("?enterprise=南洋船务") == [theirs["id"]]
    assert ids(f"?uscc={other.uscc.lower()}") == [theirs["id"]]
    assert ids("?enterprise=没有这家") == []
    today = timezone.localdate().isoformat()
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert ids(f"?declared_from={today}&declared_to={today}") == [
        theirs["id"],
        forex["id"],
        customs["id"],
    ]
    assert ids(f"?declared_from={tomorrow}") == []
    assert ids("?declared_to=2020-01-01") == []
    page = ok(city_reviewer.api.get("/eport/reviews?page_size=2&page=2"))
    assert (page["total"], [f["id"] for f in page["items"]]) == (3, [customs["id"]])
    bad = city_reviewer.api.get("/eport/reviews?declared_from=yesterday")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["declared_from"]
    assert ok(province_reviewer.api.get("/eport/reviews"))["total"] == 3


def test_a_document_and_the_history_are_shown_to_the_reviewer(alice, haikou, city_reviewer):
    from tests.contracts.conftest import pdf_bytes, upload

    filing = new_filing(alice, haikou, "customs", FORMS["customs"])
    content = pdf_bytes(1, label="Receipt")
    doc = upload(
        alice,
        f"/eport/filings/{filing['id']}/documents",
        content,
        "回执.pdf",
        type="customs_registration",
    )
    assert doc.status_code == 201, doc.content
    ok(alice.api.post(f"/eport/filings/{filing['id']}/declare"))
    seen = ok(city_reviewer.api.get(f"/eport/filings/{filing['id']}"))
    assert [(d["type"], d["name"], d["kind"]) for d in seen["documents"]] == [
        ("customs_registration", "回执.pdf", "pdf")
    ]
    response = city_reviewer.api.get(
        f"/eport/filings/{filing['id']}/documents/{seen['documents'][0]['id']}"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content == content
    assert [h["actor"] for h in seen["history"]] == ["Alice Test", "Alice Test"]


def test_a_reviewer_of_the_authority_is_added_once(offices):
    from portsign.eport.domain.authorities import add_reviewer
    from portsign.eport.models import Reviewer

    person = make_person("+8613800000027", "Twice Test")
    add_reviewer(authority=offices.city, user=person.user)
    add_reviewer(authority=offices.city, user=person.user)
    assert Reviewer.objects.filter(user=person.user).count() == 1
