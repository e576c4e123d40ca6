"""Signing (D5–D6) through the API: palette, intent codes bound to the marks, one PAdES
signature per party act, B-LTA at completion, verification, tampering, double submission."""

from __future__ import annotations

import pytest

from portsign.accounts.models import VerificationCode
from portsign.common.notify.outbox import queue_message
from portsign.contracts.models import Contract, SigningIntent
from portsign.seals.models import SealUse
from tests.contracts.conftest import contract_seal, create_draft, give_certificate, pdf_bytes
from tests.helpers import error_code, last_code, outbox, red_pixels
from tests.verifiers import assert_verifiers_accept, assert_verifiers_reject


@pytest.fixture
def deal(alice, bob, acme, globex):
    """Acme sends to Globex first, then signs itself; both hold certificates and seals."""
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seals = {"acme": contract_seal(alice, acme), "globex": contract_seal(bob, globex)}
    contract = create_draft(alice, acting_as=acme.id)
    for account, enterprise in (("13800000002", globex), ("13800000001", acme)):
        alice.api.post(
            f"/contracts/{contract['id']}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": enterprise.name},
        )
    assert alice.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    return contract["id"], seals


def _marks(seal_id: str) -> list[dict]:
    return [
        {"seal_id": seal_id, "page": 1, "x": 0.6, "y": 0.7, "width": 0.2},
        {"date": True, "page": 1, "x": 0.62, "y": 0.92, "width": 0.16},
    ]


def _sign(person, contract_id: str, acting_as: str, marks: list[dict]):
    asked = person.api.post(
        f"/contracts/{contract_id}/sign/codes", {"acting_as": acting_as, "marks": marks}
    )
    assert asked.status_code == 202, asked.content
    code = last_code(person.account)
    return person.api.post(
        f"/contracts/{contract_id}/sign", {"acting_as": acting_as, "code": code, "marks": marks}
    )


def test_two_parties_sign_and_the_pdf_verifies(deal, alice, bob, acme, globex, api):
    contract_id, seals = deal
    palette = bob.api.get(f"/contracts/{contract_id}/palette?acting_as={globex.id}").json()
    assert [item["id"] for item in palette] == [seals["globex"]]
    first = _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["status"] == "signing"
    assert [p["status"] for p in body["parties"]] == ["signed", "pending"]
    assert outbox("+8613800000001")[-1].data["event"] == "to_sign"
    done = _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    assert done.status_code == 200, done.content
    body = done.json()
    assert body["status"] == "completed"
    assert [v["kind"] for v in body["versions"]] == ["prepared", "signed", "signed", "archived"]
    assert SealUse.objects.filter(subject_id=contract_id).count() == 2
    pdf = alice.api.get(f"/contracts/{contract_id}/document.pdf").content
    report = api.client.post("/api/v1/verify", {"file": _file(pdf)}).json()
    assert report["intact"] is True
    assert report["valid"] is True
    approvals = [s for s in report["signatures"] if s["kind"] != "timestamp"]
    assert [(s["enterprise"], s["valid"], s["certificate_status"]) for s in approvals] == [
        (globex.name, True, "good"),
        (acme.name, True, "good"),
    ]
    assert len([s for s in report["signatures"] if s["kind"] == "timestamp"]) == 1
    actions = [t["action"] for t in alice.api.get(f"/contracts/{contract_id}/trail").json()]
    assert actions[-3:] == ["contract.party_signed", "contract.party_signed", "contract.completed"]
    assert outbox("+8613800000002")[-1].data["event"] == "completed"


def _file(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("signed.pdf", content)


def test_a_code_for_other_marks_is_refused(deal, bob, globex):
    contract_id, seals = deal
    marks = _marks(seals["globex"])
    bob.api.post(f"/contracts/{contract_id}/sign/codes", {"acting_as": globex.id, "marks": marks})
    moved = [dict(marks[0], x=0.1), marks[1]]
    response = bob.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": globex.id, "code": last_code(bob.account), "marks": moved},
    )
    assert response.status_code == 400
    assert error_code(response) == "code_binding"
    assert Contract.objects.get(pk=contract_id).parties.first().status == "pending"


