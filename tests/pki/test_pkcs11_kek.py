"""The vault's key-encryption key inside a PKCS#11 token, checked against a real SoftHSM2.

Each test gets its own token directory and `softhsm2.conf` under tmp_path. SoftHSM reads
SOFTHSM2_CONF in C_Initialize and only sees tokens that existed then, while python-pkcs11 loads
the module once per process; so the fixture points SOFTHSM2_CONF at the test's directory,
creates the token with softhsm2-util and re-initialises the module. pytest-xdist workers are
separate processes, each with its own module state. SoftHSM2 missing is a failure, not a skip:
`make test` installs it (TEST_DEBS).
"""

from __future__ import annotations

import hashlib
import os
import runpy
import shutil
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pkcs11
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.management import call_command
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11.mechanisms import GCMParams

from portsign.common.env import SettingError
from portsign.pki import issuance, kek, vault
from portsign.pki.models import CertificateAuthority, KeyRecord

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN = "portsign-test"
KEK_LABEL = "test-kek"
PIN = "135790"  # test token only
SO_PIN = "246810"
INIT_TOKEN = ("softhsm2-util", "--init-token", "--free")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SoftHsm:
    pin_file: Path

    def init_token(self, label: str) -> None:
        """A new token in this test's directory, visible to the (re-initialised) module."""
        result = subprocess.run(
            [*INIT_TOKEN, "--label", label, "--so-pin", SO_PIN, "--pin", PIN],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        kek.reset()  # sessions die with C_Finalize: close ours first
        pkcs11.lib(MODULE).reinitialize()

    @contextmanager
    def session(self, label: str = TOKEN) -> Iterator[pkcs11.Session]:
        """A session of the test's own. Login is per application and token, so the vault's
        session is closed (logged out) first; the vault reopens its own when next used."""
        kek.reset()
        token = pkcs11.lib(MODULE).get_token(token_label=label)
        with token.open(user_pin=PIN) as session:
            yield session


@pytest.fixture
def softhsm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[SoftHsm]:
    if shutil.which("softhsm2-util") is None or not Path(MODULE).exists():
        pytest.fail("SoftHSM2 is missing: install the Debian package softhsm2 (make debs-test)")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n")
    pin_file.chmod(0o600)
    settings.PKI_KEK = "pkcs11"
    settings.PKCS11_MODULE = MODULE
    settings.PKCS11_TOKEN_LABEL = TOKEN
    settings.PKCS11_PIN_FILE = str(pin_file)
    settings.PKCS11_KEK_LABEL = KEK_LABEL
    hsm = SoftHsm(pin_file)
    hsm.init_token(TOKEN)
    vault.load_private_key.cache_clear()
    yield hsm
    kek.reset()
    vault.load_private_key.cache_clear()


def _backend() -> kek.Pkcs11Kek:
    backend = kek.backend()
    assert isinstance(backend, kek.Pkcs11Kek)
    return backend


def _secret_keys(session: pkcs11.Session) -> dict[str, pkcs11.SecretKey]:
    found = list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}))
    by_label = {key.label: key for key in found}
    assert len(by_label) == len(found), "two secret keys share a label"
    return by_label


def _token_decrypt(key: pkcs11.SecretKey, wrapped: bytes, aad: bytes) -> bytes:
    params = GCMParams(wrapped[:12], aad, 128)
    return key.decrypt(wrapped[12:], mechanism=Mechanism.AES_GCM, mechanism_param=params)


def test_keys_are_stored_and_loaded_through_the_token(softhsm):
    assert _backend().ensure() == (KEK_LABEL, True)
    assert _backend().ensure() == (KEK_LABEL, False)
    key, record = vault.new_key("ecp256")
    with softhsm.session() as session:
        serial = pkcs11.lib(MODULE).get_token(token_label=TOKEN).serial
        cka_id = _secret_keys(session)[KEK_LABEL].id
    expected = hashlib.sha256(b"pkcs11\0" + serial + b"\0" + KEK_LABEL.encode() + b"\0" + cka_id)
    assert record.kek_id == expected.hexdigest()[:16]
    assert _backend().current() == (KEK_LABEL, record.kek_id)
    record.refresh_from_db()
    assert len(bytes(record.wrapped_dek)) == 12 + 32 + 16  # nonce, DEK, GCM tag
    vault.load_private_key.cache_clear()
    loaded = vault.load_private_key(record.id)
    assert loaded.private_numbers() == key.private_numbers()
    assert not Path(settings.PKI_KEK_FILE).exists()  # the file KEK was never involved


