"""The PAdES engine (pki/pades.py): two parties sign in turn with visible marks, the document is
archived (B-LTA), and our verify(), the pyHanko CLI and poppler's pdfsig all accept every
signature; tampering, revocation, mark placement and bad input are reported as such."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography.hazmat.primitives import serialization
from PIL import ImageChops
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign.validation.dss import DocumentSecurityStore

from portsign.pki import issuance, pades
from portsign.pki.ca import certificate_of
from portsign.pki.pades import Mark, SigningError
from portsign.seals.render import round_seal, signature
from tests.pki.pdf_samples import make_pdf
from tests.verifiers import cli_verdicts, pdfsig, pyhanko, pyhanko_validate

ENTERPRISE = "示例港务有限公司"
USCC = "91310000717860235R"
PERSON = "测试签署人"
# Where the enterprise's seal goes on page 1: fractions of the page, origin top-left.
SEAL_X, SEAL_Y, SEAL_WIDTH = 0.55, 0.6, 0.25


@pytest.fixture
def enterprise(hierarchy):
    return issuance.issue_certificate(subject=issuance.enterprise_name(name=ENTERPRISE, uscc=USCC))


@pytest.fixture
def person(hierarchy):
    return issuance.issue_certificate(
        subject=issuance.person_name(name=PERSON, id_number="11010119900307123X")
    )


@lru_cache(maxsize=1)
def _seal() -> bytes:
    return round_seal(name=ENTERPRISE, kind_text="合同专用章").png  # ~0.3 s to draw


@lru_cache(maxsize=1)
def _signature() -> bytes:
    return signature(PERSON).png


def _enterprise_marks() -> list[Mark]:
    return [
        Mark(page=1, x=SEAL_X, y=SEAL_Y, width=SEAL_WIDTH, png=_seal()),
        Mark(page=1, x=0.1, y=0.9, width=0.2, png=None, text="2026年11月23日"),
    ]


def _two_parties_archived(enterprise, person) -> bytes:
    first = pades.sign_approval(
        make_pdf(2),
        certificate_id=enterprise.id,
        marks=_enterprise_marks(),
        field_name="Enterprise",
        reason="Contract approved",
        location="Shanghai",
    )
    second = pades.sign_approval(
        first,
        certificate_id=person.id,
        marks=[Mark(page=2, x=0.6, y=0.8, width=0.2, png=_signature())],
        field_name="Person",
        signer_name=PERSON,
    )
    return pades.archive(second)


@pytest.fixture
def archived(enterprise, person) -> bytes:
    return _two_parties_archived(enterprise, person)


@pytest.fixture
def root_pem(hierarchy, tmp_path) -> Path:
    path = tmp_path / "root.pem"
    path.write_bytes(certificate_of(hierarchy["root"]).public_bytes(serialization.Encoding.PEM))
    return path


def _tampered(pdf: bytes) -> bytes:
    """One byte of page 1's text changed: inside every signature's byte range."""
    at = pdf.index(b"(Contract page 1)") + 1
    assert at < PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0].byte_range[1]
    return pdf[:at] + b"X" + pdf[at + 1 :]


# --- our verify() ----------------------------------------------------------------------------


def test_two_parties_then_archive_verify_all_valid(archived):
    report = pades.verify(archived)

    assert report.intact is True
    assert report.valid is True
    assert [(s.field_name, s.kind) for s in report.approvals] == [
        ("Enterprise", "approval"),
        ("Person", "approval"),
    ]
    assert len(report.timestamps) == 1
    assert report.signatures[-1].kind == "timestamp"
    for sig in report.signatures:
        assert (sig.intact, sig.trusted, sig.valid) == (True, True, True), sig
        assert sig.certificate_status == "good"
        assert sig.timestamp is not None
    enterprise_sig, person_sig, document_ts = report.signatures
    assert enterprise_sig.signer == ENTERPRISE
    assert enterprise_sig.organisation == ENTERPRISE
    assert enterprise_sig.organisation_identifier == f"NTRCN-{USCC}"
    assert person_sig.signer == PERSON
    assert person_sig.organisation == ""
    assert document_ts.signer == "PortSign Timestamping Authority"
    # Later revisions: a new visible signature field counts as form filling; DSS plus a
    # document timestamp as LTA updates; the last timestamp covers the whole file.
    assert enterprise_sig.modification_level == "form_filling"
    assert person_sig.modification_level == "lta_updates"
    assert document_ts.modification_level == "none"
    assert [s.covers_whole_document for s in report.signatures] == [False, False, True]
    assert enterprise_sig.signed_at is not None
    assert enterprise_sig.signed_at <= enterprise_sig.timestamp


def test_archive_embeds_validation_data_for_every_signature_and_timestamp(archived, hierarchy):
    reader = PdfFileReader(io.BytesIO(archived))
    dss = DocumentSecurityStore.read_dss(reader)
    certificates = {c.subject.native["common_name"] for c in dss.load_certs()}
    ocsp_subjects = set()
    for ocsp_ref in dss.ocsps:
        response = asn1_ocsp.OCSPResponse.load(ocsp_ref.get_object().data)
        (single,) = response.basic_ocsp_response["tbs_response_data"]["responses"]
        assert single["cert_status"].name == "good"
        ocsp_subjects.add(single["cert_id"]["serial_number"].native)
    crl_issuers = {
        asn1_crl.CertificateList.load(ref.get_object().data).issuer.native["common_name"]
        for ref in dss.crls
    }

    assert {ENTERPRISE, PERSON, "PortSign Root CA", "PortSign Issuing CA"} <= certificates
    assert {"PortSign Timestamping Authority", "PortSign OCSP Responder"} <= certificates
    signer_serials = {s.signer_cert.serial_number for s in reader.embedded_regular_signatures}
    assert ocsp_subjects == signer_serials  # one OCSP answer per signer certificate
    assert crl_issuers == {"PortSign Root CA", "PortSign Issuing CA"}
    # The document timestamp covers the DSS: it is the last revision and covers everything.
    assert reader.embedded_signatures[-1].sig_object_type == "/DocTimeStamp"


def test_signature_is_pades_b_t_with_signing_certificate_v2(enterprise):
    signed = pades.sign_approval(
        make_pdf(1), certificate_id=enterprise.id, marks=_enterprise_marks(), field_name="S"
    )
    embedded = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    signer_info = embedded.signer_info
    signed_types = {a["type"].native for a in signer_info["signed_attrs"]}
    unsigned_types = {a["type"].native for a in signer_info["unsigned_attrs"]}

    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert "signing_certificate_v2" in signed_types
    assert "signing_time" not in signed_types  # PAdES: the claimed time is /M
    assert unsigned_types == {"signature_time_stamp_token"}
    assert embedded.docmdp_level is None  # an approval signature, no DocMDP
    assert "/Perms" not in PdfFileReader(io.BytesIO(signed)).root


# --- the pyHanko CLI -------------------------------------------------------------------------


def test_pyhanko_cli_accepts_each_signature(archived, root_pem, tmp_path):
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(archived)

    # Plain validation: the CLI does not read the DSS here and our certificates point at a
    # server that is not running, so revocation checking is off.
    plain = pyhanko_validate(pdf, root_pem)
    # AdES validation (ETSI EN 319 102-1) uses the revocation data archive() embedded.
    ades = pyhanko("adesverify", "--trust", root_pem, "--trust-replace", "--pretty-print", pdf)

    for result in (plain, ades):
        assert result.returncode == 0, result.stdout + result.stderr
        assert cli_verdicts(result.stdout) == {"Enterprise": "VALID", "Person": "VALID"}
    assert plain.stdout.count("The signature is cryptographically sound.") == 2
    assert plain.stdout.count("The TSA certificate is trusted.") == 2


def test_pyhanko_cli_rejects_tampered_document(archived, root_pem, tmp_path):
    pdf = tmp_path / "tampered.pdf"
    pdf.write_bytes(_tampered(archived))

    result = pyhanko_validate(pdf, root_pem)

    assert result.returncode != 0
    assert cli_verdicts(result.stdout) == {"Enterprise": "INVALID", "Person": "INVALID"}


def test_pdfsig_accepts_each_approval_signature(archived, root_pem, tmp_path):
    report = pdfsig(archived, root_pem, tmp_path)

    assert report["Enterprise"]["Signature Validation"] == "Signature is Valid."
    assert report["Person"]["Signature Validation"] == "Signature is Valid."
    assert report["Enterprise"]["Signature Type"] == "ETSI.CAdES.detached"
    assert report["Enterprise"]["Signer Certificate Common Name"] == ENTERPRISE
    # Recorded, not required: poppler 22.12 says "Unknown issue with Certificate or corrupted
    # data." for this good chain, and cannot check RFC 3161 document timestamps at all.
    timestamps = [name for name in report if name.startswith("Timestamp-")]
    assert len(timestamps) == 1
    assert report[timestamps[0]]["Signature Validation"] == "Signature has not yet been verified."


def test_pdfsig_reports_digest_mismatch_when_tampered(archived, root_pem, tmp_path):
    report = pdfsig(_tampered(archived), root_pem, tmp_path)

    assert report["Enterprise"]["Signature Validation"] == "Digest Mismatch."
    assert report["Person"]["Signature Validation"] == "Digest Mismatch."


# --- tampering and revocation in verify() ----------------------------------------------------


def test_verify_reports_tampering(archived):
    report = pades.verify(_tampered(archived))

    assert report.intact is False
    assert report.valid is False
    assert [s.intact for s in report.signatures] == [False, False, False]
    assert [s.valid for s in report.signatures] == [False, False, False]
    # The certificates themselves are still good: only the document changed.
    assert [s.certificate_status for s in report.signatures] == ["good", "good", "good"]


def test_verify_reports_revoked_certificate(person):
    signed = pades.sign_approval(
        make_pdf(1),
        certificate_id=person.id,
        marks=[Mark(page=1, x=0.1, y=0.1, width=0.2, png=_signature())],
        field_name="Person",
    )
    issuance.revoke(person.id, reason="key_compromise")

    report = pades.verify(signed)

    (sig,) = report.signatures
    assert sig.certificate_status == "revoked"
    assert sig.revoked_at is not None
    assert sig.intact is True
    assert sig.trusted is False
    assert sig.valid is False
    assert report.valid is False
    assert report.intact is True


# --- where the marks land --------------------------------------------------------------------


def _seal_red(pdf: bytes, page: int) -> tuple[tuple[int, int, int, int] | None, int, tuple]:
    """Bounding box and count of seal-red pixels on the rendered page, and the page's size."""
    document = pdfium.PdfDocument(pdf)
    document.init_forms()  # widgets are drawn only with the form environment
    image = document[page - 1].render(scale=1, may_draw_forms=True).to_pil().convert("RGB")
    red, green, blue = image.split()
    mask = ImageChops.multiply(
        red.point(lambda v: 255 if v > 180 else 0),
        ImageChops.multiply(
            green.point(lambda v: 255 if v < 90 else 0),
            blue.point(lambda v: 255 if v < 90 else 0),
        ),
    )
    return mask.getbbox(), mask.histogram()[255], image.size


