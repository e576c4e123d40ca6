"""The sandbox real-name provider: the embedded default, real code with state.

It answers like the carrier, bank and public-security sources do, driven by documented magic
inputs (docs/sandbox.md), so every outcome can be exercised without a vendor contract:
- a name containing 不符 (or "Mismatch") never matches its ID number → MISMATCH;
- a phone (the carrier's or the card's reserved one) ending in 9992 → MISMATCH;
- a phone ending in 9993 → provider ERROR (outage, retryable);
- an ID number whose sequence digits (positions 15–17) are 999 → MISMATCH in every check;
- face sessions wait until someone confirms or rejects them on /sandbox/face/<id>/;
- an enterprise name (or legal representative) containing 不符 fails the enterprise check.
Anything else matches.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.urls import reverse

from portsign.accounts.realname.base import Answer, FaceSession, Outcome
from portsign.common.cn_ids import mask_id_number
from portsign.common.models import SandboxFaceSession


def _request_id() -> str:
    return "sandbox-" + secrets.token_hex(8)


def _judge(*, name: str, id_number: str, phone: str = "") -> Answer:
    if phone.endswith("9993"):
        return Answer(Outcome.ERROR, "ServiceUnavailable", "provider outage", _request_id())
    if "不符" in name or "mismatch" in name.lower() or id_number[14:17] == "999":
        return Answer(Outcome.MISMATCH, "NameIdMismatch", "name and ID do not match", _request_id())
    if phone.endswith("9992"):
        return Answer(Outcome.MISMATCH, "PhoneMismatch", "phone is not the person's", _request_id())
    return Answer(Outcome.MATCH, "0", "match", _request_id())


class SandboxRealNameProvider:
    name = "sandbox"

    def carrier3(self, *, name: str, id_number: str, phone: str) -> Answer:
        return _judge(name=name, id_number=id_number, phone=phone)

    def bank4(self, *, name: str, id_number: str, card_number: str, phone: str) -> Answer:
        return _judge(name=name, id_number=id_number, phone=phone)

    def id2(self, *, name: str, id_number: str) -> Answer:
        return _judge(name=name, id_number=id_number)

    def enterprise3(self, *, name: str, uscc: str, legal_rep_name: str) -> Answer:
        if "不符" in name or "mismatch" in name.lower() or "不符" in legal_rep_name:
            return Answer(
                Outcome.MISMATCH,
                "EnterpriseMismatch",
                "name, credit code and legal representative do not belong together",
                _request_id(),
            )
        return Answer(Outcome.MATCH, "0", "match", _request_id())

    def start_face(self, *, name: str, id_number: str, return_url: str) -> FaceSession:
        row = SandboxFaceSession.objects.create(
            name=name, id_number_masked=mask_id_number(id_number), return_url=return_url
        )
        path = reverse("sandbox_face", args=[row.id])
        return FaceSession(session_id=row.id, url=settings.PUBLIC_URL + path)

    def face_result(self, *, session_id: str) -> Answer:
        row = SandboxFaceSession.objects.filter(pk=session_id).first()
        if row is None:
            return Answer(Outcome.ERROR, "SessionNotFound", "unknown face session")
        if row.status == SandboxFaceSession.Status.PASSED:
            return _judge(name=row.name, id_number="")
        if row.status == SandboxFaceSession.Status.REJECTED:
            return Answer(Outcome.MISMATCH, "FaceMismatch", "the face does not match")
        return Answer(Outcome.PENDING, "Waiting", "the person has not finished yet")