def test_sealed_rows_open_with_no_other_kek(softhsm, settings):
    _backend().ensure()
    _key, record = vault.new_key("ecp256")
    _key2, other = vault.new_key("ecp256")
    wrapped, aad = bytes(record.wrapped_dek), record.id.encode()
    with softhsm.session() as session:
        own = _secret_keys(session)[KEK_LABEL]
        assert len(_token_decrypt(own, wrapped, aad)) == 32
        with pytest.raises(pkcs11.PKCS11Error):  # the right KEK, another record's id
            _token_decrypt(own, wrapped, other.id.encode())
    # A second token with a KEK of the same label: another id, and it cannot open the row.
    softhsm.init_token("other-token")
    settings.PKCS11_TOKEN_LABEL = "other-token"
    assert _backend().ensure() == (KEK_LABEL, True)
    assert _backend().current()[1] != record.kek_id
    vault.load_private_key.cache_clear()
    with pytest.raises(vault.VaultError, match=r"^no key-encryption key matches this record$"):
        vault.load_private_key(record.id)
    with softhsm.session("other-token") as session, pytest.raises(pkcs11.PKCS11Error):
        _token_decrypt(_secret_keys(session)[KEK_LABEL], wrapped, aad)
    # Nor does a file KEK.
    settings.PKI_KEK = "file"
    with pytest.raises(vault.VaultError, match=r"^no key-encryption key matches this record$"):
        vault.load_private_key(record.id)
    with pytest.raises(InvalidTag):
        AESGCM(vault.read_kek()).decrypt(wrapped[:12], wrapped[12:], aad)


def test_kek_object_is_sensitive_and_never_extractable(softhsm):
    _backend().ensure()
    with softhsm.session() as session:
        keys = _secret_keys(session)
        assert list(keys) == [KEK_LABEL]
        key = keys[KEK_LABEL]
        assert {a.name: key[a] for a in _KEK_ATTRIBUTES} == {
            "EXTRACTABLE": False,
            "SENSITIVE": True,
            "NEVER_EXTRACTABLE": True,
            "ALWAYS_SENSITIVE": True,
            "TOKEN": True,
            "PRIVATE": True,
            "VALUE_LEN": 32,
            "ENCRYPT": True,
            "DECRYPT": True,
            "WRAP": False,
            "UNWRAP": False,
            "SIGN": False,
            "DERIVE": False,
        }
        with pytest.raises(pkcs11.AttributeSensitive):
            key[Attribute.VALUE]
    # Without the PIN the KEK is not even visible.
    token = pkcs11.lib(MODULE).get_token(token_label=TOKEN)
    with token.open() as public:
        assert _secret_keys(public) == {}


_KEK_ATTRIBUTES = [
    Attribute.EXTRACTABLE,
    Attribute.SENSITIVE,
    Attribute.NEVER_EXTRACTABLE,
    Attribute.ALWAYS_SENSITIVE,
    Attribute.TOKEN,
    Attribute.PRIVATE,
    Attribute.VALUE_LEN,
    Attribute.ENCRYPT,
    Attribute.DECRYPT,
    Attribute.WRAP,
    Attribute.UNWRAP,
    Attribute.SIGN,
    Attribute.DERIVE,
]


def test_rotation_rewraps_every_record_and_keys_still_load(softhsm):
    _backend().ensure()
    pairs = [vault.new_key("ecp256") for _ in range(5)]
    _label, old_id = _backend().current()
    before = {r.id: bytes(r.wrapped_dek) for _k, r in pairs}
    assert vault.rotate_kek() == 5
    label, new_id = _backend().current()
    assert label == f"{KEK_LABEL}.1"
    assert new_id != old_id
    assert set(KeyRecord.objects.values_list("kek_id", flat=True)) == {new_id}
    after = {r.id: bytes(r.wrapped_dek) for r in KeyRecord.objects.all()}
    assert all(after[i] != before[i] for i in before)
    vault.load_private_key.cache_clear()
    for key, record in pairs:
        assert vault.load_private_key(record.id).private_numbers() == key.private_numbers()
    # The old generation stays in the token for backups; the command rotates once more.
    out = StringIO()
    call_command("pki", "rotate-kek", stdout=out)
    label, newest = _backend().current()
    assert out.getvalue() == (
        "key-encryption key rotated: 5 keys re-wrapped\n"
        f"current PKCS#11 key-encryption key: {KEK_LABEL}.2 ({newest})\n"
    )
    with softhsm.session() as session:
        assert sorted(_secret_keys(session)) == [KEK_LABEL, f"{KEK_LABEL}.1", f"{KEK_LABEL}.2"]
    with pytest.raises(vault.VaultError, match="generated inside the token"):
        vault.rotate_kek(os.urandom(32))