def test_guesses_with_other_marks_count_and_do_not_reveal_a_hit(deal, bob, globex):
    """Issue 11: guesses sent with other marks were compared with the real code, answered
    code_binding on a hit and never counted, so a live code could be brute-forced."""
    contract_id, seals = deal
    marks = _marks(seals["globex"])
    bob.api.post(f"/contracts/{contract_id}/sign/codes", {"acting_as": globex.id, "marks": marks})
    code = last_code(bob.account)
    moved = [dict(marks[0], x=0.1), marks[1]]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = []
    for guess in (wrong, code, wrong, wrong, wrong, wrong, code):
        response = bob.api.post(
            f"/contracts/{contract_id}/sign",
            {"acting_as": globex.id, "code": guess, "marks": moved},
        )
        answers.append(
            (response.status_code, error_code(response), response.json()["error"]["message"])
        )
    assert len(set(answers)) == 1, "a hit must be answered exactly like a miss"
    assert answers[0][:2] == (400, "code_binding")
    row = VerificationCode.objects.get(purpose="sign")
    assert (row.attempts, row.burned) == (5, True)
    honest = bob.api.post(
        f"/contracts/{contract_id}/sign", {"acting_as": globex.id, "code": code, "marks": marks}
    )
    assert honest.status_code == 400
    assert error_code(honest) == "code_burned"
    assert Contract.objects.get(pk=contract_id).parties.first().status == "pending"


def test_double_submission_signs_once(deal, bob, globex):
    contract_id, seals = deal
    marks = _marks(seals["globex"])
    bob.api.post(f"/contracts/{contract_id}/sign/codes", {"acting_as": globex.id, "marks": marks})
    payload = {"acting_as": globex.id, "code": last_code(bob.account), "marks": marks}
    assert bob.api.post(f"/contracts/{contract_id}/sign", payload).status_code == 200
    again = bob.api.post(f"/contracts/{contract_id}/sign", payload)
    assert again.status_code == 409
    assert error_code(again) == "party_not_pending"
    assert Contract.objects.get(pk=contract_id).versions.count() == 2


@pytest.mark.parametrize(
    ("marks", "code"),
    [
        ([], "marks_invalid"),
        ([{"date": True, "page": 1, "x": 0.5, "y": 0.5, "width": 0.2}], "marks_incomplete"),
        ([{"seal_id": "nope", "page": 1, "x": 0.5, "y": 0.5, "width": 0.2}], "marks_invalid"),
        ([{"date": True, "page": 9, "x": 0.5, "y": 0.5, "width": 0.2}], "marks_invalid"),
        ([{"date": True, "page": 1, "x": 0.9, "y": 0.5, "width": 0.2}], "marks_invalid"),
        ([{"date": True, "page": 1, "x": "left", "y": 0.5, "width": 0.2}], "marks_invalid"),
    ],
)
def test_bad_marks(deal, bob, globex, marks, code):
    contract_id, _seals = deal
    response = bob.api.post(
        f"/contracts/{contract_id}/sign/codes", {"acting_as": globex.id, "marks": marks}
    )
    assert response.status_code == 400, response.content
    assert error_code(response) == code


def test_another_enterprises_seal_is_not_in_the_palette(deal, bob, globex):
    contract_id, seals = deal
    response = bob.api.post(
        f"/contracts/{contract_id}/sign/codes",
        {"acting_as": globex.id, "marks": _marks(seals["acme"])},
    )
    assert response.status_code == 400
    assert error_code(response) == "marks_invalid"


def test_without_a_certificate_the_signer_is_told(alice, bob, acme, globex):
    give_certificate(alice, acme)
    seal = contract_seal(bob, globex)
    contract = create_draft(alice, acting_as=acme.id)
    alice.api.post(
        f"/contracts/{contract['id']}/parties",
        {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
    )
    alice.api.post(f"/contracts/{contract['id']}/send")
    response = _sign(bob, contract["id"], globex.id, _marks(seal))
    assert response.status_code == 409
    assert error_code(response) == "certificate_required"
    party = Contract.objects.get().parties.first()
    assert party.status == "pending"  # nothing half-done
    assert Contract.objects.get().busy_until is None


def test_person_signs_with_a_signature(verified_alice, verified_bob):
    give_certificate(verified_bob)
    signature = verified_bob.api.post("/me/signatures", {}).json()["id"]
    contract = create_draft(verified_alice)
    verified_alice.api.post(
        f"/contracts/{contract['id']}/parties", {"kind": "person", "account": "13800000002"}
    )
    verified_alice.api.post(f"/contracts/{contract['id']}/send")
    marks = [{"signature_id": signature, "page": 2, "x": 0.5, "y": 0.8, "width": 0.25}]
    response = _sign(verified_bob, contract["id"], "personal", marks)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"


def test_seal_on_an_unconfirmed_intent_cannot_be_deleted(deal, bob, globex):
    contract_id, seals = deal
    bob.api.post(
        f"/contracts/{contract_id}/sign/codes",
        {"acting_as": globex.id, "marks": _marks(seals["globex"])},
    )
    assert SigningIntent.objects.count() == 1
    refused = bob.api.delete(f"/seals/{seals['globex']}")
    assert refused.status_code == 409
    assert error_code(refused) == "seal_in_use"


def test_tampering_is_detected_by_the_verify_command(deal, alice, bob, acme, globex, tmp_path):
    contract_id, seals = deal
    _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
    _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    pdf = bytearray(alice.api.get(f"/contracts/{contract_id}/document.pdf").content)
    good = tmp_path / "good.pdf"
    good.write_bytes(bytes(pdf))
    index = len(pdf) // 4  # inside the body, which every signature covers
    pdf[index] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(pdf))
    fields = ["PortSign-2-E", "PortSign-3-E"]
    (tmp_path / "ok").mkdir()
    assert_verifiers_accept(good.read_bytes(), tmp_path / "ok", fields)
    (tmp_path / "tampered").mkdir()
    assert_verifiers_reject(bytes(pdf), tmp_path / "tampered", fields)
    from django.core.management import call_command

    call_command("verify", str(good))  # exits normally: all valid
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify", str(bad))
    assert exit_info.value.code == 1


