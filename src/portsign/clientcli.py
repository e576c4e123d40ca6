"""`portsign login` and `portsign login-certificate request`: the certificate sign-in client.

It runs on the person's own computer against any PortSign server, so it needs no Django: the
standard library's HTTP client and cryptography (plus python-pkcs11 and its asn1crypto for a
token). The private key is made where it stays — a PKCS#12 file (mode 0600, encrypted) or a
PKCS#11 token such as an E-Port UKey card — and only the certificate request leaves it.

    portsign login-certificate request --url URL --token BEARER --code CODE \\
        (--key-out me.p12 --password-file F | --pkcs11-module SO --token-label L \\
         --key-label K --pin-file F) [--algorithm rsa2048|rsa3072|ecp256]
    portsign login --url URL (--pkcs12 me.p12 [--password-file F] | --pkcs11-module SO \\
        --token-label L --key-label K --pin-file F)

Exit status: 0 done, 1 refused or failed (the reason on stderr), 2 wrong usage.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from portsign.pki.login_protocol import ALGORITHMS, audience_of, login_message, sign_with_key

if TYPE_CHECKING:
    import pkcs11

TIMEOUT_SECONDS = 30
# The server ignores the request's subject and certifies the verified identity instead.
_CSR_SUBJECT = "PortSign login certificate"
_P256_OID = "1.2.840.10045.3.1.7"


class ClientError(Exception):
    """Something to tell the person; exit status 1."""


# -- the server ----------------------------------------------------------------------------------


def _language() -> str:
    """Server messages in the person's language: Chinese for a zh locale, else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "zh-hans" if value.lower().startswith("zh") else "en"
    return "en"


class Server:
    def __init__(self, url: str, token: str = "") -> None:
        if not url.startswith(("http://", "https://")):
            raise ClientError(f"--url must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Accept": "application/json", "Accept-Language": _language()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            f"{self.url}/api/v1{path}",
            data=json.dumps(body).encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise ClientError(_error_text(exc)) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ClientError(f"cannot reach {self.url}: {exc}") from exc


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        error = json.loads(exc.read())["error"]
        return f"{error['message']} ({error['code']}, HTTP {exc.code})"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {exc.code} {exc.reason}"


# -- keys ----------------------------------------------------------------------------------------


class Holder(Protocol):
    """Whatever holds the login key: it shows the certificate and signs."""

    def certificate_pem(self) -> str: ...

    def sign(self, message: bytes) -> bytes: ...


def read_secret(path: str) -> str:
    """A password or PIN from a file (never from the command line, where `ps` shows it)."""
    try:
        value = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise ClientError(f"cannot read {path}: {exc.strerror}") from exc
    if not value:
        raise ClientError(f"{path} is empty")
    return value


class FileHolder:
    def __init__(self, path: str, password: str | None) -> None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ClientError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            key, cert, _chain = pkcs12.load_key_and_certificates(
                data, password.encode() if password else None
            )
        except ValueError as exc:
            raise ClientError(f"cannot open {path}: wrong password or not a PKCS#12 file") from exc
        if key is None or cert is None:
            raise ClientError(f"{path} does not hold both a key and a certificate")
        self.key, self.cert = key, cert

    def certificate_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, message: bytes) -> bytes:
        return sign_with_key(self.key, message)


