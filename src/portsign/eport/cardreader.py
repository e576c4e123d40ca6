"""The card reader: every operation on an E-Port card's PKCS#11 token, in a process of its own.

    python -m portsign.eport.cardreader OPERATION    (a JSON request on stdin, a JSON answer out)

Django-free on purpose. The server runs one of these per operation (`eport.domain.tokens`),
with SOFTHSM2_CONF (or a vendor's module) chosen for the card tokens. A process of its own
because a PKCS#11 library reads its configuration once per process and only sees tokens that
existed when it started, and because a card is a device apart from the platform's own HSM: a
card operation never shares a library, a session or a login with the KEK.

PINs arrive on stdin, never in argv (which other users can read in /proc), and are never
written anywhere. The private key is generated on the token (sensitive, not extractable) and
only ever used there.

Operations (request fields → answer fields):

    create        label, so_pin, pin                 → csr (PEM, signed on the token), serial
    store_cert    label, pin, certificate (b64 DER)  → {}  (replaces the card's certificate)
    sign          label, pin, message (b64)          → signature (b64; RSA PKCS#1 v1.5 SHA-256)
    change_pin    label, pin, new_pin                → {}
    reset_pin     label, so_pin, new_pin             → {}  (the security officer sets the PIN)
    status        label                              → present, locked, serial

An error answers {"error": code, "detail": text} with code one of pin_incorrect, pin_locked,
pin_invalid, no_token, no_key, token_exists, failed; the exit status is 0 either way.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509

from portsign.clientcli import (
    _find_private_key,
    _generate_token_key,
    _store_token_certificate,
    _token_csr,
    _token_public_key,
    _token_sign,
)

KEY_LABEL = "card"  # the key and certificate objects on every card token
MODULE_ENV = "PORTSIGN_CARD_PKCS11_MODULE"
DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
USER_PIN_LOCKED = 0x00040000  # CKF_USER_PIN_LOCKED in the token's flags


class ReaderError(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


def _module() -> str:
    return os.environ.get(MODULE_ENV) or DEFAULT_MODULE


def _lib() -> Any:
    import pkcs11

    return pkcs11.lib(_module())


def _token(label: str) -> Any:
    import pkcs11

    try:
        return _lib().get_token(token_label=label)
    except pkcs11.NoSuchToken as exc:
        raise ReaderError("no_token", f"no token labelled {label!r}") from exc


def _session(label: str, *, pin: str | None = None, so_pin: str | None = None) -> Any:
    import pkcs11

    token = _token(label)
    if token.flags & USER_PIN_LOCKED and so_pin is None:
        raise ReaderError("pin_locked", "the token has locked its user PIN")
    try:
        if so_pin is not None:
            return token.open(rw=True, so_pin=so_pin)
        return token.open(rw=True, user_pin=pin)
    except pkcs11.PinIncorrect as exc:
        raise ReaderError("pin_incorrect") from exc
    except pkcs11.PinLocked as exc:
        raise ReaderError("pin_locked") from exc
    except (pkcs11.PinLenRange, pkcs11.PinInvalid) as exc:
        raise ReaderError("pin_invalid") from exc


def _private_key(session: Any) -> Any:
    key = _find_private_key(session, KEY_LABEL)
    if key is None:
        raise ReaderError("no_key", "the token holds no card key")
    return key


def _init_softhsm_token(label: str, so_pin: str, pin: str) -> None:
    """softhsm2-util initialises a token in the first free slot. Python-pkcs11 has no
    C_InitToken; a vendor's cards arrive initialised, so this is SoftHSM2's (tests, demo)."""
    if "softhsm" not in _module():
        raise ReaderError("failed", "only SoftHSM2 tokens can be created here")
    conf, tool = os.environ.get("SOFTHSM2_CONF"), shutil.which("softhsm2-util")
    if not conf or not tool:
        raise ReaderError("failed", "SoftHSM2 needs SOFTHSM2_CONF and softhsm2-util")
    lock_path = Path(conf).with_suffix(".lock")
    with open(lock_path, "a") as lock:  # two creations at once would take the same free slot
        fcntl.flock(lock, fcntl.LOCK_EX)
        existing = [t.label for t in _lib().get_tokens()]
        if label in existing:
            raise ReaderError("token_exists", f"a token labelled {label!r} exists")
        done = subprocess.run(  # noqa: S603 -- a fixed tool; the arguments are ours
            [tool, "--init-token", "--free", "--label", label, "--so-pin", so_pin,
             "--pin", pin],
            capture_output=True,
            text=True,
            timeout=30,
        )  # fmt: skip
    if done.returncode != 0:
        raise ReaderError("failed", (done.stderr or done.stdout).strip()[:200])


def create(request: dict[str, Any]) -> dict[str, Any]:
    label = request["label"]
    # softhsm2-util takes PINs only as arguments, which other users can read in /proc: the
    # token is made with a throwaway SO PIN that is replaced inside the token at once.
    setup_so_pin = secrets.token_hex(16)
    _init_softhsm_token(label, setup_so_pin, request["pin"])
    # This process loaded the library before the token existed: a fresh one sees it.
    _lib().reinitialize()
    with _session(label, so_pin=setup_so_pin) as officer:
        officer.set_pin(setup_so_pin, request["so_pin"])
    with _session(label, pin=request["pin"]) as session:
        _, private = keys = _generate_token_key(session, "rsa2048", KEY_LABEL)
        csr = _token_csr(_token_public_key(keys[0]), private)
    return {"csr": csr, "serial": str(_token(label).serial.decode(errors="replace")).strip()}


def store_cert(request: dict[str, Any]) -> dict[str, Any]:
    from pkcs11 import Attribute, ObjectClass

    certificate = x509.load_der_x509_certificate(base64.b64decode(request["certificate"]))
    with _session(request["label"], pin=request["pin"]) as session:
        private = _private_key(session)
        public = next(
            iter(
                session.get_objects(
                    {Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.LABEL: KEY_LABEL}
                )
            )
        )
        for old in list(
            session.get_objects(
                {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: KEY_LABEL}
            )
        ):
            old.destroy()
        _store_token_certificate(session, (public, private), certificate, KEY_LABEL)
    return {}


def sign(request: dict[str, Any]) -> dict[str, Any]:
    with _session(request["label"], pin=request["pin"]) as session:
        signature = _token_sign(_private_key(session), base64.b64decode(request["message"]))
    return {"signature": base64.b64encode(signature).decode()}


def change_pin(request: dict[str, Any]) -> dict[str, Any]:
    import pkcs11

    with _session(request["label"], pin=request["pin"]) as session:
        try:
            session.set_pin(request["pin"], request["new_pin"])
        except (pkcs11.PinLenRange, pkcs11.PinInvalid) as exc:
            raise ReaderError("pin_invalid") from exc
    return {}


def reset_pin(request: dict[str, Any]) -> dict[str, Any]:
    with _session(request["label"], so_pin=request["so_pin"]) as session:
        session.init_pin(request["new_pin"])
    return {}


def status(request: dict[str, Any]) -> dict[str, Any]:
    try:
        token = _token(request["label"])
    except ReaderError:
        return {"present": False, "locked": False, "serial": ""}
    return {
        "present": True,
        "locked": bool(token.flags & USER_PIN_LOCKED),
        "serial": token.serial.decode(errors="replace").strip(),
    }


OPERATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "create": create,
    "store_cert": store_cert,
    "sign": sign,
    "change_pin": change_pin,
    "reset_pin": reset_pin,
    "status": status,
}


def main(argv: list[str]) -> int:
    import pkcs11

    operation = OPERATIONS.get(argv[1] if len(argv) > 1 else "")
    try:
        if operation is None:
            raise ReaderError("failed", f"unknown operation; use one of {sorted(OPERATIONS)}")
        answer = operation(json.loads(sys.stdin.read() or "{}"))
    except ReaderError as exc:
        answer = {"error": exc.code, "detail": exc.detail}
    except (pkcs11.PKCS11Error, KeyError, ValueError, OSError) as exc:
        answer = {"error": "failed", "detail": type(exc).__name__}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