def test_interrupted_rotation_leaves_every_key_readable(softhsm, monkeypatch):
    _backend().ensure()
    pairs = [vault.new_key("ecp256") for _ in range(3)]
    _label, old_id = _backend().current()
    saves = []
    real_save = KeyRecord.save

    def crash_on_second_rewrap(self, *args, **kwargs):
        if kwargs.get("update_fields"):
            saves.append(self.id)
            if len(saves) == 2:
                raise RuntimeError("power cut")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(KeyRecord, "save", crash_on_second_rewrap)
    with pytest.raises(RuntimeError, match="power cut"):
        vault.rotate_kek()
    monkeypatch.setattr(KeyRecord, "save", real_save)
    # The re-wrap rolled back; the new generation already exists and is current.
    assert set(KeyRecord.objects.values_list("kek_id", flat=True)) == {old_id}
    label, new_id = _backend().current()
    assert label == f"{KEK_LABEL}.1"
    late_key, late = vault.new_key("ecp256")  # a key stored between the crash and the rerun
    assert late.kek_id == new_id
    vault.load_private_key.cache_clear()
    for key, record in [*pairs, (late_key, late)]:
        assert vault.load_private_key(record.id).private_numbers() == key.private_numbers()
    # Running it again moves records of both older generations to the newest.
    assert vault.rotate_kek() == 4
    newest = _backend().current()[1]
    assert set(KeyRecord.objects.values_list("kek_id", flat=True)) == {newest}
    vault.load_private_key.cache_clear()
    for key, record in [*pairs, (late_key, late)]:
        assert vault.load_private_key(record.id).private_numbers() == key.private_numbers()


def _chain(exc: BaseException | None) -> str:
    text = ""
    while exc is not None:
        text += f"{exc!s} {exc!r} "
        exc = exc.__cause__ or exc.__context__
    return text


def test_wrong_pin_gives_a_clear_error_without_the_pin(softhsm, settings, tmp_path):
    _backend().ensure()
    _key, record = vault.new_key("ecp256")
    wrong = tmp_path / "wrong-pin"
    wrong.write_text("975310\n")
    settings.PKCS11_PIN_FILE = str(wrong)
    vault.load_private_key.cache_clear()
    with pytest.raises(vault.VaultError) as info:
        vault.load_private_key(record.id)
    assert str(info.value) == "the PKCS#11 token refused the PIN in PORTSIGN_PKCS11_PIN_FILE"
    assert isinstance(info.value.__cause__, pkcs11.PinIncorrect)
    assert "975310" not in _chain(info.value)
    assert PIN not in _chain(info.value)
    settings.PKCS11_PIN_FILE = str(tmp_path / "absent")
    with pytest.raises(vault.VaultError) as info:
        vault.load_private_key(record.id)
    assert str(info.value) == (
        f"cannot read the PKCS#11 PIN file {tmp_path / 'absent'}: No such file or directory"
    )
    settings.PKCS11_PIN_FILE = str(softhsm.pin_file)
    settings.PKCS11_TOKEN_LABEL = "no-such-token"
    with pytest.raises(vault.VaultError) as info:
        vault.load_private_key(record.id)
    assert str(info.value) == "no single PKCS#11 token is labelled 'no-such-token'"
    settings.PKCS11_TOKEN_LABEL = TOKEN
    settings.PKCS11_MODULE = str(tmp_path / "missing.so")
    with pytest.raises(vault.VaultError) as info:
        vault.load_private_key(record.id)
    assert str(info.value) == f"cannot load the PKCS#11 module {tmp_path / 'missing.so'}"
    settings.PKCS11_MODULE = MODULE
    assert vault.load_private_key(record.id).private_numbers() == _key.private_numbers()