@pytest.mark.parametrize("rotate", [0, 90])
def test_marks_land_where_asked(enterprise, rotate):
    signed = pades.sign_approval(
        make_pdf(1, rotate=rotate),
        certificate_id=enterprise.id,
        # The seal alone: the date stamp is seal red too, and has tests of its own
        # (test_date_stamp.py).
        marks=_enterprise_marks()[:1],
        field_name="Enterprise",
    )

    box, count, (width, height) = _seal_red(signed, 1)

    # The displayed page: 595 x 842 points upright, 842 x 595 turned a quarter.
    assert (width, height) == ((595, 842) if rotate == 0 else (842, 595))
    left, top = SEAL_X * width, SEAL_Y * height
    side = SEAL_WIDTH * width  # a round seal's image is square
    assert box is not None
    red_left, red_top, red_right, red_bottom = box  # right and bottom exclusive
    # All seal red lies in the requested box (1 px of anti-aliasing) ...
    assert red_left >= left - 1
    assert red_top >= top - 1
    assert red_right <= left + side + 1
    assert red_bottom <= top + side + 1
    # ... and spans it: the seal's ring touches the image's edges.
    assert red_left - left < 0.05 * side
    assert red_top - top < 0.05 * side
    assert left + side - red_right < 0.05 * side
    assert top + side - red_bottom < 0.05 * side
    assert count > 0.1 * side * side  # ring, star and text are drawn, not a hairline


