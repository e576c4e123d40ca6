"""pyHanko, with revocation checking against our own OCSP/CRL over loopback HTTP, accepts a
signature by an issued certificate and reports a revoked one as revoked."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from portsign.pki import issuance
from portsign.pki.ca import init_hierarchy
from portsign.pki.signer import root_certificate, signer_for


@pytest.fixture
def live_pki(live_server, settings):
    settings.PUBLIC_URL = live_server.url  # certificates point their CRL/OCSP URLs here
    init_hierarchy()
    return live_server


def _pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (595, 842), "white").save(buffer, format="PDF")
    return buffer.getvalue()


def _off_loop(function, *args):
    """pyHanko's sync API runs its own event loop; browser tests in the same worker leave one
    running in this thread, so run pyHanko in a fresh thread as a server thread would."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args).result()


def _signed_by(issued) -> PdfFileReader:
    writer = IncrementalPdfFileWriter(io.BytesIO(_pdf()), strict=False)
    signer = signer_for(issued.id)
    output = _off_loop(
        lambda: signers.sign_pdf(
            writer, signers.PdfSignatureMetadata(field_name="Sig1"), signer=signer
        )
    )
    return PdfFileReader(output, strict=False)


def _validate(reader: PdfFileReader):
    context = ValidationContext(
        trust_roots=[root_certificate()], allow_fetching=True, revocation_mode="hard-fail"
    )
    return _off_loop(validate_pdf_signature, reader.embedded_signatures[0], context)


def test_good_certificate_validates_with_revocation_checks(live_pki):
    issued = issuance.issue_certificate(
        subject=issuance.enterprise_name(name="示例港务有限公司", uscc="91310000717860235R")
    )
    status = _validate(_signed_by(issued))
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.revoked is False
    assert status.bottom_line is True


def test_revoked_certificate_is_reported_revoked(live_pki):
    issued = issuance.issue_certificate(
        subject=issuance.person_name(name="测试签署人", id_number="11010119900307123X")
    )
    reader = _signed_by(issued)
    issuance.revoke(issued.id, reason="key_compromise")
    status = _validate(reader)
    assert status.intact
    assert status.revoked is True
    assert status.bottom_line is False
