"""E-Port cards on real SoftHSM2 tokens (issue 14): issuance, the key that never leaves the
token, PINs, the lifecycle mirrored onto OCSP and the CRL (checked with openssl), and sign-in."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.utils import timezone

from portsign.eport.domain import tokens
from portsign.eport.models import Card
from portsign.pki.models import IssuedCertificate, KeyRecord
from portsign.pki.vault import load_private_key
from tests.eport.card_helpers import (
    NEW_PIN,
    card_login,
    card_session,
    change_pin,
    crl_entry,
    ocsp_text,
)
from tests.eport.conftest import ok


def _certificate(card: dict) -> x509.Certificate:
    issued = IssuedCertificate.objects.get(pk=card["certificate_id"])
    return x509.load_pem_x509_certificate(issued.certificate_pem.encode())


def _token_objects(label: str) -> dict:
    """What the token itself says of its objects, asked through python-pkcs11 in a process
    with the card reader's environment."""
    script = f"""
import json, pkcs11
from pkcs11 import Attribute, ObjectClass
token = pkcs11.lib({settings.CARD_PKCS11_MODULE!r}).get_token(token_label={label!r})
with token.open(user_pin={NEW_PIN!r}) as s:
    keys = list(s.get_objects({{Attribute.CLASS: ObjectClass.PRIVATE_KEY}}))
    certs = list(s.get_objects({{Attribute.CLASS: ObjectClass.CERTIFICATE}}))
    print(json.dumps({{
        "private_keys": len(keys),
        "sensitive": [bool(k[Attribute.SENSITIVE]) for k in keys],
        "extractable": [bool(k[Attribute.EXTRACTABLE]) for k in keys],
        "certificates": [c[Attribute.VALUE].hex() for c in certs],
    }}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=tokens.reader_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


# -- issuance ---------------------------------------------------------------------------------


def test_a_legal_person_card_is_a_token_with_its_own_key_and_a_ten_year_certificate(world):
    card = world.issue()
    assert card["kind"] == "legal_person"
    assert card["number"] == "46010010000001"  # division 460100, kind 1, sequence 1
    assert card["status"] == "active"
    assert card["pin_must_change"] is True
    assert card["holder_name"] == world.admin.user.name
    assert [e["action"] for e in card["history"]] == ["issue"]
    certificate = _certificate(card)
    subject = certificate.subject
    assert (
        subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == world.enterprise.name
    )
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == (
        "E-Port card 46010010000001"
    )
    assert subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "法人卡"
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == world.admin.user.name
    serial = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
    assert serial.startswith("PSN-")
    assert world.admin.user.id_number not in serial
    years = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert dt.timedelta(days=3650) <= years <= dt.timedelta(days=3651)
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    # The certificate sits on the token beside the key.
    ok(change_pin(world.admin, card["id"]))
    on_token = _token_objects(card["number"])
    assert on_token["private_keys"] == 1
    assert on_token["sensitive"] == [True]
    assert on_token["extractable"] == [False]
    assert on_token["certificates"] == [certificate.public_bytes(serialization.Encoding.DER).hex()]


def test_no_private_key_of_a_card_exists_outside_its_token(world):
    legal = world.issue()
    operator = world.issue_operator_card()
    card_keys = {_certificate(c).public_key().public_numbers().n for c in (legal, operator)}  # type: ignore[union-attr]
    for issued in IssuedCertificate.objects.filter(
        pk__in=[legal["certificate_id"], operator["certificate_id"]]
    ):
        assert issued.key_id is None
    for record in KeyRecord.objects.exclude(algorithm="secret"):
        key = load_private_key(record.id)
        numbers = getattr(key.public_key(), "public_numbers", None)
        assert numbers is None or getattr(numbers(), "n", None) not in card_keys
    # Nothing under DATA_DIR outside the card tokens holds a private key or the moduli.
    moduli = [n.to_bytes(256, "big") for n in card_keys]
    token_dir = Path(settings.CARD_TOKEN_DIR).resolve()
    for path in Path(settings.DATA_DIR).rglob("*"):
        if not path.is_file() or token_dir in path.resolve().parents:
            continue
        data = path.read_bytes()
        assert b"PRIVATE KEY" not in data, path
        assert not any(m in data for m in moduli), path


def test_cards_come_after_onboarding_and_only_from_the_office(
    alice, haikou, city_reviewer, shanghai_reviewer
):
    body = {"enterprise_id": haikou.id, "holder": "legal_person"}
    refused = city_reviewer.api.post("/eport/cards", body)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "onboarding_not_approved"
    assert "enterprise_info, customs, forex, commerce" in refused.json()["error"]["message"]
    assert alice.api.post("/eport/cards", body).status_code == 404  # the enterprise itself
    assert shanghai_reviewer.api.post("/eport/cards", body).status_code == 404  # another office
    assert Card.objects.count() == 0


def test_one_legal_person_card_and_one_card_per_operator(world):
    world.issue()
    again = world.reviewer.api.post(
        "/eport/cards", {"enterprise_id": world.enterprise.id, "holder": "legal_person"}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "legal_person_card_exists"
    card = world.issue_operator_card()
    assert card["kind"] == "operator"
    assert card["number"] == "46010020000001"
    assert card["holder_name"] == world.operator_person.user.name
    twice = world.reviewer.api.post(
        "/eport/cards", {"enterprise_id": world.enterprise.id, "holder": world.operator_id}
    )
    assert twice.json()["error"]["code"] == "operator_card_exists"


# -- PINs ---------------------------------------------------------------------------------------


def test_the_initial_pin_must_be_changed_before_any_use(world):
    card = world.issue()
    refused = card_login(card["number"], tokens.INITIAL_PIN)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "card_pin_initial"
    weak = change_pin(world.admin, card["id"], new="88888888")
    assert weak.json()["error"]["code"] == "pin_weak"
    short = change_pin(world.admin, card["id"], new="1234")
    assert short.json()["error"]["code"] == "pin_invalid"
    # Only the holder changes the PIN: the operator (another member) does not see the card.
    assert change_pin(world.operator_person, card["id"]).status_code == 404
    changed = ok(change_pin(world.admin, card["id"]))
    assert changed["pin_must_change"] is False
    assert [e["action"] for e in changed["history"]] == ["issue", "change_pin"]
    assert ok(card_login(card["number"], NEW_PIN))["user"]["id"] == world.admin.user.id


def test_five_wrong_pins_lock_the_card_and_a_sixth_never_reaches_the_token(world, monkeypatch):
    card = world.issue()
    ok(change_pin(world.admin, card["id"]))
    for failures in range(1, 5):
        wrong = card_login(card["number"], "99999999")
        assert wrong.status_code == 400
        error = wrong.json()["error"]
        assert error["code"] == "pin_incorrect"
        assert error["fields"]["failures"] == failures
        assert error["fields"]["remaining"] == 5 - failures
    fifth = card_login(card["number"], "99999999").json()["error"]
    assert fifth["fields"]["remaining"] == 0
    row = Card.objects.get(pk=card["id"])
    assert row.pin_locked is True
    assert row.pin_failures == 5

    def untouchable(**_kwargs):
        raise AssertionError("a locked card's token was used")

    monkeypatch.setattr(tokens, "sign", untouchable)
    sixth = card_login(card["number"], NEW_PIN)  # even the right PIN
    assert sixth.status_code == 401
    assert sixth.json()["error"]["code"] == "card_locked"
    monkeypatch.undo()
    # The office unlocks a legal-person card: the PIN is 88888888 again, to be changed.
    assert world.admin.api.post(f"/eport/cards/{card['id']}/unlock").status_code == 403
    unlocked = ok(world.reviewer.api.post(f"/eport/cards/{card['id']}/unlock"))
    assert unlocked["pin_locked"] is False
    assert unlocked["pin_must_change"] is True
    assert unlocked["pin_failures"] == 0
    assert card_login(card["number"], tokens.INITIAL_PIN).json()["error"]["code"] == (
        "card_pin_initial"
    )
    ok(change_pin(world.admin, card["id"], new="13572468"))
    assert ok(card_login(card["number"], "13572468"))["user"]["id"] == world.admin.user.id


def test_a_right_pin_clears_the_count(world):
    card = world.issue()
    ok(change_pin(world.admin, card["id"]))
    card_login(card["number"], "99999999")
    card_login(card["number"], "99999999")
    ok(card_login(card["number"], NEW_PIN))
    assert Card.objects.get(pk=card["id"]).pin_failures == 0


def test_the_pin_is_never_stored_or_logged(world, caplog):
    card = world.issue()
    ok(change_pin(world.admin, card["id"], new="Zq7Pin5931"))
    card_login(card["number"], "Wrong55599")
    ok(card_login(card["number"], "Zq7Pin5931"))
    from portsign.common.models import AuditEvent

    dumped = json.dumps(list(AuditEvent.objects.values()), default=str)
    dumped += json.dumps(list(Card.objects.values()), default=str)
    for pin in ("Zq7Pin5931", "Wrong55599"):
        assert pin not in dumped
        assert pin not in caplog.text


# -- lifecycle, mirrored onto OCSP and the CRL ---------------------------------------------


def test_loss_and_freeze_put_the_certificate_on_hold_for_every_verifier(world, tmp_path):
    card = world.issue()
    pem = IssuedCertificate.objects.get(pk=card["certificate_id"]).certificate_pem
    serial = card["certificate_serial"]
    assert "card.pem: good" in ocsp_text(tmp_path, pem)
    lost = ok(world.reviewer.api.post(f"/eport/cards/{card['id']}/report-loss"))
    assert lost["status"] == "lost"
    answer = ocsp_text(tmp_path, pem)
    assert "card.pem: revoked" in answer
    assert "Reason: certificateHold" in answer
    assert "Certificate Hold" in crl_entry(tmp_path, serial)
    ok(world.reviewer.api.post(f"/eport/cards/{card['id']}/cancel-loss"))
    assert "card.pem: good" in ocsp_text(tmp_path, pem)
    assert crl_entry(tmp_path, serial) == ""
    ok(change_pin(world.admin, card["id"]))
    ok(world.reviewer.api.post(f"/eport/cards/{card['id']}/freeze"))
    assert "Reason: certificateHold" in ocsp_text(tmp_path, pem)
    assert change_pin(world.admin, card["id"], NEW_PIN, "97531864").status_code == 409
    frozen = card_login(card["number"], NEW_PIN)
    assert frozen.status_code == 401  # a frozen card cannot sign in
    unfrozen = ok(world.reviewer.api.post(f"/eport/cards/{card['id']}/unfreeze"))
    assert unfrozen["status"] == "active"
    assert "card.pem: good" in ocsp_text(tmp_path, pem)
    assert [e["action"] for e in unfrozen["history"]] == [
        "issue", "report_loss", "cancel_loss", "change_pin", "freeze", "unfreeze"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("lost_for_good", "reason", "crl_reason"),
    [
        (False, "cessationOfOperation", "Cessation Of Operation"),
        (True, "keyCompromise", "Key Compromise"),
    ],
)
def test_cancelling_revokes(world, tmp_path, lost_for_good, reason, crl_reason):
    card = world.issue()
    pem = IssuedCertificate.objects.get(pk=card["certificate_id"]).certificate_pem
    if lost_for_good:
        ok(world.reviewer.api.post(f"/eport/cards/{card['id']}/report-loss"))
    cancelled = ok(
        world.reviewer.api.post(
            f"/eport/cards/{card['id']}/cancel", {"lost_for_good": lost_for_good}
        )
    )
    assert cancelled["status"] == "cancelled"
    answer = ocsp_text(tmp_path, pem)
    assert "card.pem: revoked" in answer
    assert f"Reason: {reason}" in answer
    assert crl_reason in crl_entry(tmp_path, card["certificate_serial"])
    again = world.reviewer.api.post(f"/eport/cards/{card['id']}/unfreeze")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "card_state"


def test_lost_for_good_needs_a_loss_report(world):
    card = world.issue()
    refused = world.reviewer.api.post(f"/eport/cards/{card['id']}/cancel", {"lost_for_good": True})
    assert refused.json()["error"]["code"] == "card_not_lost"


def test_extension_renews_the_certificate_on_the_same_key_and_resets_the_pin(world, tmp_path):
    card = world.issue()
    ok(change_pin(world.admin, card["id"]))
    old = _certificate(card)
    extended = ok(world.reviewer.api.post(f"/eport/cards/{card['id']}/extend"))
    new = _certificate(extended)
    assert extended["certificate_id"] != card["certificate_id"]
    assert new.public_key().public_numbers() == old.public_key().public_numbers()  # type: ignore[union-attr]
    assert new.subject == old.subject
    assert new.not_valid_after_utc > old.not_valid_after_utc
    assert extended["pin_must_change"] is True  # seed 004: the PIN is 88888888 again
    old_pem = old.public_bytes(serialization.Encoding.PEM).decode()
    assert "Reason: superseded" in ocsp_text(tmp_path, old_pem)
    new_pem = new.public_bytes(serialization.Encoding.PEM).decode()
    assert "card.pem: good" in ocsp_text(tmp_path, new_pem)
    # The token now holds the new certificate; the superseded one no longer signs in.
    ok(change_pin(world.admin, card["id"]))
    assert _token_objects(card["number"])["certificates"] == [
        new.public_bytes(serialization.Encoding.DER).hex()
    ]
    assert ok(card_login(card["number"], NEW_PIN))["user"]["id"] == world.admin.user.id


def test_extension_after_expiry_is_refused_with_the_reason(world):
    card = world.issue()
    IssuedCertificate.objects.filter(pk=card["certificate_id"]).update(
        not_after=timezone.now() - dt.timedelta(days=1)
    )
    refused = world.reviewer.api.post(f"/eport/cards/{card['id']}/extend")
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "card_expired"
    assert "只能在到期前延期" in error["message"]


def test_replacing_a_faulty_card_gives_a_new_token_and_revokes_the_old(world, tmp_path):
    card = world.issue()
    old_pem = IssuedCertificate.objects.get(pk=card["certificate_id"]).certificate_pem
    new = ok(world.reviewer.api.post(f"/eport/cards/{card['id']}/replace"), 201)
    assert new["number"] == "46010010000002"
    assert new["replaces_id"] == card["id"]
    assert new["pin_must_change"] is True
    assert ok(world.reviewer.api.get(f"/eport/cards/{card['id']}"))["status"] == "cancelled"
    assert "Reason: superseded" in ocsp_text(tmp_path, old_pem)
    assert _certificate(new).public_key().public_numbers() != (
        _certificate(card).public_key().public_numbers()  # type: ignore[union-attr]
    )


# -- sign-in ------------------------------------------------------------------------------------


def test_the_legal_person_card_signs_in_first_then_operator_cards(world):
    legal = world.issue()
    operator = world.issue_operator_card()
    ok(change_pin(world.admin, legal["id"]))
    ok(change_pin(world.operator_person, operator["id"]))
    first = card_login(operator["number"], NEW_PIN)
    assert first.status_code == 401
    assert first.json()["error"]["code"] == "legal_person_card_first"
    legal_session = card_session(legal["number"])
    assert ok(legal_session.get("/eport/me/card"))["number"] == legal["number"]
    operator_session = card_session(operator["number"])
    me = ok(operator_session.get("/eport/me/card"))
    assert me["kind"] == "operator"
    assert me["holder_name"] == world.operator_person.user.name
    # A password session is not a card session.
    assert world.admin.api.get("/eport/me/card").status_code == 404


def test_operator_card_operations_need_the_legal_person_card_session(world):
    legal = world.issue()
    operator = world.issue_operator_card()
    ok(change_pin(world.admin, legal["id"]))
    # The main administrator signed in with a password may not; the office may not either.
    refused = world.admin.api.post(f"/eport/cards/{operator['id']}/report-loss")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "legal_person_card_required"
    assert world.reviewer.api.post(f"/eport/cards/{operator['id']}/report-loss").status_code == 403
    session = card_session(legal["number"])
    lost = ok(session.post(f"/eport/cards/{operator['id']}/report-loss"))
    assert lost["status"] == "lost"
    assert ok(session.post(f"/eport/cards/{operator['id']}/cancel-loss"))["status"] == "active"
    # A lost card cannot sign in.
    ok(change_pin(world.operator_person, operator["id"]))
    ok(session.post(f"/eport/cards/{operator['id']}/report-loss"))
    assert card_login(operator["number"], NEW_PIN).status_code == 401


def test_another_enterprises_card_is_not_found(world, bob, sanya, province_reviewer):
    card = world.issue()
    assert bob.api.get(f"/eport/cards/{card['id']}").status_code == 404
    assert bob.api.post(f"/eport/cards/{card['id']}/report-loss").status_code == 404
    assert (
        bob.api.post(
            f"/eport/cards/{card['id']}/pin", {"pin": "88888888", "new_pin": NEW_PIN}
        ).status_code
        == 404
    )
    # The province office above the city office reads it, but may not act on it.
    assert ok(province_reviewer.api.get(f"/eport/cards/{card['id']}"))["number"] == card["number"]
    assert province_reviewer.api.post(f"/eport/cards/{card['id']}/freeze").status_code == 403


def test_a_card_session_stops_acting_when_the_card_expires(world):
    legal = world.issue()
    ok(change_pin(world.admin, legal["id"]))
    session = card_session(legal["number"])
    assert ok(session.get("/eport/me/card"))["number"] == legal["number"]
    IssuedCertificate.objects.filter(pk=legal["certificate_id"]).update(
        not_after=timezone.now() - dt.timedelta(seconds=1)
    )
    assert session.get("/eport/me/card").json()["error"]["code"] == "no_card"