def test_ca_key_loaded_through_the_token_signs_verifiably(softhsm):
    out = StringIO()
    call_command("pki", "init", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"PKCS#11 key-encryption key {KEK_LABEL}: created"
    assert [line.split()[0] for line in lines[1:]] == ["root", "issuing", "ocsp", "tsa"]
    out = StringIO()
    call_command("pki", "init", stdout=out)
    assert out.getvalue().splitlines()[0] == f"PKCS#11 key-encryption key {KEK_LABEL}: present"
    with softhsm.session() as session:
        assert list(_secret_keys(session)) == [KEK_LABEL]
    kek_id = _backend().current()[1]
    assert set(KeyRecord.objects.values_list("kek_id", flat=True)) == {kek_id}
    issuing = CertificateAuthority.objects.get(role="issuing")
    issuing_cert = x509.load_pem_x509_certificate(issuing.certificate_pem.encode())
    vault.load_private_key.cache_clear()
    # A certificate signed by the issuing CA's key, opened through the token's KEK.
    cert = issuance.issue_certificate(subject=issuance.person_name(name="甲", id_number="3"))
    parsed = x509.load_pem_x509_certificate(cert.certificate_pem.encode())
    parsed.verify_directly_issued_by(issuing_cert)
    # And a plain signature by the loaded key.
    key = vault.load_private_key(issuing.key_id)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(b"PortSign", padding.PKCS1v15(), hashes.SHA256())
    public = issuing_cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(signature, b"PortSign", padding.PKCS1v15(), hashes.SHA256())


def test_threads_share_one_session_opened_once(softhsm, monkeypatch):
    _backend().ensure()
    _key, record = vault.new_key("ecp256")
    wrapped, aad = bytes(record.wrapped_dek), record.id.encode()
    kek.reset()
    backend = _backend()
    opens = []
    real_open = backend._open

    def counting_open():
        opens.append(threading.get_ident())
        return real_open()

    monkeypatch.setattr(backend, "_open", counting_open)
    start = threading.Barrier(8)

    def unwrap(_: int) -> bytes:
        start.wait()
        return backend.unwrap(record.kek_id, wrapped, aad)

    # Eight threads arrive at once at a backend with no session yet: one opens and logs in,
    # the others wait for it (a second login would fail with CKR_USER_ALREADY_LOGGED_IN).
    with ThreadPoolExecutor(max_workers=8) as pool:
        opened = list(pool.map(unwrap, range(8)))
    assert len(opens) == 1
    assert len(set(opened)) == 1
    assert len(opened[0]) == 32
    session = backend.session()
    assert [backend.unwrap(record.kek_id, wrapped, aad) for _ in range(3)] == opened[:3]
    assert backend.session() is session
    assert len(opens) == 1


def test_a_lost_session_is_reopened(softhsm):
    backend = _backend()
    backend.ensure()
    _key, record = vault.new_key("ecp256")
    lost = backend.session()
    lost.close()  # as if the HSM had dropped the connection
    vault.load_private_key.cache_clear()
    assert vault.load_private_key(record.id).private_numbers() == _key.private_numbers()
    assert backend.session() is not lost


def _settings_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> dict:
    """settings.py evaluated afresh under *env* (plain module code: no process needed)."""
    for name in [n for n in os.environ if n.startswith("PORTSIGN_")]:
        monkeypatch.delenv(name)
    for name, value in {"DATA_DIR": str(tmp_path), **env}.items():
        monkeypatch.setenv(f"PORTSIGN_{name}", value)
    return runpy.run_path(str(ROOT / "src" / "portsign" / "settings.py"))


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    with pytest.raises(SettingError, match=r"^PORTSIGN_PKI_KEK=pkcs11 needs PORTSIGN_PKCS11_PIN"):
        _settings_with(monkeypatch, tmp_path, PKI_KEK="pkcs11")
    names = ("PKI_KEK", "PKCS11_MODULE", "PKCS11_TOKEN_LABEL", "PKCS11_PIN_FILE")
    names += ("PKCS11_KEK_LABEL",)
    defaults = _settings_with(monkeypatch, tmp_path)
    assert [defaults[n] for n in names] == ["file", MODULE, "portsign", "", "portsign-kek"]
    chosen = _settings_with(
        monkeypatch,
        tmp_path,
        PKI_KEK="pkcs11",
        PKCS11_MODULE="/opt/hsm/lib.so",
        PKCS11_TOKEN_LABEL="prod",
        PKCS11_PIN_FILE="/run/secrets/pin",
        PKCS11_KEK_LABEL="kek",
    )
    assert [chosen[n] for n in names] == [
        "pkcs11",
        "/opt/hsm/lib.so",
        "prod",
        "/run/secrets/pin",
        "kek",
    ]
    with pytest.raises(SettingError, match="PORTSIGN_PKI_KEK must be one of file, pkcs11"):
        _settings_with(monkeypatch, tmp_path, PKI_KEK="hsm")
