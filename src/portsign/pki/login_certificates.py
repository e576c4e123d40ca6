"""Login certificates and certificate sign-in (SPEC A2, the UKey login of 003).

A real-name-verified person generates a key where only they hold it (a file, or a PKCS#11
token such as an E-Port UKey card) and sends a PKCS#10 request; the issuing CA certifies that
public key for their verified identity and binds the certificate to their account. PortSign
never sees the private key, so a signature made with it proves the holder is present. Cloud
certificates are never accepted: their key is in our vault, so a signature proves nothing.

Sign-in checks, in this order, each failure with its own error code: signature and certificate
well-formed (400) → the challenge, used up now (unknown / used / expired) → issued by our
issuing CA (its signature, and byte for byte the certificate we stored) → within validity → a
login profile (clientAuth) → the signature over `login_protocol.login_message` → status
(suspended / revoked, as OCSP answers) → bound, key not in the vault, account active (all 401).
What a stranger holding only the public certificate may learn comes before the signature
check; whether the certificate is bound comes after it, so only its key holder can learn that.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from portsign.accounts.domain.challenges import consume_challenge
from portsign.accounts.domain.codes import consume_code, own_code_account
from portsign.accounts.domain.login import audit_login_failed, audit_login_succeeded
from portsign.accounts.enums import CodePurpose
from portsign.accounts.models import ApiToken, User
from portsign.common.audit import record_event
from portsign.common.errors import Conflict, DomainError, Invalid, NotFound, Unauthorized
from portsign.pki import issuance
from portsign.pki.ca import Role, authority, certificate_of
from portsign.pki.login_protocol import algorithm_of, login_message, signature_is_valid
from portsign.pki.models import (
    CertificateAuthority,
    CertificateSignIn,
    IssuedCertificate,
    LoginCertificate,
)
from portsign.pki.revocation import status_of_serial

Status = IssuedCertificate.Status
DER = serialization.Encoding.DER
LOGIN_CERTIFICATE_YEARS = 2
# A PEM request or certificate for the accepted keys is ~1–2 KB; anything far larger is junk.
_MAX_PEM_CHARS = 16_000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- issuance ------------------------------------------------------------------------------------


def _csr_error(message: str, code: str) -> Invalid:
    return Invalid(message, code=code, fields={"csr": message})


def parse_csr(pem: str) -> CertificatePublicKeyTypes:
    """The public key of a well-formed, self-signed PKCS#10 request for an accepted key type."""
    text = (pem or "").strip()
    try:
        if len(text) > _MAX_PEM_CHARS:
            raise ValueError("too long")
        csr = x509.load_pem_x509_csr(text.encode())
        public_key = csr.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise _csr_error(
            _("The request is not a PEM-encoded PKCS#10 certificate request."), "csr_malformed"
        ) from exc
    if algorithm_of(public_key) is None:
        raise _csr_error(
            _("Unsupported key: use an RSA-2048, RSA-3072 or ECDSA P-256 key."),
            "csr_key_unsupported",
        )
    try:
        possessed = csr.is_signature_valid  # proof that the requester holds the private key
    except (ValueError, UnsupportedAlgorithm):
        possessed = False
    if not possessed:
        raise _csr_error(
            _("The request is not signed by the key it names."), "csr_signature_invalid"
        )
    return public_key


def request_login_certificate(*, actor: User, csr_pem: str, code: str) -> LoginCertificate:
    """Issue a login certificate for the key in *csr_pem* and bind it to *actor*.

    The subject is the verified name and the pseudonymous serialNumber, as for cloud
    certificates; the request's own subject is ignored. The request is judged before the code
    is consumed, so a malformed request does not cost the person their code.
    """
    if not actor.is_real_name_verified:
        raise Conflict(_("Verify your real name first."), code="real_name_required")
    public_key = parse_csr(csr_pem)
    consume_code(
        account=own_code_account(actor, CodePurpose.CERTIFICATE),
        purpose=CodePurpose.CERTIFICATE,
        code=code,
    )
    subject = issuance.person_name(name=actor.name, id_number=actor.id_number)
    ca, certificate = issuance.sign_certificate(
        subject=subject,
        public_key=public_key,
        years=LOGIN_CERTIFICATE_YEARS,
        client_auth=True,
    )
    with transaction.atomic():
        issued = issuance.record_certificate(ca=ca, certificate=certificate, key=None)
        binding = LoginCertificate.objects.create(user=actor, certificate=issued)
        record_event(
            action="login_certificate.bound",
            actor_id=actor.id,
            object_type="login_certificate",
            object_id=binding.id,
            data={"serial": issued.serial, "algorithm": algorithm_of(public_key) or ""},
        )
    return binding


