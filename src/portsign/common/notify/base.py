"""The interface every notification gateway implements.

A gateway delivers one message to the outside world. It raises `DeliveryError`; `permanent`
tells the outbox whether retrying can help (a malformed number never will, an outage may).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingMessage:
    to: str  # E.164 phone number ("+8613800000000") or e-mail address
    channel: str  # "sms" or "email"
    subject: str
    text: str
    # Template parameters, e.g. {"code": "123456"}; SMS vendors send these, not `text`.
    data: dict[str, str] = field(default_factory=dict)


class DeliveryError(Exception):
    def __init__(self, message: str, *, permanent: bool, provider_code: str = "") -> None:
        super().__init__(message)
        self.permanent = permanent
        self.provider_code = provider_code


class Gateway(Protocol):
    channel: str

    def send(self, message: OutgoingMessage) -> str:
        """Deliver *message*; return the provider's message id. Raise DeliveryError."""
        ...
