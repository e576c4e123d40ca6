"""Issue 14 point 3: a certificate revoked or put on hold after the time its signature's RFC 3161
timestamp proves leaves the signature valid, unless revoked for key compromise; revoked before
that time, the signature is invalid. E-Port cards are held (certificateHold) when reported
lost or frozen and revoked (cessationOfOperation) when cancelled.

Checked in `pades.verify` (this installation's revocation data now) and in the stand-alone
package verifier (the revocation data stored when the PDF was archived).

Our signer time-stamps every signature (pades._cms_signature always asks the TSA), so a
signature without a signature timestamp cannot be made here to be tested.
"""

from __future__ import annotations

import datetime as dt
import io
import time

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.common.aio import run_sync
from portsign.contracts.domain import evidence_package
from portsign.pki import issuance, pades
from portsign.pki.models import IssuedCertificate
from portsign.pki.pades import SigningError
from portsign.pki.signer import root_certificate
from portsign.verification import offline_verify
from tests.pki.pdf_samples import make_pdf


@pytest.fixture
def card(hierarchy) -> IssuedCertificate:
    """An E-Port card holder's certificate."""
    return issuance.issue_certificate(
        subject=issuance.person_name(name="港口卡持卡人", id_number="11010119900307123X")
    )


@pytest.fixture
def other(hierarchy) -> IssuedCertificate:
    return issuance.issue_certificate(
        subject=issuance.enterprise_name(name="示例港务有限公司", uscc="91310000717860235R")
    )


def _sign(certificate: IssuedCertificate, pdf: bytes | None = None, field: str = "Card") -> bytes:
    return pades.sign_approval(
        pdf or make_pdf(1), certificate_id=certificate.id, marks=[], field_name=field
    )


def _later() -> None:
    """Into the next second: CRLs and OCSP answers date a revocation to the whole second, the
    TSA to the microsecond, so a revocation in the signature's own second would look earlier
    than its timestamp (and the signature revoked before it, invalid)."""
    now = dt.datetime.now(dt.UTC)
    time.sleep(1 - now.microsecond / 1e6 + 0.01)


def _revoke(certificate: IssuedCertificate, reason: str) -> None:
    _later()
    issuance.revoke(certificate.id, reason=reason)


def _suspend(certificate: IssuedCertificate) -> None:
    _later()
    issuance.suspend(certificate.id)


def _only(pdf: bytes) -> pades.SignatureReport:
    (signature,) = pades.verify(pdf).signatures
    return signature


def _still_valid(signature: pades.SignatureReport, reason: str) -> None:
    assert signature.timestamp is not None
    assert signature.revoked_at is not None
    assert signature.revoked_at > signature.timestamp
    assert signature.certificate_status == "revoked"  # what it is now: the UI shows 已吊销
    assert signature.revocation_reason == reason
    assert signature.revoked_after_signing is True
    assert (signature.intact, signature.trusted, signature.valid) == (True, True, True)


def _invalid(signature: pades.SignatureReport, reason: str) -> None:
    assert signature.certificate_status == "revoked"
    assert signature.revoked_at is not None
    assert signature.revocation_reason == reason
    assert signature.revoked_after_signing is False
    assert signature.intact is True
    assert (signature.trusted, signature.valid) == (False, False)


# --- pades.verify, with the revocation data of now -------------------------------------------


@pytest.mark.parametrize("reason", ["cessation_of_operation", "unspecified", "superseded"])
def test_revoked_after_signing_leaves_the_signature_valid(card, reason):
    signed = _sign(card)
    _revoke(card, reason)

    report = pades.verify(signed)

    _still_valid(report.signatures[0], reason)
    assert report.valid is True


def test_held_after_signing_is_valid_and_good_again_once_released(card):
    signed = _sign(card)

    _suspend(card)  # the card reported lost or frozen
    _still_valid(_only(signed), "certificate_hold")

    issuance.release(card.id)
    released = _only(signed)
    assert released.certificate_status == "good"
    assert (released.revoked_at, released.revocation_reason) == (None, "")
    assert released.revoked_after_signing is False
    assert (released.trusted, released.valid) == (True, True)


def test_held_then_cancelled_is_still_valid(card):
    signed = _sign(card)
    _suspend(card)
    issuance.revoke(card.id, reason="cessation_of_operation")

    _still_valid(_only(signed), "cessation_of_operation")


@pytest.mark.parametrize("held_first", [False, True])
def test_key_compromise_invalidates_whenever_revoked(card, held_first):
    signed = _sign(card)
    if held_first:
        _suspend(card)
    _revoke(card, "key_compromise")

    report = pades.verify(signed)

    _invalid(report.signatures[0], "key_compromise")
    assert report.signatures[0].revoked_at > report.signatures[0].timestamp
    assert report.valid is False