def login_certificates_of(*, user: User) -> QuerySet[LoginCertificate]:
    """The certificates bound to *user* now (unbound ones are kept as evidence, not listed)."""
    return (
        LoginCertificate.objects.select_related("certificate")
        .filter(user=user, unbound_at__isnull=True)
        .order_by("-created_at")
    )


def unbind_login_certificate(*, actor: User, binding_id: str) -> LoginCertificate:
    """Unbind and revoke (cessation of operation); someone else's or unbound is 404."""
    with transaction.atomic():
        binding = (
            LoginCertificate.objects.select_for_update()
            .select_related("certificate")
            .filter(pk=binding_id, user=actor, unbound_at__isnull=True)
            .first()
        )
        if binding is None:
            raise NotFound()
        binding.unbound_at = timezone.now()
        binding.save(update_fields=["unbound_at"])
        record_event(
            action="login_certificate.unbound",
            actor_id=actor.id,
            object_type="login_certificate",
            object_id=binding.id,
            data={"serial": binding.certificate.serial},
        )
        if binding.certificate.status != Status.REVOKED:
            binding.certificate = issuance.revoke(
                binding.certificate_id, reason="cessation_of_operation", actor_id=actor.id
            )
    return binding


STATUS_LABELS = {
    "valid": pgettext_lazy("certificate", "Valid"),
    "suspended": pgettext_lazy("certificate", "Suspended"),
    "revoked": pgettext_lazy("certificate", "Revoked"),
    "expired": pgettext_lazy("certificate", "Expired"),
}


def public_status(certificate: IssuedCertificate) -> str:
    """valid | suspended | revoked | expired."""
    if certificate.status == Status.VALID and certificate.not_after <= timezone.now():
        return "expired"
    return str(certificate.status)


# -- sign-in -------------------------------------------------------------------------------------


def _refused(message: str, code: str) -> Unauthorized:
    return Unauthorized(message, code=code)


def _load_certificate(pem: str) -> x509.Certificate:
    text = (pem or "").strip()
    try:
        if len(text) > _MAX_PEM_CHARS:
            raise ValueError("too long")
        return x509.load_pem_x509_certificate(text.encode())
    except ValueError as exc:
        raise Invalid(
            _("The certificate is not a PEM-encoded X.509 certificate."),
            code="certificate_malformed",
            fields={"certificate": _("Not a PEM certificate.")},
        ) from exc