def _generate_file_key(algorithm: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if algorithm == "ecp256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=int(algorithm[3:]))


def _write_private_file(path: Path, data: bytes) -> None:
    """Create *path* readable by its owner only; never overwrite an existing key file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


# -- PKCS#11 tokens ------------------------------------------------------------------------------


@contextmanager
def token_session(module: str, token_label: str, pin: str) -> Iterator[pkcs11.Session]:
    try:
        import pkcs11
    except ImportError as exc:  # pragma: no cover - a dependency, but an optional native part
        raise ClientError("PKCS#11 support needs the python-pkcs11 package") from exc
    try:
        token = pkcs11.lib(module).get_token(token_label=token_label)
        session = token.open(user_pin=pin, rw=True)
    except (pkcs11.PKCS11Error, RuntimeError, OSError) as exc:
        raise ClientError(f"cannot open token {token_label!r}: {type(exc).__name__}") from exc
    with session:
        yield session


def _token_public_key(public: pkcs11.PublicKey) -> PublicKeyTypes:
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_ec_public_key

    if public.key_type == KeyType.RSA:
        exponent = int.from_bytes(public[Attribute.PUBLIC_EXPONENT], "big")
        modulus = int.from_bytes(public[Attribute.MODULUS], "big")
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    return serialization.load_der_public_key(encode_ec_public_key(public))


def _token_sign(private: Any, message: bytes) -> bytes:
    """RSA PKCS#1 v1.5 SHA-256, or ECDSA SHA-256 as DER. Hashing for ECDSA happens here:
    many tokens (SoftHSM among them) offer only the raw CKM_ECDSA mechanism. (*private* is
    typed Any: python-pkcs11 adds `sign` to private keys through a run-time mixin.)"""
    from pkcs11 import KeyType, Mechanism

    if private.key_type == KeyType.RSA:
        return private.sign(message, mechanism=Mechanism.SHA256_RSA_PKCS)
    raw = private.sign(hashlib.sha256(message).digest(), mechanism=Mechanism.ECDSA)
    half = len(raw) // 2
    return utils.encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )


def _find_private_key(session: pkcs11.Session, label: str) -> pkcs11.PrivateKey | None:
    from pkcs11 import Attribute, ObjectClass

    found = list(
        session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label})
    )
    if len(found) > 1:
        raise ClientError(f"the token holds several keys labelled {label!r}")
    return found[0] if found else None  # type: ignore[return-value]


class TokenHolder:
    def __init__(self, session: pkcs11.Session, label: str) -> None:
        from pkcs11 import Attribute, ObjectClass

        key = _find_private_key(session, label)
        if key is None:
            raise ClientError(f"the token holds no key labelled {label!r}")
        certs = list(
            session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label})
        )
        if not certs:
            raise ClientError(f"the token holds no certificate labelled {label!r}")
        self.key = key
        self.cert = x509.load_der_x509_certificate(certs[0][Attribute.VALUE])

    def certificate_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, message: bytes) -> bytes:
        return _token_sign(self.key, message)


def _generate_token_key(
    session: pkcs11.Session, algorithm: str, label: str
) -> tuple[pkcs11.PublicKey, pkcs11.PrivateKey]:
    """A key pair stored in the token; the private half is sensitive and never extractable."""
    from pkcs11 import Attribute, KeyType, MechanismFlag
    from pkcs11.util.ec import encode_named_curve_parameters

    options: dict[str, Any] = {
        "label": label,
        "store": True,
        "capabilities": MechanismFlag.SIGN | MechanismFlag.VERIFY,
        "private_template": {Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
    }
    if algorithm == "ecp256":
        parameters = session.create_domain_parameters(
            KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters(_P256_OID)}, local=True
        )
        return parameters.generate_keypair(**options)
    return session.generate_keypair(KeyType.RSA, int(algorithm[3:]), **options)


def _token_csr(public_key: PublicKeyTypes, private: pkcs11.PrivateKey) -> str:
    """A PKCS#10 request signed inside the token. cryptography cannot sign with a key it does
    not hold, so the request is assembled with asn1crypto (python-pkcs11 depends on it)."""
    from asn1crypto import csr as asn1_csr
    from asn1crypto import keys as asn1_keys
    from asn1crypto import pem as asn1_pem
    from asn1crypto import x509 as asn1_x509

    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    info = asn1_csr.CertificationRequestInfo(
        {
            "version": "v1",
            "subject": asn1_x509.Name.build({"common_name": _CSR_SUBJECT}),
            "subject_pk_info": asn1_keys.PublicKeyInfo.load(spki),
            "attributes": [],
        }
    )
    algorithm = "sha256_rsa" if isinstance(public_key, rsa.RSAPublicKey) else "sha256_ecdsa"
    request = asn1_csr.CertificationRequest(
        {
            "certification_request_info": info,
            "signature_algorithm": {"algorithm": algorithm},
            "signature": _token_sign(private, info.dump()),
        }
    )
    return asn1_pem.armor("CERTIFICATE REQUEST", request.dump()).decode()


def _store_token_certificate(
    session: pkcs11.Session,
    keys: tuple[pkcs11.PublicKey, pkcs11.PrivateKey],
    cert: x509.Certificate,
    label: str,
) -> None:
    """Keep the certificate beside its key: same label, and CKA_ID = the subject key identifier,
    the pairing other PKCS#11 tools (OpenSC, browsers) look for."""
    from pkcs11 import Attribute, CertificateType, ObjectClass

    key_id = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
    for key in keys:
        key[Attribute.ID] = key_id
    session.create_object(
        {
            Attribute.CLASS: ObjectClass.CERTIFICATE,
            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True,
            Attribute.LABEL: label,
            Attribute.ID: key_id,
            Attribute.SUBJECT: cert.subject.public_bytes(),
            Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
        }
    )


# -- commands ------------------------------------------------------------------------------------


def sign_in(server: Server, holder: Holder) -> Any:
    """Fetch a challenge, sign it for this server, exchange it for a bearer token."""
    challenge = server.call("POST", "/auth/certificate/challenge", {})
    message = login_message(challenge=challenge["challenge"], audience=audience_of(server.url))
    return server.call(
        "POST",
        "/auth/certificate/login",
        {
            "challenge_id": challenge["challenge_id"],
            "certificate": holder.certificate_pem(),
            "signature": base64.b64encode(holder.sign(message)).decode(),
        },
    )


def _submit(
    server: Server, csr_pem: str, code: str, public_key: PublicKeyTypes
) -> tuple[dict[str, Any], x509.Certificate]:
    issued = server.call("POST", "/me/login-certificates", {"csr": csr_pem, "code": code})
    cert = x509.load_pem_x509_certificate(issued["pem"].encode())
    if cert.public_key() != public_key:
        raise ClientError("the server returned a certificate for a different key")
    return issued, cert


def _request_to_file(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.key_out)
    if out.exists():
        raise ClientError(f"{out} exists; choose a new file (keys are never overwritten)")
    if not out.parent.is_dir():
        raise ClientError(f"{out.parent} is not a directory")
    password = read_secret(args.password_file)
    key = _generate_file_key(args.algorithm)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _CSR_SUBJECT)]))
        .sign(key, hashes.SHA256())
    )
    csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode()
    issued, cert = _submit(server, csr_pem, args.code, key.public_key())
    bundle = pkcs12.serialize_key_and_certificates(
        b"portsign-login",
        key,
        cert,
        None,
        serialization.BestAvailableEncryption(password.encode()),
    )
    _write_private_file(out, bundle)
    return {**_summary(issued), "stored": str(out)}