def test_revoked_before_the_timestamp_is_invalid(card):
    """Our signer checks the status before it signs, so a revocation can only come first by
    racing it (recorded between that check and the TSA's answer): made here by back-dating
    the revocation to before the signature's timestamp."""
    signed = _sign(card)
    stamped = _only(signed).timestamp
    assert stamped is not None
    issuance.revoke(card.id, reason="cessation_of_operation")
    IssuedCertificate.objects.filter(pk=card.id).update(revoked_at=stamped - dt.timedelta(1))

    signature = _only(signed)

    _invalid(signature, "cessation_of_operation")
    assert signature.revoked_at is not None
    assert signature.revoked_at < stamped


@pytest.mark.parametrize(
    "change",
    [
        lambda cert_id: issuance.revoke(cert_id, reason="cessation_of_operation"),
        lambda cert_id: issuance.revoke(cert_id, reason="key_compromise"),
        issuance.suspend,
    ],
    ids=["cessation_of_operation", "key_compromise", "hold"],
)
def test_a_revoked_or_held_certificate_cannot_sign(card, change):
    change(card.id)

    with pytest.raises(SigningError) as raised:
        _sign(card)

    assert raised.value.code == "certificate_not_valid"


def test_only_the_revoked_signer_is_reported_and_the_document_stays_valid(card, other):
    signed = _sign(other, _sign(card), field="Other")
    _suspend(card)

    report = pades.verify(pades.archive(signed))

    first, second, archived = report.signatures
    _still_valid(first, "certificate_hold")
    assert (second.certificate_status, second.revoked_after_signing, second.valid) == (
        "good",
        False,
        True,
    )
    assert (archived.kind, archived.valid) == ("timestamp", True)
    assert report.valid is True


def test_a_tampered_document_stays_invalid_when_revoked_after_signing(card):
    signed = _sign(card)
    at = signed.index(b"(Contract page 1)") + 1
    tampered = signed[:at] + b"X" + signed[at + 1 :]
    _revoke(card, "cessation_of_operation")

    signature = _only(tampered)

    assert (signature.intact, signature.valid, signature.revoked_after_signing) == (
        False,
        False,
        False,
    )
    assert signature.certificate_status == "revoked"


# --- the stand-alone verifier, with the revocation data stored at the archive time -----------


def _offline(pdf: bytes) -> offline_verify.Result:
    """offline_verify's checks of one archived PDF, with the CRLs and OCSP answers in its DSS
    (what an evidence package holds)."""
    reader = PdfFileReader(io.BytesIO(pdf))
    gathered = evidence_package.Material()
    evidence_package.collect_dss(reader, gathered)
    assert gathered.crls
    assert gathered.ocsps
    material = offline_verify.Material(
        root=root_certificate(),
        certificates=list(gathered.certificates.values()),
        crls=[asn1_crl.CertificateList.load(der) for der in gathered.crls.values()],
        ocsps=[asn1_ocsp.OCSPResponse.load(der) for der in gathered.ocsps.values()],
    )
    result = offline_verify.Result()
    files = {"contract.pdf": pdf}
    run_sync(lambda: offline_verify.check_pdf("contract.pdf", files, material, result))
    return result


def _signature_line(result: offline_verify.Result) -> str:
    (line,) = [line for line in result.lines if '"Card"' in line]
    return line


@pytest.mark.parametrize("change", ["hold", "cessation_of_operation"])
def test_offline_verifier_accepts_a_signer_revoked_between_signing_and_archiving(card, change):
    signed = _sign(card)
    if change == "hold":
        _suspend(card)
    else:
        _revoke(card, change)

    result = _offline(pades.archive(signed))  # the DSS says revoked, since after the signature

    assert result.failed is False, result.lines
    reason = "certificate_hold" if change == "hold" else change
    revoked_at = IssuedCertificate.objects.get(pk=card.id).revoked_at
    assert revoked_at is not None
    line = _signature_line(result)
    assert line.startswith('OK    contract.pdf: signature "Card" by 港口卡持卡人, time-stamped ')
    assert line.endswith(
        f": valid (certificate revoked at {revoked_at:%Y-%m-%dT%H:%M:%SZ} for {reason}, "
        "after its timestamp)"
    )


def test_offline_verifier_rejects_key_compromise_before_archiving(card):
    signed = _sign(card)
    _revoke(card, "key_compromise")

    result = _offline(pades.archive(signed))

    assert result.failed is True
    line = _signature_line(result)
    assert line.startswith('FAIL  contract.pdf: signature "Card" by 港口卡持卡人')
    assert line.endswith("NOT valid (intact=True, valid=True, trusted=False)")