def _decode_signature(signature: str) -> bytes:
    try:
        raw = base64.b64decode(signature or "", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw:
        raise Invalid(
            _("The signature must be base64."),
            code="signature_malformed",
            fields={"signature": _("Not base64.")},
        )
    return raw


def _issued_by_us(certificate: x509.Certificate) -> IssuedCertificate:
    """The stored certificate of our issuing CA that *certificate* is, byte for byte."""
    untrusted = _refused(
        _("This certificate was not issued by PortSign's certificate authority."),
        "certificate_untrusted",
    )
    try:
        ca = authority(Role.ISSUING)  # absent before `init_hierarchy`: nothing is ours yet
        certificate.verify_directly_issued_by(certificate_of(ca))
    except (
        CertificateAuthority.DoesNotExist,
        ValueError,
        TypeError,
        InvalidSignature,
        UnsupportedAlgorithm,
    ) as exc:
        raise untrusted from exc
    issued = IssuedCertificate.objects.filter(
        issuer=ca, serial=format(certificate.serial_number, "x")
    ).first()
    if issued is None or _der(issued.certificate_pem) != certificate.public_bytes(DER):
        raise untrusted
    return issued


def _der(pem: str) -> bytes:
    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(DER)


def _check_validity(certificate: x509.Certificate) -> None:
    now = _now()
    if now < certificate.not_valid_before_utc:
        raise _refused(_("This certificate is not valid yet."), "certificate_not_yet_valid")
    if now > certificate.not_valid_after_utc:
        raise _refused(_("This certificate has expired."), "certificate_expired")


def _check_login_profile(certificate: x509.Certificate) -> None:
    """Only certificates issued for sign-in carry clientAuth; cloud (signing) ones do not."""
    try:
        usages = list(certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        usages = []  # (cryptography ≥ 51 refuses to build an empty ExtendedKeyUsage)
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise _refused(
            _("This certificate is not a login certificate."), "certificate_not_for_login"
        )


def audiences(host: str) -> list[str]:
    """Names a client may have signed for: the host it reached (Django has checked it against
    ALLOWED_HOSTS) and the public URL's host (for clients behind a proxy that rewrites Host)."""
    names = [host.lower(), urlsplit(settings.PUBLIC_URL).netloc.lower()]
    return list(dict.fromkeys(n for n in names if n))


def _check_signature(
    certificate: x509.Certificate, challenge: str, host: str, signature: bytes
) -> None:
    public_key = certificate.public_key()
    for audience in audiences(host):
        message = login_message(challenge=challenge, audience=audience)
        if signature_is_valid(public_key, message, signature):
            return
    raise _refused(
        _("The signature does not match this certificate and challenge."), "signature_invalid"
    )


def _check_status(issued: IssuedCertificate) -> None:
    """What OCSP says of the certificate right now (suspension is published as a hold)."""
    status = status_of_serial(issued.issuer, int(issued.serial, 16))
    if status.status == "good":
        return
    if status.reason == x509.ReasonFlags.certificate_hold:
        raise _refused(_("This certificate is suspended."), "certificate_suspended")
    raise _refused(_("This certificate has been revoked."), "certificate_revoked")


# Other apps hold sign-in certificates too (an E-Port card's, `eport.domain.card_sign_in`). Each
# registers a function that answers the account a certificate of theirs signs in, None for a
# certificate that is not theirs, or raises Unauthorized to refuse it (a locked card).
HolderResolver = Callable[[IssuedCertificate], "User | None"]
_RESOLVERS: list[HolderResolver] = []


def register_holder_resolver(resolver: HolderResolver) -> None:
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)


def _active(user: User) -> User:
    if not user.is_active:
        raise _refused(_("This account cannot sign in."), "account_disabled")
    return user


def _bound_user(issued: IssuedCertificate) -> User:
    for resolver in _RESOLVERS:
        holder = resolver(issued)
        if holder is not None:
            return _active(holder)
    binding = (
        LoginCertificate.objects.select_related("user")
        .filter(certificate=issued, unbound_at__isnull=True, certificate__key__isnull=True)
        .first()
    )
    if binding is None:
        raise _refused(
            _("This certificate is not bound to an account for sign-in."),
            "certificate_not_bound",
        )
    return _active(binding.user)


def _verify(
    *, challenge_id: str, certificate_pem: str, signature: str, host: str
) -> tuple[User, IssuedCertificate]:
    raw_signature = _decode_signature(signature)
    certificate = _load_certificate(certificate_pem)
    challenge = consume_challenge(challenge_id)
    issued = _issued_by_us(certificate)
    _check_validity(certificate)
    _check_login_profile(certificate)
    _check_signature(certificate, challenge.challenge, host, raw_signature)
    _check_status(issued)
    return _bound_user(issued), issued


def _serial_of(certificate_pem: str) -> str:
    try:
        return format(_load_certificate(certificate_pem).serial_number, "x")
    except DomainError:
        return ""


def login_with_certificate(
    *, challenge_id: str, certificate_pem: str, signature: str, host: str
) -> tuple[User, IssuedCertificate]:
    """The account whose bound login certificate signed the challenge, and that certificate,
    or a clear refusal. Runs outside any transaction: the challenge stays used and the failure
    stays audited.
    """
    details = {"serial": _serial_of(certificate_pem), "challenge_id": challenge_id[:26]}
    try:
        user, issued = _verify(
            challenge_id=challenge_id,
            certificate_pem=certificate_pem,
            signature=signature,
            host=host,
        )
    except DomainError as exc:
        audit_login_failed(user=None, method="certificate", reason=exc.code, details=details)
        raise
    audit_login_succeeded(user=user, method="certificate", details=details)
    return user, issued


# -- which certificate a session signed in with --------------------------------------------------

SESSION_KEY = "signed_in_certificate"


def remember_sign_in(
    issued: IssuedCertificate, *, token: ApiToken | None = None, session: Any = None
) -> None:
    """Record that *token* (an API token) or *session* (the console's) was opened with
    *issued*: what it may do can depend on the certificate (an E-Port card's role)."""
    if token is not None:
        CertificateSignIn.objects.create(certificate=issued, api_token=token)
    if session is not None:
        session[SESSION_KEY] = issued.id


def signed_in_certificate(request: HttpRequest) -> IssuedCertificate | None:
    """The certificate the request's token or session was opened with, if any."""
    token = getattr(request, "api_token", None)
    if token is not None:
        found = CertificateSignIn.objects.filter(api_token=token).select_related("certificate")
        row = found.first()
        return row.certificate if row else None
    certificate_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not certificate_id:
        return None
    return IssuedCertificate.objects.filter(pk=certificate_id).first()
