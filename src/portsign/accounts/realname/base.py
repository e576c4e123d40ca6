"""The interface of real-name (identity) verification providers (SPEC A5, B2).

A provider answers whether the elements a person gave belong together according to an
authoritative source (carrier, bank, public-security photo database). It never decides on its
own what PortSign does with the answer; the domain layer does.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    MATCH = "match"  # all elements belong together
    MISMATCH = "mismatch"  # the source says they do not
    ERROR = "error"  # the provider could not answer (outage, quota, bad request)
    PENDING = "pending"  # a face session the person has not finished yet


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    # The provider's own result code and description, kept as evidence.
    provider_code: str
    description: str = ""
    request_id: str = ""

    @property
    def retryable(self) -> bool:
        return self.outcome == Outcome.ERROR


@dataclass(frozen=True)
class FaceSession:
    """A liveness check the person completes on a phone: `url` goes into a QR code."""

    session_id: str
    url: str


class RealNameProvider(Protocol):
    def carrier3(self, *, name: str, id_number: str, phone: str) -> Answer:
        """Mobile-carrier three elements: name + ID number + the number's registered owner."""
        ...

    def bank4(self, *, name: str, id_number: str, card_number: str, phone: str) -> Answer:
        """Bank-card four elements: name + ID number + card + the card's reserved phone."""
        ...

    def id2(self, *, name: str, id_number: str) -> Answer:
        """Name + ID number against the public-security database."""
        ...

    def enterprise3(self, *, name: str, uscc: str, legal_rep_name: str) -> Answer:
        """Business-registration three elements: the enterprise name, its credit code and its
        legal representative belong together."""
        ...

    def start_face(self, *, name: str, id_number: str, return_url: str) -> FaceSession:
        """Begin a liveness + photo comparison; the person opens `url` on a phone."""
        ...

    def face_result(self, *, session_id: str) -> Answer:
        """The outcome of a face session (PENDING until the person has completed it)."""
        ...