# --- bad input -------------------------------------------------------------------------------


def _encrypted_pdf() -> bytes:
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(make_pdf(1))))
    writer.encrypt("owner-secret", "user-secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _seal_at(**overrides) -> list[Mark]:
    values = {"page": 1, "x": 0.1, "y": 0.1, "width": 0.2, "png": _seal()} | overrides
    return [Mark(**values)]


@pytest.mark.parametrize(
    ("make_input", "mark", "code"),
    [
        (lambda: b"this is not a PDF", None, "pdf_invalid"),
        (lambda: make_pdf(1)[:400], None, "pdf_invalid"),
        (_encrypted_pdf, None, "pdf_encrypted"),
        (lambda: make_pdf(2), {"page": 3}, "page_out_of_range"),
        (lambda: make_pdf(2), {"page": 0}, "page_out_of_range"),
        (lambda: make_pdf(1), {"x": 0.9}, "mark_outside_page"),
        (lambda: make_pdf(1), {"x": -0.01}, "mark_outside_page"),
        (lambda: make_pdf(1), {"y": 0.9}, "mark_outside_page"),
        (lambda: make_pdf(1), {"width": 0.0}, "mark_outside_page"),
        (lambda: make_pdf(1), {"width": float("nan")}, "mark_outside_page"),
        (lambda: make_pdf(1), {"png": b"\x89PNG broken"}, "image_invalid"),
        (lambda: make_pdf(1), {"png": None}, "mark_empty"),
    ],
)
def test_bad_input_raises_signing_error(enterprise, make_input, mark, code):
    marks = [] if mark is None else _seal_at(**mark)

    with pytest.raises(SigningError) as raised:
        pades.sign_approval(
            make_input(), certificate_id=enterprise.id, marks=marks, field_name="Sig"
        )

    assert raised.value.code == code
    assert raised.value.status == 400


@pytest.mark.parametrize(
    ("change", "code"),
    [(issuance.revoke, "certificate_not_valid"), (issuance.suspend, "certificate_not_valid")],
)
def test_only_a_valid_certificate_signs(enterprise, change, code):
    pades.sign_approval(make_pdf(1), certificate_id=enterprise.id, marks=[], field_name="A")
    change(enterprise.id)  # the signer is cached by now: the status must still be checked

    with pytest.raises(SigningError) as raised:
        pades.sign_approval(make_pdf(1), certificate_id=enterprise.id, marks=[], field_name="B")

    assert raised.value.code == code


def test_field_name_taken_or_invalid(enterprise):
    signed = pades.sign_approval(
        make_pdf(1), certificate_id=enterprise.id, marks=[], field_name="Sig"
    )

    for name, code in (
        ("Sig", "field_exists"),
        ("a.b", "field_name_invalid"),
        ("", "field_name_invalid"),
    ):
        with pytest.raises(SigningError) as raised:
            pades.sign_approval(signed, certificate_id=enterprise.id, marks=[], field_name=name)
        assert raised.value.code == code


def test_verify_and_archive_refuse_bad_input(hierarchy):
    with pytest.raises(SigningError) as not_pdf:
        pades.verify(b"%PDF-1.7 garbage")
    with pytest.raises(SigningError) as unsigned:
        pades.archive(make_pdf(1))

    assert not_pdf.value.code == "pdf_invalid"
    assert unsigned.value.code == "not_signed"
    assert pades.verify(make_pdf(1)).signatures == ()


def test_signing_works_while_this_thread_runs_an_event_loop(enterprise, monkeypatch):
    """Browser tests leave an event loop running in the test thread (and allow Django's ORM
    there); pyHanko's async part then runs in a helper thread instead of failing."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    async def sign_inside_loop() -> bytes:
        return pades.sign_approval(
            make_pdf(1), certificate_id=enterprise.id, marks=_enterprise_marks(), field_name="S"
        )

    # A thread of our own, so the test does not depend on whether an earlier browser test left
    # a loop running in this one (asyncio.run refuses to start inside a running loop).
    with ThreadPoolExecutor(max_workers=1) as pool:
        signed = pool.submit(lambda: asyncio.run(sign_inside_loop())).result()

    assert [s.valid for s in pades.verify(signed).signatures] == [True]
