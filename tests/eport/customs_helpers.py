"""Customs for the paperless agreements: a customs authority acting for 青岛 (4200) and one for
南京 (2300), each with a reviewer, and an enterprise whose legal-person card is in use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portsign.eport.domain import districts
from portsign.eport.domain.authorities import add_reviewer, create_authority
from tests.eport.card_helpers import CardWorld, card_session, change_pin
from tests.eport.conftest import ok
from tests.helpers import Api, Person, make_person

QINGDAO, NANJING = "4200", "2300"


@dataclass
class Customs:
    qingdao: Person  # reviews 4200
    nanjing: Person  # reviews 2300


def customs_reviewers() -> Customs:
    national = create_authority(kind="customs", code="100000", name="海关总署", parent=None)
    shandong = create_authority(kind="customs", code="370000", name="青岛海关", parent=national)
    jiangsu = create_authority(kind="customs", code="320000", name="南京海关", parent=national)
    districts.assign(code=QINGDAO, authority=shandong)
    districts.assign(code=NANJING, authority=jiangsu)
    qingdao = make_person("+8613800000071", "Qingdao Customs Test")
    nanjing = make_person("+8613800000072", "Nanjing Customs Test")
    add_reviewer(authority=shandong, user=qingdao.user)
    add_reviewer(authority=jiangsu, user=nanjing.user)
    return Customs(qingdao, nanjing)


def legal_person_session(world: CardWorld) -> tuple[dict[str, Any], Api]:
    """The legal-person card issued, its PIN changed, and a session opened with it."""
    card = world.issue()
    ok(change_pin(world.admin, card["id"]))
    return card, card_session(card["number"])


def sign(session: Api, enterprise_id: str, codes: list[str], **extra: Any):
    from tests.eport.card_helpers import NEW_PIN

    body = {"districts": codes, "accept_terms": True, "pin": NEW_PIN, **extra}
    return session.post(f"/eport/enterprises/{enterprise_id}/paperless-agreements", body)
