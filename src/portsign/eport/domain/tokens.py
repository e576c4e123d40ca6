"""The platform's side of the card reader (`eport.cardreader`): one process per operation.

The reader runs with the card module and, for SoftHSM2, a configuration whose token directory
is CARD_TOKEN_DIR, so card tokens never mix with the platform's own HSM (the KEK). Requests go
over stdin: PINs never appear in a command line, a log or an exception message.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

INITIAL_PIN = "88888888"  # seed 004 / EPORT.md §3.1: 8 eights, reset by unlock and extension
_TIMEOUT_SECONDS = 60


class TokenError(Exception):
    """The reader refused or failed; `code` is the reader's (pin_incorrect, pin_locked, …)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Created:
    csr_pem: str
    serial: str


def _softhsm_conf() -> Path:
    """A SoftHSM2 configuration for the card tokens, written once beside them."""
    directory = Path(settings.CARD_TOKEN_DIR)
    tokens = directory / "tokens"
    tokens.mkdir(parents=True, exist_ok=True, mode=0o700)
    conf = directory / "softhsm2.conf"
    text = (
        f"directories.tokendir = {tokens}\n"
        "objectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
    )
    if not conf.exists() or conf.read_text() != text:
        conf.write_text(text)
    return conf


def reader_environment() -> dict[str, str]:
    """The environment a card client needs (the reader, or `portsign login --pkcs11-module`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTSIGN_")}
    env["PORTSIGN_CARD_PKCS11_MODULE"] = settings.CARD_PKCS11_MODULE
    if "softhsm" in settings.CARD_PKCS11_MODULE:
        env["SOFTHSM2_CONF"] = str(_softhsm_conf())
    return env


def _call(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    try:
        done = subprocess.run(  # noqa: S603 -- our own module; the request goes on stdin
            [sys.executable, "-m", "portsign.eport.cardreader", operation],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            env=reader_environment(),
        )
        answer = json.loads(done.stdout or "{}")
    except (subprocess.TimeoutExpired, OSError, ValueError) as exc:
        raise TokenError("failed", type(exc).__name__) from exc
    if not isinstance(answer, dict):
        raise TokenError("failed", "the reader answered no object")
    if "error" in answer:
        raise TokenError(str(answer["error"]), str(answer.get("detail", ""))[:200])
    return answer


def create(*, label: str, so_pin: str) -> Created:
    """A new token labelled *label* with a key pair made on it and the initial PIN."""
    answer = _call("create", {"label": label, "so_pin": so_pin, "pin": INITIAL_PIN})
    return Created(csr_pem=answer["csr"], serial=answer.get("serial", ""))


def store_certificate(*, label: str, pin: str, certificate_der: bytes) -> None:
    _call(
        "store_cert",
        {"label": label, "pin": pin, "certificate": base64.b64encode(certificate_der).decode()},
    )


def sign(*, label: str, pin: str, message: bytes) -> bytes:
    """RSA PKCS#1 v1.5 SHA-256 over *message*, computed on the token."""
    answer = _call(
        "sign", {"label": label, "pin": pin, "message": base64.b64encode(message).decode()}
    )
    return base64.b64decode(answer["signature"])


def change_pin(*, label: str, pin: str, new_pin: str) -> None:
    _call("change_pin", {"label": label, "pin": pin, "new_pin": new_pin})


def reset_pin(*, label: str, so_pin: str) -> None:
    """The security officer sets the PIN back to the initial one (unlock, extension)."""
    _call("reset_pin", {"label": label, "so_pin": so_pin, "new_pin": INITIAL_PIN})


def locked_by_token(label: str) -> bool:
    """Whether the token itself has locked its PIN (modules that count tries; SoftHSM2 does not)."""
    return bool(_call("status", {"label": label}).get("locked"))