def _request_to_token(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    pin = read_secret(args.pin_file)
    with token_session(args.pkcs11_module, args.token_label, pin) as session:
        if _find_private_key(session, args.key_label) is not None:
            raise ClientError(f"the token already holds a key labelled {args.key_label!r}")
        keys = _generate_token_key(session, args.algorithm, args.key_label)
        try:
            public_key = _token_public_key(keys[0])
            csr_pem = _token_csr(public_key, keys[1])
            issued, cert = _submit(server, csr_pem, args.code, public_key)
        except BaseException:
            for key in keys:  # nothing was issued: leave the token as it was
                key.destroy()
            raise
        _store_token_certificate(session, keys, cert, args.key_label)
    return {
        **_summary(issued),
        "stored": f"pkcs11:token={args.token_label};object={args.key_label}",
    }


def _summary(issued: dict[str, Any]) -> dict[str, Any]:
    return {"id": issued["id"], "serial": issued["serial"], "not_after": issued["not_after"]}


def run_login(args: argparse.Namespace) -> Any:
    server = Server(args.url)
    if args.pkcs12:
        password = read_secret(args.password_file) if args.password_file else None
        return sign_in(server, FileHolder(args.pkcs12, password))
    pin = read_secret(args.pin_file)
    with token_session(args.pkcs11_module, args.token_label, pin) as session:
        return sign_in(server, TokenHolder(session, args.key_label))


def run_request(args: argparse.Namespace) -> dict[str, Any]:
    token = args.token or os.environ.get("PORTSIGN_TOKEN", "")
    if not token:
        raise ClientError("give --token (or set PORTSIGN_TOKEN): a bearer token from sign-in")
    server = Server(args.url, token)
    if args.key_out:
        return _request_to_file(server, args)
    return _request_to_token(server, args)


# -- arguments -----------------------------------------------------------------------------------


def _token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--token-label", help="PKCS#11 token label")
    parser.add_argument("--key-label", help="label of the key (and certificate) in the token")
    parser.add_argument("--pin-file", help="file holding the token's user PIN")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portsign", description="PortSign certificate sign-in")
    commands = parser.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login", help="sign in with a login certificate")
    login.add_argument("--url", required=True, help="PortSign server, e.g. http://127.0.0.1:8000")
    source = login.add_mutually_exclusive_group(required=True)
    source.add_argument("--pkcs12", help="PKCS#12 file with the key and certificate")
    source.add_argument("--pkcs11-module", help="PKCS#11 library (.so) of the token")
    login.add_argument("--password-file", help="file holding the PKCS#12 password")
    _token_arguments(login)
    certificate = commands.add_parser("login-certificate", help="manage login certificates")
    actions = certificate.add_subparsers(dest="action", required=True)
    request = actions.add_parser("request", help="make a key and get a login certificate")
    request.add_argument("--url", required=True)
    request.add_argument("--token", help="bearer token (default: $PORTSIGN_TOKEN)")
    request.add_argument("--code", required=True, help="code sent with purpose certificate")
    request.add_argument("--algorithm", choices=ALGORITHMS, default="rsa2048")
    target = request.add_mutually_exclusive_group(required=True)
    target.add_argument("--key-out", help="new PKCS#12 file for the key and certificate")
    target.add_argument("--pkcs11-module", help="PKCS#11 library (.so) of the token")
    request.add_argument("--password-file", help="file holding the new PKCS#12 password")
    _token_arguments(request)
    return parser


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.pkcs11_module:
        missing = [
            f"--{name.replace('_', '-')}"
            for name in ("token_label", "key_label", "pin_file")
            if not getattr(args, name)
        ]
        if missing:
            parser.error(f"--pkcs11-module needs {', '.join(missing)}")
    elif args.command == "login-certificate" and not args.password_file:
        parser.error("--key-out needs --password-file (the key file is always encrypted)")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check_arguments(parser, args)
    try:
        result = run_login(args) if args.command == "login" else run_request(args)
    except ClientError as exc:
        print(f"portsign: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
