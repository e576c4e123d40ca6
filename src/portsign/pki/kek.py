"""Key-encryption keys (KEK) for the vault: a file in DATA_DIR or a secret key inside a token.

The vault seals each private key with its own data key (DEK) and hands the DEK to a KEK
backend to wrap. Two backends, chosen by `PORTSIGN_PKI_KEK`:

- `FileKek` (embedded default): 32 random bytes in a 0600 file; wrapping is AES-256-GCM in
  this process. A copy of the database alone reveals nothing, but the file must be guarded
  like the keys themselves.
- `Pkcs11Kek`: a non-extractable, sensitive AES-256 key object in a PKCS#11 token (an HSM;
  SoftHSM2 in tests). Wrapping is CKM_AES_GCM performed inside the token, so the KEK never
  exists in this process's memory, on disk or in a backup.

Every wrapped DEK is stored with the `kek_id` of the KEK that wrapped it, so during and after
a rotation each record finds its own KEK. The record id is the GCM associated data, so wrapped
blobs cannot be swapped between records.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from portsign.common.keyfile import KeyFileError, read_or_create_key

NONCE_BYTES = 12  # the GCM nonce size every AES-GCM implementation handles natively
TAG_BITS = 128


class VaultError(Exception):
    """The vault cannot open a key (wrong or missing KEK, tampered record, token refused)."""


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM in software: nonce(12) + ciphertext + tag. Used for keys and file KEKs."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except Exception as exc:  # InvalidTag: wrong KEK or tampered record
        raise VaultError("a sealed key could not be opened") from exc


class PendingKek(ABC):
    """A new KEK during a rotation: it wraps the re-wrapped DEKs, then becomes current."""

    kek_id: str

    @abstractmethod
    def wrap(self, dek: bytes, aad: bytes) -> bytes: ...

    @abstractmethod
    def activate(self) -> None:
        """Called once the re-wrap has committed: from now on this KEK is the current one."""


class KekBackend(ABC):
    @abstractmethod
    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        """Wrap *dek* under the current KEK; returns (kek_id, wrapped) from the same KEK."""

    @abstractmethod
    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        """Open *wrapped* with the KEK named *kek_id*, which need not be the current one."""

    @abstractmethod
    def begin_rotation(self, new_kek: bytes | None) -> PendingKek:
        """Create the next KEK beside the current one, both usable until `activate`."""


# --- file ------------------------------------------------------------------------------------


def file_kek_id(kek: bytes) -> str:
    return hashlib.sha256(kek).hexdigest()[:16]


@dataclass(frozen=True)
class FileKek(KekBackend):
    """The KEK is a 0600 file (`PKI_KEK_FILE`), created on first use in embedded mode.

    A rotation writes the new KEK beside it as `<file>.new`, and replaces the file with it only
    after the re-wrap committed; until then a record may name either, and both are found.
    """

    path: Path

    @property
    def pending_path(self) -> Path:
        return self.path.with_suffix(".new")

    def read(self) -> bytes:
        """The current KEK, created (mode 0600) on first use."""
        try:
            return read_or_create_key(self.path)
        except KeyFileError as exc:
            raise VaultError("the key-encryption key must be exactly 32 bytes") from exc

    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        kek = self.read()
        return file_kek_id(kek), seal(kek, dek, aad)

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        # The current KEK, or — after a rotation interrupted between its commit and its final
        # rename — the new one still waiting beside it.
        current = self.read()
        if kek_id == file_kek_id(current):
            return unseal(current, wrapped, aad)
        if self.pending_path.exists():
            pending = self.pending_path.read_bytes()
            if kek_id == file_kek_id(pending):
                return unseal(pending, wrapped, aad)
        raise VaultError("no key-encryption key matches this record")

    def begin_rotation(self, new_kek: bytes | None) -> PendingKek:
        kek = os.urandom(32) if new_kek is None else new_kek
        if len(kek) != 32:
            raise VaultError("the new key-encryption key must be exactly 32 bytes")
        self.read()  # the current KEK must exist before a new one stands beside it
        self._finish_interrupted_rotation()
        fd = os.open(self.pending_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(kek)
        return _PendingFileKek(self, kek)

    def _finish_interrupted_rotation(self) -> None:
        """A `.new` file left by a rotation that committed but stopped before its rename holds
        the only KEK of the re-wrapped records: make it current rather than overwrite it. One
        that no record names is from a rotation that rolled back, and may be replaced."""
        from portsign.pki.models import KeyRecord  # the models import the vault's helpers

        if not self.pending_path.exists():
            return
        waiting = file_kek_id(self.pending_path.read_bytes())
        if KeyRecord.objects.filter(kek_id=waiting).exists():
            self.pending_path.replace(self.path)


class _PendingFileKek(PendingKek):
    def __init__(self, owner: FileKek, kek: bytes) -> None:
        self._owner, self._kek, self.kek_id = owner, kek, file_kek_id(kek)

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        return seal(self._kek, dek, aad)

    def activate(self) -> None:
        self._owner.pending_path.replace(self._owner.path)


# --- PKCS#11 ---------------------------------------------------------------------------------

# The binding is imported where it is used: importing it costs ~60 ms, and embedded mode (every
# test, every manage.py call) never needs it. python-pkcs11 builds key classes from mixins at
# run time, so its stubs cannot name "an AES key that encrypts"; these aliases say what is meant.
Session = Any
AesKey = Any

T = TypeVar("T")


def _lost_session_errors() -> tuple[type[Exception], ...]:
    """Errors after which the session is gone (token removed, HSM connection reset): open a
    new session and try once more instead of failing every request until a restart."""
    import pkcs11

    return (
        pkcs11.SessionClosed,
        pkcs11.SessionHandleInvalid,
        pkcs11.DeviceRemoved,
        pkcs11.TokenNotPresent,
    )


@dataclass(frozen=True)
class Pkcs11Config:
    """Where the KEK lives. The PIN is read from *pin_file* when a session opens; it is never
    kept in settings, the environment or an error message."""

    module: str
    token_label: str
    pin_file: str
    kek_label: str

    @classmethod
    def from_settings(cls) -> Pkcs11Config:
        return cls(
            module=settings.PKCS11_MODULE,
            token_label=settings.PKCS11_TOKEN_LABEL,
            pin_file=settings.PKCS11_PIN_FILE,
            kek_label=settings.PKCS11_KEK_LABEL,
        )


class Pkcs11Kek(KekBackend):
    """The KEK is an AES-256 secret key object in a PKCS#11 token; it never leaves the token.

    Generations: the first KEK is labelled `<kek_label>`, each rotation adds `<kek_label>.1`,
    `<kek_label>.2`, … The current KEK is the highest generation present in the token, so the
    token itself records which KEK is current and nothing beside the database and the token
    can get out of step. Rotation leaves older generations in the token: records (and
    database backups) that name them keep opening until an operator deletes them.

    One session per process, opened lazily and reused: opening one logs in, which is slow on
    network HSMs. A lock makes threads open it once (a second login fails with
    CKR_USER_ALREADY_LOGGED_IN) and keeps each multi-step use — find the current KEK, then
    encrypt; scan the token, then cache — whole. python-pkcs11 itself serialises single
    operations on a session.
    """

    def __init__(self, config: Pkcs11Config) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._session: Session | None = None
        self._serial = b""
        self._pid = 0
        self._by_id: dict[str, AesKey] = {}  # kek_id -> key object of the open session

    # session ---------------------------------------------------------------------------

    def _read_pin(self) -> str:
        if not self.config.pin_file:
            raise VaultError("PORTSIGN_PKCS11_PIN_FILE is not set")
        try:
            # Only the line break an editor adds is dropped: a PIN may contain spaces.
            return Path(self.config.pin_file).read_text().rstrip("\r\n")
        except OSError as exc:
            raise VaultError(
                f"cannot read the PKCS#11 PIN file {self.config.pin_file}: {exc.strerror}"
            ) from None

    def _open(self) -> Session:
        import pkcs11

        try:
            lib = pkcs11.lib(self.config.module)
        except pkcs11.PKCS11Error as exc:
            raise VaultError(f"cannot load the PKCS#11 module {self.config.module}") from exc
        if self._pid and self._pid != os.getpid():
            # A forked child must C_Initialize again; the parent's session is not its own.
            lib.reinitialize()
        try:
            token = lib.get_token(token_label=self.config.token_label)
        except (pkcs11.NoSuchToken, pkcs11.MultipleTokensReturned) as exc:
            raise VaultError(
                f"no single PKCS#11 token is labelled {self.config.token_label!r}"
            ) from exc
        try:
            # The PIN goes straight into the call: no local variable holds it for an error
            # reporter that records the locals of each traceback frame.
            session = token.open(rw=True, user_pin=self._read_pin())
        except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange) as exc:
            # Name the file, never its content.
            raise VaultError(
                "the PKCS#11 token refused the PIN in PORTSIGN_PKCS11_PIN_FILE"
            ) from exc
        except pkcs11.PinLocked as exc:
            raise VaultError("the PKCS#11 token has locked its user PIN") from exc
        except pkcs11.PKCS11Error as exc:
            raise VaultError(f"cannot open a PKCS#11 session: {type(exc).__name__}") from exc
        self._session, self._serial, self._pid = session, token.serial, os.getpid()
        self._by_id.clear()
        return session

    def session(self) -> Session:
        """The process's logged-in session, opened on first use (and again after a fork)."""
        with self._lock:
            if self._session is None or self._pid != os.getpid():
                self._session = None
                return self._open()
            return self._session

    def close(self) -> None:
        """Log out and close the session (tests; a changed configuration)."""
        with self._lock:
            session, self._session = self._session, None
            self._by_id.clear()
            if session is not None and self._pid == os.getpid():
                import pkcs11

                # A session already gone with its token has nothing left to free.
                with contextlib.suppress(pkcs11.PKCS11Error):
                    session.close()

    def _call(self, action: Callable[[Session], T]) -> T:
        """Run *action* on the session under the lock; reopen once if the session was lost."""
        with self._lock:
            try:
                return action(self.session())
            except _lost_session_errors():
                self._session = None
                self._by_id.clear()
                return action(self.session())

    # key objects -----------------------------------------------------------------------

    def kek_id_of(self, key: AesKey) -> str:
        """16 hex characters naming one key object: token serial, label and CKA_ID. Another
        token, or a key re-created under the same label, gets another id."""
        digest = hashlib.sha256(b"pkcs11\0" + self._serial + b"\0")
        digest.update(str(key.label).encode() + b"\0" + bytes(key.id))
        return digest.hexdigest()[:16]

    def generation(self, label: str) -> int | None:
        """0 for `<kek_label>`, n for `<kek_label>.n`, None for any other object."""
        base = self.config.kek_label
        if label == base:
            return 0
        match = re.fullmatch(re.escape(base) + r"\.([1-9][0-9]*)", label)
        return int(match.group(1)) if match else None

    def _generations(self, session: Session) -> dict[int, AesKey]:
        """Every KEK generation in the token (remembering their ids for unwrap)."""
        import pkcs11

        found: dict[int, AesKey] = {}
        query = {
            pkcs11.Attribute.CLASS: pkcs11.ObjectClass.SECRET_KEY,
            pkcs11.Attribute.KEY_TYPE: pkcs11.KeyType.AES,
        }
        for key in session.get_objects(query):
            number = self.generation(key.label)
            if number is not None:
                found[number] = key
                self._by_id[self.kek_id_of(key)] = key
        return found

    def _current(self, session: Session) -> AesKey:
        generations = self._generations(session)
        if not generations:
            raise VaultError(
                f"the PKCS#11 token has no key-encryption key {self.config.kek_label!r}; "
                "run `manage.py pki init`"
            )
        return generations[max(generations)]

    def _generate(self, session: Session, label: str) -> AesKey:
        import pkcs11
        from pkcs11 import Attribute, MechanismFlag

        key = session.generate_key(
            pkcs11.KeyType.AES,
            256,
            label=label,
            id=os.urandom(16),
            store=True,
            # Encrypt and decrypt only: the KEK cannot wrap, sign or derive anything else.
            capabilities=MechanismFlag.ENCRYPT | MechanismFlag.DECRYPT,
            template={
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
            },
        )
        self._by_id[self.kek_id_of(key)] = key
        return key

    def current(self) -> tuple[str, str]:
        """(label, kek_id) of the current KEK."""

        def current(session: Session) -> tuple[str, str]:
            key = self._current(session)
            return str(key.label), self.kek_id_of(key)

        return self._call(current)

    def ensure(self) -> tuple[str, bool]:
        """Create generation 0 unless the token holds a KEK already: (current label, created)."""

        def ensure(session: Session) -> tuple[str, bool]:
            generations = self._generations(session)
            if generations:
                return str(generations[max(generations)].label), False
            return str(self._generate(session, self.config.kek_label).label), True

        return self._call(ensure)

    # wrapping --------------------------------------------------------------------------

    def _encrypt(self, key: AesKey, dek: bytes, aad: bytes) -> bytes:
        import pkcs11
        from pkcs11.mechanisms import GCMParams

        nonce = os.urandom(NONCE_BYTES)
        params = GCMParams(nonce, aad, TAG_BITS)
        return nonce + bytes(
            key.encrypt(dek, mechanism=pkcs11.Mechanism.AES_GCM, mechanism_param=params)
        )

    def _decrypt(self, key: AesKey, wrapped: bytes, aad: bytes) -> bytes:
        import pkcs11
        from pkcs11.mechanisms import GCMParams

        params = GCMParams(wrapped[:NONCE_BYTES], aad, TAG_BITS)
        try:
            return bytes(
                key.decrypt(
                    wrapped[NONCE_BYTES:],
                    mechanism=pkcs11.Mechanism.AES_GCM,
                    mechanism_param=params,
                )
            )
        except _lost_session_errors():
            raise
        except pkcs11.PKCS11Error as exc:
            # SoftHSM answers a wrong tag with CKR_GENERAL_ERROR, others CKR_ENCRYPTED_DATA_*.
            raise VaultError("a sealed key could not be opened") from exc

    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        def wrap(session: Session) -> tuple[str, bytes]:
            key = self._current(session)
            return self.kek_id_of(key), self._encrypt(key, dek, aad)

        return self._call(wrap)

    def unwrap(self, kek_id: str, wrapped: bytes, aad: bytes) -> bytes:
        def unwrap(session: Session) -> bytes:
            if kek_id not in self._by_id:
                self._generations(session)  # a KEK another process made since we last looked
            key = self._by_id.get(kek_id)
            if key is None:
                raise VaultError("no key-encryption key matches this record")
            return self._decrypt(key, wrapped, aad)

        return self._call(unwrap)

    def begin_rotation(self, new_kek: bytes | None) -> PendingKek:
        if new_kek is not None:
            raise VaultError("a PKCS#11 key-encryption key is generated inside the token")

        def rotate(session: Session) -> PendingKek:
            generations = self._generations(session)
            if not generations:
                raise VaultError("the PKCS#11 token has no key-encryption key to rotate")
            # The new generation is current as soon as it exists: keys stored during the
            # re-wrap are wrapped under it, and the old generation stays to open the rest.
            key = self._generate(session, f"{self.config.kek_label}.{max(generations) + 1}")
            return _PendingPkcs11Kek(self, self.kek_id_of(key))

        return self._call(rotate)


