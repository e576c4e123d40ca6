"""E-Port card fixtures: an enterprise through onboarding, its office reviewer, a registered
operator who is a verified member, and helpers that read OCSP and CRL answers with openssl."""

from __future__ import annotations

import base64
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.test import Client

from portsign.enterprises.models import Membership, Role
from portsign.eport.domain import tokens
from portsign.eport.models import Reviewer
from portsign.pki.ca import Role as CaRole
from portsign.pki.ca import authority, init_hierarchy
from tests.eport.conftest import FORMS, decide, declared, enterprise_info, ok, operator_form
from tests.helpers import Api, Person, make_person, synthetic_id_number, verify_person

OPERATOR_SEQUENCE = 61
NEW_PIN = "24681357"


@dataclass
class CardWorld:
    admin: Person  # the main administrator: the legal-person card's holder
    reviewer: Person  # the city office's reviewer
    operator_person: Person  # a verified member registered as an operator
    enterprise: Any
    operator_id: str
    reviewer_authority: str  # the id of the office the reviewer reviews for

    def issue(self, holder: str = "legal_person", medium: str = "ukey") -> dict[str, Any]:
        body = {"enterprise_id": self.enterprise.id, "holder": holder, "medium": medium}
        return ok(self.reviewer.api.post("/eport/cards", body), 201)

    def issue_operator_card(self) -> dict[str, Any]:
        return self.issue(self.operator_id)


def onboard_fully(person: Person, enterprise, reviewer: Person) -> None:
    """The four onboarding filings declared and approved."""
    for kind, data in (("enterprise_info", enterprise_info(enterprise)), *FORMS.items()):
        filing = declared(person, enterprise, kind, data)
        decide(reviewer, filing["id"], "approve", "同意。")


def operator_member(enterprise, account: str, name: str, sequence: int) -> Person:
    person = make_person(account, name)
    verify_person(person, sequence)
    role = Role.objects.get(enterprise=enterprise, key="member")
    Membership.objects.create(enterprise=enterprise, user=person.user, role=role)
    return person


def register(admin: Person, enterprise, reviewer: Person, person: Person, sequence: int) -> str:
    form = operator_form(
        sequence,
        name=person.user.name,
        id_number=synthetic_id_number(sequence),
        birth_date="1990-03-07",
    )
    filing = declared(admin, enterprise, "operator", form)
    return decide(reviewer, filing["id"], "approve", "同意。")["operator"]["id"]


def card_world(alice: Person, haikou, city_reviewer: Person) -> CardWorld:
    """Alice's Haikou enterprise onboarded, and Olivia, a verified member, its operator."""
    init_hierarchy()
    onboard_fully(alice, haikou, city_reviewer)
    olivia = operator_member(haikou, "+8613800000061", "Olivia Operator Test", OPERATOR_SEQUENCE)
    operator_id = register(alice, haikou, city_reviewer, olivia, OPERATOR_SEQUENCE)
    office = Reviewer.objects.get(user=city_reviewer.user).authority_id
    return CardWorld(alice, city_reviewer, olivia, haikou, operator_id, office)


def change_pin(person: Person, card_id: str, old: str = tokens.INITIAL_PIN, new: str = NEW_PIN):
    return person.api.post(f"/eport/cards/{card_id}/pin", {"pin": old, "new_pin": new})


def card_login(number: str, pin: str) -> Any:
    return Api("").post("/eport/cards/login", {"number": number, "pin": pin})


def card_session(number: str, pin: str = NEW_PIN) -> Api:
    """An API client whose token was opened with the card."""
    return Api(ok(card_login(number, pin))["token"])


# -- openssl on our OCSP and CRL -------------------------------------------------------------


def openssl(command: str, cwd: Path) -> str:
    done = subprocess.run(
        ["openssl", *shlex.split(command)], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _chain(work: Path, certificate_pem: str) -> None:
    (work / "card.pem").write_text(certificate_pem)
    (work / "issuing.pem").write_text(authority(CaRole.ISSUING).certificate_pem)
    (work / "root.pem").write_text(authority(CaRole.ROOT).certificate_pem)


def ocsp_text(work: Path, certificate_pem: str) -> str:
    """`openssl ocsp` asks our responder (through Django's test client) about the certificate
    and checks the answer; the status lines it prints."""
    _chain(work, certificate_pem)
    openssl("ocsp -issuer issuing.pem -cert card.pem -no_nonce -reqout req.der", work)
    answer = Client().post(
        "/pki/ocsp", data=(work / "req.der").read_bytes(), content_type="application/ocsp-request"
    )
    assert answer.status_code == 200
    (work / "resp.der").write_bytes(answer.content)
    return openssl(
        "ocsp -respin resp.der -issuer issuing.pem -cert card.pem -no_nonce "
        "-CAfile root.pem -verify_other issuing.pem",
        work,
    )


def crl_text(work: Path) -> str:
    answer = Client().get("/pki/crl/issuing.crl")
    assert answer.status_code == 200
    (work / "issuing.crl").write_bytes(answer.content)
    (work / "issuing.pem").write_text(authority(CaRole.ISSUING).certificate_pem)
    return openssl("crl -inform DER -in issuing.crl -CAfile issuing.pem -text -noout", work)


def crl_entry(work: Path, serial_hex: str) -> str:
    """The CRL's entry for *serial_hex* (its lines up to the next entry), or ""."""
    text = crl_text(work)
    wanted = serial_hex.upper().lstrip("0")
    blocks = text.split("Serial Number: ")[1:]
    for block in blocks:
        if block.split()[0].upper().lstrip("0") == wanted:
            return block
    return ""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