def test_verify_rejects_non_pdfs_and_is_rate_limited(api, settings):
    from django.core.cache import cache

    from portsign.common.models import RateCounter

    settings.VERIFY_IP_HOURLY_LIMIT = 2
    for _ in range(2):
        response = api.client.post("/api/v1/verify", {"file": _file(b"not a pdf")})
        assert response.status_code == 400
        cache.clear()  # as if the next request reached another worker, with its own cache
    limited = api.client.post("/api/v1/verify", {"file": _file(pdf_bytes(1))})
    assert limited.status_code == 429
    assert error_code(limited) == "verify_rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 3600
    assert RateCounter.objects.get(scope="verify").count == 3
    RateCounter.objects.all().delete()
    from portsign.contracts.domain.documents import merge

    clean = merge(pdf_bytes(1), [])  # an unsigned PDF with a tidy cross-reference table
    not_ready = api.client.post("/api/v1/verify", {"file": _file(clean)})
    assert not_ready.status_code == 409
    assert error_code(not_ready) == "pki_not_ready"
    from portsign.pki.ca import init_hierarchy

    init_hierarchy()
    unsigned = api.client.post("/api/v1/verify", {"file": _file(clean)}).json()
    # Nothing vouches for an unsigned file: neither intact nor valid.
    assert (unsigned["intact"], unsigned["valid"], unsigned["signatures"]) == (False, False, [])