class _PendingPkcs11Kek(PendingKek):
    def __init__(self, owner: Pkcs11Kek, kek_id: str) -> None:
        self._owner, self.kek_id = owner, kek_id

    def wrap(self, dek: bytes, aad: bytes) -> bytes:
        def wrap(session: Session) -> bytes:
            key = self._owner._by_id.get(self.kek_id)
            if key is None:  # the session was reopened: look the new key up again
                self._owner._generations(session)
                key = self._owner._by_id[self.kek_id]
            return self._owner._encrypt(key, dek, aad)

        return self._owner._call(wrap)

    def activate(self) -> None:
        """Nothing to record: being the highest generation in the token made it current."""


# --- choice ----------------------------------------------------------------------------------

_pkcs11_lock = threading.Lock()
_pkcs11: Pkcs11Kek | None = None


def backend() -> KekBackend:
    """The KEK backend the settings choose. The PKCS#11 one is kept per process for its
    session; a changed configuration (tests override settings) replaces it."""
    global _pkcs11
    if settings.PKI_KEK != "pkcs11":
        return FileKek(Path(settings.PKI_KEK_FILE))
    config = Pkcs11Config.from_settings()
    with _pkcs11_lock:
        if _pkcs11 is None or _pkcs11.config != config:
            if _pkcs11 is not None:
                _pkcs11.close()
            _pkcs11 = Pkcs11Kek(config)
        return _pkcs11


def reset() -> None:
    """Close the PKCS#11 session, if any (tests re-initialise the library between tokens)."""
    global _pkcs11
    with _pkcs11_lock:
        if _pkcs11 is not None:
            _pkcs11.close()
        _pkcs11 = None
