"""Issue 16 item 7: every verification method needs the business licence and both sides of the
ID card first, and a failed method opens a manual review by the back office (SPEC B1, B2)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from PIL import Image

from portsign.backoffice import domain as backoffice
from portsign.backoffice.models import Review
from portsign.common.models import AuditEvent
from portsign.enterprises.models import Enterprise
from tests.helpers import (
    Api,
    error_code,
    give_materials,
    last_code,
    make_enterprise,
    outbox,
    synthetic_id_number,
)

ACCOUNT = "6222000000880001"
REP_PHONE = "+8613800000078"
NAME = "Materials Shipping Co., Ltd."
EVERYTHING = {"licence", "id_front", "id_back"}
MISSING_ALL = (
    "Upload the materials before verifying the enterprise: the business licence, the portrait "
    "side of the ID card, the national emblem side of the ID card."
)
MISSING_CARD = (
    "Upload the materials before verifying the enterprise: the portrait side of the ID card, "
    "the national emblem side of the ID card."
)


def _english_client() -> Client:
    """A console session in English (the console ignores Accept-Language: a cookie decides)."""
    web = Client()
    web.cookies["portsign_language"] = "en"
    return web


def _png(colour: str = "white") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 280), "white").save(buffer, format="PDF")
    return buffer.getvalue()


@pytest.fixture
def draft(alice):
    """An unverified enterprise of alice, nothing uploaded yet."""
    return make_enterprise(alice, NAME, 13, verified=False)


@pytest.fixture
def english(alice) -> Api:
    return Api(alice.token, language="en")


@pytest.fixture
def reviewer(charlie):
    charlie.user.is_staff = True
    charlie.user.save(update_fields=["is_staff"])
    return charlie.user


def _upload(person, enterprise, **files: bytes | str):
    """POST the materials form: files by field name, plus the legal representative's ID."""
    form: dict[str, object] = {
        name: SimpleUploadedFile(f"{name}.png", content)
        for name, content in files.items()
        if isinstance(content, bytes)
    }
    form.update({name: value for name, value in files.items() if isinstance(value, str)})
    form.setdefault("legal_rep_id_number", synthetic_id_number(130))
    return person.api.client.post(
        f"/api/v1/enterprises/{enterprise.id}/materials",
        form,
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def _start_deposit(api: Api, enterprise, method: str = "micro_deposit"):
    return api.post(
        f"/enterprises/{enterprise.id}/verification",
        {"method": method, "bank_name": "Test Bank Branch", "bank_account": ACCOUNT},
    )


def _start_legal_rep(api: Api, enterprise, phone: str = REP_PHONE):
    return api.post(
        f"/enterprises/{enterprise.id}/verification/legal-rep",
        {"method": "carrier3", "legal_rep_id_number": synthetic_id_number(131), "phone": phone},
    )


def _submit_letter(person, enterprise):
    return person.api.client.post(
        f"/api/v1/enterprises/{enterprise.id}/verification/letter",
        {"letter": SimpleUploadedFile("letter.pdf", _pdf())},
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def _refused(response, missing: set[str], message: str) -> None:
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("materials_required", message)
    assert error["fields"] == {name: "Required." for name in missing}


# -- no method starts without the materials -------------------------------------------------------


def test_micro_deposit_without_any_material_is_refused(draft, english):
    _refused(_start_deposit(english, draft), EVERYTHING, MISSING_ALL)
    assert outbox(ACCOUNT) == []  # nothing was paid
    assert Enterprise.objects.get(pk=draft.id).status == "unverified"
    assert not draft.deposit_verifications.exists()


def test_reverse_deposit_with_the_licence_only_is_refused(alice, draft, english):
    assert _upload(alice, draft, licence=_png()).status_code == 200
    _refused(
        _start_deposit(english, draft, "reverse_deposit"), {"id_front", "id_back"}, MISSING_CARD
    )
    assert not draft.deposit_verifications.exists()


def test_legal_rep_check_without_materials_is_refused(draft, english):
    _refused(_start_legal_rep(english, draft), EVERYTHING, MISSING_ALL)
    assert outbox(REP_PHONE) == []  # no code went to the legal representative
    assert not draft.legal_rep_verifications.exists()


def test_letter_with_the_licence_only_is_refused(alice, draft):
    assert _upload(alice, draft, licence=_png()).status_code == 200
    _refused(_submit_letter(alice, draft), {"id_front", "id_back"}, MISSING_CARD)
    assert not Review.objects.exists()


def test_console_deposit_form_without_materials_says_what_is_missing(alice, draft):
    web = _english_client()
    web.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    page = web.get(f"/console/enterprise/{draft.id}/").content.decode()
    assert 'data-testid="missing-materials"' in page
    assert 'name="id_front"' in page
    assert 'name="id_back"' in page
    started = web.post(
        f"/console/enterprise/{draft.id}/verification/start/",
        {"method": "micro_deposit", "bank_name": "Test Bank", "bank_account": ACCOUNT},
        follow=True,
    )
    assert MISSING_ALL in started.content.decode()
    assert outbox(ACCOUNT) == []


# -- uploading the materials ----------------------------------------------------------------------


def test_with_every_material_each_method_starts(alice, draft, english):
    uploaded = _upload(alice, draft, licence=_pdf(), id_front=_png("red"), id_back=_png("blue"))
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["missing_materials"] == []
    stored = Enterprise.objects.get(pk=draft.id)
    assert stored.id_front_path.startswith("id_cards/")
    assert stored.id_back_path.endswith(".png")
    event = AuditEvent.objects.get(action="enterprise.materials_submitted")
    assert (event.data["id_front_sha256"], event.data["id_back_sha256"]) == (
        stored.id_front_sha256,
        stored.id_back_sha256,
    )
    assert _start_deposit(english, draft).status_code == 200
    assert _start_legal_rep(english, draft).status_code == 201
    assert _submit_letter(alice, draft).status_code == 201


def test_materials_may_come_in_parts_and_are_kept(alice, draft):
    first = _upload(alice, draft, licence=_png(), id_front=_png("red"))
    assert first.json()["missing_materials"] == ["id_back"]
    second = _upload(alice, draft, id_back=_png("blue"))  # the licence and front are kept
    assert second.status_code == 200, second.content
    assert second.json()["missing_materials"] == []
    assert alice.api.get(f"/enterprises/{draft.id}").json()["missing_materials"] == []


def test_the_licence_comes_first(alice, draft):
    response = _upload(alice, draft, id_front=_png())
    assert response.status_code == 400
    assert (error_code(response), list(response.json()["error"]["fields"])) == (
        "file_required",
        ["licence"],
    )


def test_switching_to_agent_needs_the_agents_own_card(alice, draft):
    _upload(alice, draft, licence=_png(), id_front=_png("red"), id_back=_png("blue"))
    as_agent = _upload(alice, draft, as_agent="true", legal_rep_id_number="")
    assert as_agent.status_code == 200, as_agent.content
    # The card kept would be the legal representative's, not the agent's.
    assert as_agent.json()["missing_materials"] == ["id_front", "id_back"]
    again = _upload(alice, draft, as_agent="true", id_front=_png("red"), id_back=_png("blue"))
    assert again.json()["missing_materials"] == []


def test_an_id_card_is_a_photo(alice, draft):
    response = _upload(alice, draft, licence=_png(), id_front=_pdf())
    assert response.status_code == 400
    assert (error_code(response), list(response.json()["error"]["fields"])) == (
        "file_type",
        ["id_front"],
    )
    assert Enterprise.objects.get(pk=draft.id).licence_path == ""  # nothing half-saved


def test_console_uploads_both_sides_of_the_card(alice, draft):
    web = Client()
    web.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    response = web.post(
        f"/console/enterprise/{draft.id}/materials/",
        {
            "licence": SimpleUploadedFile("licence.png", _png()),
            "id_front": SimpleUploadedFile("front.png", _png("red")),
            "id_back": SimpleUploadedFile("back.png", _png("blue")),
            "legal_rep_id_number": synthetic_id_number(132),
        },
    )
    assert response["Location"] == f"/console/enterprise/{draft.id}/#materials"
    assert alice.api.get(f"/enterprises/{draft.id}").json()["missing_materials"] == []


# -- manual review after a failed method ----------------------------------------------------------


def _fail_deposit(api: Api, enterprise) -> None:
    _start_deposit(api, enterprise)
    paid = outbox(ACCOUNT)[-1].data["amount"]
    wrong = "0.50" if paid != "0.50" else "0.51"
    for _ in range(3):
        api.post(f"/enterprises/{enterprise.id}/verification/confirm", {"amount": wrong})
    assert api.get(f"/enterprises/{enterprise.id}/verification").json()["status"] == "failed"


def _fail_legal_rep(api: Api, enterprise) -> None:
    phone = "+8613800009992"  # the sandbox carrier answers "mismatch" for this number
    assert _start_legal_rep(api, enterprise, phone=phone).status_code == 201
    done = api.post(
        f"/enterprises/{enterprise.id}/verification/legal-rep/confirm",
        {"code": last_code(phone)},
    ).json()
    assert (done["status"], done["failure"]) == ("failed", "mismatch")


def _ask(api: Api, enterprise, note: str = ""):
    return api.post(f"/enterprises/{enterprise.id}/verification/manual-review", {"note": note})


def test_manual_review_needs_the_materials(draft, english):
    response = _ask(english, draft)
    _refused(response, EVERYTHING, MISSING_ALL)


def test_manual_review_needs_a_failed_method(alice, draft, english):
    give_materials(alice, draft, 13)
    response = _ask(english, draft)
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "manual_review_unavailable",
        "message": "A manual review is available once a verification method has failed. "
        "Verify by transfer or through the legal representative first.",
        "fields": {},
    }
    assert english.get(f"/enterprises/{draft.id}/verification/manual-review").status_code == 404


def test_failed_deposit_then_manual_review_verifies(alice, draft, english, reviewer):
    give_materials(alice, draft, 13)
    _fail_deposit(english, draft)
    asked = _ask(english, draft, "The bank account was closed last month.")
    assert asked.status_code == 201, asked.content
    assert (asked.json()["status"], asked.json()["opinion"]) == ("pending", "")
    assert english.get(f"/enterprises/{draft.id}").json()["status"] == "verifying"
    again = _ask(english, draft)
    assert (again.status_code, error_code(again)) == (409, "review_pending")

    review = backoffice.review_queue(reviewer=reviewer).get()
    assert (review.kind, review.id) == ("enterprise_manual", asked.json()["id"])
    stored = Enterprise.objects.get(pk=draft.id)
    assert review.files == [
        {"label": "business_licence", "path": stored.licence_path},
        {"label": "id_card_front", "path": stored.id_front_path},
        {"label": "id_card_back", "path": stored.id_back_path},
    ]
    assert (review.details["failed_methods"], review.details["note"]) == (
        "micro_deposit",
        "The bank account was closed last month.",
    )
    with translation.override("en"):
        backoffice.decide_review(
            reviewer=reviewer, review_id=review.id, approve=True, opinion="Materials are clear."
        )
    enterprise = english.get(f"/enterprises/{draft.id}").json()
    assert (enterprise["status"], enterprise["verification_method"]) == (
        "verified",
        "manual_review",
    )
    decided = english.get(f"/enterprises/{draft.id}/verification/manual-review").json()
    assert (decided["status"], decided["opinion"]) == ("approved", "Materials are clear.")
    assert [m.text for m in outbox(alice.user.phone)][-1] == (
        f"【PortSign】{NAME} passed enterprise verification (Manual review of the materials)."
    )


def test_failed_legal_rep_then_manual_review_returned(alice, draft, english, reviewer):
    give_materials(alice, draft, 13)
    _fail_legal_rep(english, draft)
    asked = _ask(english, draft)
    assert asked.status_code == 201, asked.content
    review = Review.objects.get(pk=asked.json()["id"])
    assert review.details["failed_methods"] == "legal_rep_carrier3"
    with translation.override("en"):
        backoffice.decide_review(
            reviewer=reviewer, review_id=review.id, approve=False, opinion="The licence is blurred."
        )
    assert english.get(f"/enterprises/{draft.id}").json()["status"] == "verifying"
    assert [(m.subject, m.text) for m in outbox(alice.user.phone)][-1] == (
        "Enterprise verification rejected",
        f"【PortSign】The manual review did not verify {NAME}: The licence is blurred.",
    )
    # New materials, and the applicant may ask again.
    assert _ask(english, draft, "A sharper scan.").status_code == 201


def test_a_registry_mismatch_opens_the_manual_review(alice, english):
    draft = make_enterprise(alice, "Registry 不符 Co., Ltd.", 14, verified=False)
    give_materials(alice, draft, 14)
    assert error_code(_start_legal_rep(english, draft)) == "enterprise_mismatch"
    asked = _ask(english, draft)
    assert asked.status_code == 201, asked.content
    assert Review.objects.get().details["failed_methods"] == "legal_rep_carrier3"


def test_exhausted_transfers_open_the_manual_review(alice, draft, english, settings):
    settings.DEPOSIT_MAX_STARTS = 1
    give_materials(alice, draft, 13)
    _fail_deposit(english, draft)
    assert error_code(_start_deposit(english, draft)) == "deposit_attempts_exhausted"
    assert _ask(english, draft).status_code == 201


def test_a_pending_letter_and_a_manual_review_exclude_each_other(alice, draft, english):
    give_materials(alice, draft, 13)
    _fail_deposit(english, draft)
    assert _submit_letter(alice, draft).status_code == 201
    response = _ask(english, draft)
    assert (response.status_code, error_code(response)) == (409, "review_pending")


def test_the_console_asks_for_a_manual_review(alice, draft, english):
    give_materials(alice, draft, 13)
    web = _english_client()
    web.force_login(alice.user, backend="portsign.accounts.backends.AccountBackend")
    assert (
        'data-testid="manual-review-request"'
        not in web.get(f"/console/enterprise/{draft.id}/").content.decode()
    )
    _fail_deposit(english, draft)
    assert (
        'data-testid="manual-review-request"'
        in web.get(f"/console/enterprise/{draft.id}/").content.decode()
    )
    response = web.post(
        f"/console/enterprise/{draft.id}/manual-review/", {"note": "Please check."}, follow=True
    )
    assert "The materials were submitted for manual review." in response.content.decode()
    assert Review.objects.get().details["note"] == "Please check."
    page = web.get(f"/console/enterprise/{draft.id}/").content.decode()
    assert 'data-testid="manual-review"' in page
    assert 'data-testid="manual-review-request"' not in page  # one at a time


def test_manual_review_endpoints_are_isolated(alice, bob, draft, globex):
    give_materials(alice, draft, 13)
    assert _ask(bob.api, draft).status_code == 404
    assert bob.api.get(f"/enterprises/{draft.id}/verification/manual-review").status_code == 404