def test_confirm_on_the_phone_with_a_qr_code(deal, bob, charlie, globex):
    from django.test import Client

    contract_id, seals = deal
    marks = _marks(seals["globex"])
    asked = bob.api.post(
        f"/contracts/{contract_id}/sign/qr", {"acting_as": globex.id, "marks": marks}
    )
    assert asked.status_code == 202, asked.content
    body = asked.json()
    assert body["confirm_url"].endswith(f"/console/contracts/confirm/{body['intent_id']}/")
    assert body["qr_svg"].startswith("<svg")
    status_path = f"/contracts/{contract_id}/sign/intents/{body['intent_id']}"
    assert bob.api.get(status_path).json()["confirmed"] is False
    early = bob.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": globex.id, "intent_id": body["intent_id"], "marks": marks},
    )
    assert early.status_code == 400
    assert error_code(early) == "intent_not_confirmed"
    stranger = Client()
    stranger.force_login(charlie.user, backend="portsign.accounts.backends.AccountBackend")
    assert stranger.get(f"/console/contracts/confirm/{body['intent_id']}/").status_code == 404
    assert stranger.post(f"/console/contracts/confirm/{body['intent_id']}/").status_code == 404
    phone = Client()
    phone.force_login(bob.user, backend="portsign.accounts.backends.AccountBackend")
    page = phone.get(f"/console/contracts/confirm/{body['intent_id']}/").content.decode()
    assert "集装箱理货协议" in page
    assert phone.post(f"/console/contracts/confirm/{body['intent_id']}/").status_code == 302
    assert bob.api.get(status_path).json() == {
        "intent_id": body["intent_id"],
        "confirmed": True,
        "used": False,
        "expired": False,
        "failure": "",
    }
    moved = [dict(marks[0], x=0.3), marks[1]]
    other_marks = bob.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": globex.id, "intent_id": body["intent_id"], "marks": moved},
    )
    assert other_marks.status_code == 400
    assert error_code(other_marks) == "intent_not_confirmed"
    signed = bob.api.post(
        f"/contracts/{contract_id}/sign",
        {"acting_as": globex.id, "intent_id": body["intent_id"], "marks": marks},
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["parties"][0]["status"] == "signed"
    assert bob.api.get(status_path).json()["used"] is True


def test_events_are_emitted_in_order(deal, alice, bob, acme, globex):
    from portsign.contracts import events

    heard: list[tuple[str, str | None]] = []

    def listener(event: events.ContractEvent) -> None:
        heard.append((event.name, event.party.enterprise_name if event.party else None))

    events.listen(listener)
    try:
        contract_id, seals = deal
        _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
        _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    finally:
        events.unlisten(listener)
    assert heard == [("signed", globex.name), ("signed", acme.name), ("completed", None)]


def test_a_signer_may_hold_codes_for_two_contracts_at_once(alice, bob, acme, globex, settings):
    """Signing codes are per act: a second contract's code neither waits out the resend
    interval nor cancels the first one's, and their daily cap is their own."""
    from portsign.accounts.models import VerificationCode

    give_certificate(bob, globex)
    seal = contract_seal(bob, globex)
    ids = []
    for _ in range(2):
        contract = create_draft(alice, acting_as=acme.id)
        alice.api.post(
            f"/contracts/{contract['id']}/parties",
            {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
        )
        alice.api.post(f"/contracts/{contract['id']}/send")
        ids.append(contract["id"])
    codes = []
    for contract_id in ids:
        asked = bob.api.post(
            f"/contracts/{contract_id}/sign/codes", {"acting_as": globex.id, "marks": _marks(seal)}
        )
        assert asked.status_code == 202, asked.content
        codes.append(last_code(bob.account))
    again = bob.api.post(
        f"/contracts/{ids[1]}/sign/codes", {"acting_as": globex.id, "marks": _marks(seal)}
    )
    assert again.status_code == 429  # the same act again within a minute
    assert error_code(again) == "code_resend_too_soon"
    for contract_id, code in zip(ids, codes, strict=True):
        signed = bob.api.post(
            f"/contracts/{contract_id}/sign",
            {"acting_as": globex.id, "code": code, "marks": _marks(seal)},
        )
        assert signed.status_code == 200, signed.content
    settings.CODE_SIGN_DAILY_LIMIT = VerificationCode.objects.filter(purpose="sign").count()
    third = create_draft(alice, acting_as=acme.id)
    alice.api.post(
        f"/contracts/{third['id']}/parties",
        {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
    )
    alice.api.post(f"/contracts/{third['id']}/send")
    capped = bob.api.post(
        f"/contracts/{third['id']}/sign/codes", {"acting_as": globex.id, "marks": _marks(seal)}
    )
    assert capped.status_code == 429
    assert error_code(capped) == "code_daily_limit"
    login = bob.api.post("/auth/codes", {"to": "13800000002", "purpose": "login"})
    assert login.status_code == 202  # other purposes keep their own cap


def test_a_sign_code_the_carrier_refuses_says_so_and_offers_the_qr_path(deal, bob, globex):
    """Issue 13 item 3: the carrier's flow control for the signer's number is used up; the
    code request answers 503 with the seal's wording, no intent is left, the QR path works."""
    contract_id, seals = deal
    for i in range(20):
        queue_message(to="+8613800000002", channel="sms", subject="s", text=f"t{i}", data={})
    before = SigningIntent.objects.count()
    asked = bob.api.post(
        f"/contracts/{contract_id}/sign/codes",
        {"acting_as": globex.id, "marks": _marks(seals["globex"])},
    )
    assert (asked.status_code, error_code(asked)) == (503, "sms_failed")
    assert asked.json()["error"]["message"] == "短信发送失败，请改用扫码确认或稍后重试。"
    assert SigningIntent.objects.count() == before
    assert VerificationCode.objects.filter(target="+8613800000002", burned=False).count() == 0
    qr = bob.api.post(
        f"/contracts/{contract_id}/sign/qr",
        {"acting_as": globex.id, "marks": _marks(seals["globex"])},
    )
    assert qr.status_code == 202, qr.content


def test_page_previews_show_every_signed_seal(deal, alice, bob, acme, globex):
    """Issue 13 item 1: the preview draws the form layer, so the next signer sees the earlier
    party's seal where the PDF has it, and every version has its own preview."""
    contract_id, seals = deal
    before = alice.api.get(f"/contracts/{contract_id}/pages/1.png").content
    assert red_pixels(before) == 0
    assert _sign(bob, contract_id, globex.id, _marks(seals["globex"])).status_code == 200
    after_first = bob.api.get(f"/contracts/{contract_id}/pages/1.png").content
    assert red_pixels(after_first) > 2000
    second = [{"seal_id": seals["acme"], "page": 1, "x": 0.1, "y": 0.7, "width": 0.2}]
    assert _sign(alice, contract_id, acme.id, second).status_code == 200
    completed = alice.api.get(f"/contracts/{contract_id}/pages/1.png").content
    assert red_pixels(completed) > 1.8 * red_pixels(after_first)
