"""Four independent verifiers on the PAdES engine's output (issue 13, item 2): the pyHanko CLI,
poppler's pdfsig 22.12, mupdf's `mutool sign -v` 1.21 and openssl 3.0, held to their exact
verdicts on a two-party document with several widgets per field and the B-LTA archive
revision, and on an invisible signature like the evidence report's.

Before the fix, a field's kid widgets had no /Parent: mupdf, which finds signatures only
through the pages' widgets, listed no signature at all. The structures measured on the way
(see pki/pades_fields.py) are rebuilt here by patching the field code, so the defect and the
rejected alternative stay on record as what each verifier says about them."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from portsign.pki import issuance, pades, pades_fields
from portsign.pki.pades import Mark
from portsign.pki.platform import platform_certificate_id
from portsign.seals.render import round_seal, signature
from tests.pki.pdf_samples import make_pdf
from tests.verifiers import (
    MUPDF_DIGEST_BAD,
    OPENSSL_CMS_OK,
    OPENSSL_TS_OK,
    assert_verifiers_accept,
    cli_verdicts,
    mutool_verify,
    openssl_cms_verify,
    pdfsig_signatures,
    pyhanko_validate,
    root_pem_file,
    signature_widgets,
)

ENTERPRISE = "示例港务有限公司"
PERSON = "测试签署人"
# mutool 1.21 trusts only its built-in Adobe root (see tests/verifiers.py); openssl checks ours.
UNTRUSTED_BY_MUPDF = "Certificate error: Unknown error."
UNCHANGED = "The document is unchanged since signing."
EDITED = "The signature is valid but there have been edits since signing."
VALID = "Signature is Valid."


@lru_cache(maxsize=1)
def _seal() -> bytes:
    return round_seal(name=ENTERPRISE, kind_text="合同专用章").png


@lru_cache(maxsize=1)
def _signature() -> bytes:
    return signature(PERSON).png


@pytest.fixture
def signers(hierarchy):
    enterprise = issuance.issue_certificate(
        subject=issuance.enterprise_name(name=ENTERPRISE, uscc="91310000717860235R")
    )
    person = issuance.issue_certificate(
        subject=issuance.person_name(name=PERSON, id_number="11010119900307123X")
    )
    return enterprise.id, person.id


def _two_parties(enterprise: str, person: str, *, archived: bool = True) -> bytes:
    """The enterprise with three widgets on two pages, then the person with one."""
    first = pades.sign_approval(
        make_pdf(3),
        certificate_id=enterprise,
        marks=[
            Mark(page=1, x=0.55, y=0.6, width=0.25, png=_seal()),
            Mark(page=2, x=0.55, y=0.3, width=0.25, png=_seal()),
            Mark(page=1, x=0.1, y=0.9, width=0.2, png=None, text="2026年11月23日"),
        ],
        field_name="Enterprise",
    )
    second = pades.sign_approval(
        first,
        certificate_id=person,
        marks=[Mark(page=3, x=0.6, y=0.8, width=0.2, png=_signature())],
        field_name="Person",
    )
    return pades.archive(second) if archived else second


def _invisible() -> bytes:
    """As the evidence report is signed: the platform's certificate, no marks."""
    return pades.sign_approval(
        make_pdf(2),
        certificate_id=platform_certificate_id(),
        marks=[],
        field_name="PortSign-Evidence",
        reason="Evidence report",
    )


def _pdfsig(pdf: bytes, root: Path, folder: Path) -> list[tuple[str, str]]:
    folder.mkdir()
    return [
        (s["Signature Field Name"], s.get("Signature Validation") or s.get("Note", ""))
        for s in pdfsig_signatures(pdf, root, folder)
    ]


def _pyhanko_cli(pdf: bytes, root: Path, folder: Path) -> dict[str, str]:
    path = folder / "cli.pdf"
    path.write_bytes(pdf)
    result = pyhanko_validate(path, root)
    return cli_verdicts(result.stdout)


def _timestamp_field(pdf: bytes) -> str:
    (name,) = (n for n in signature_widgets(pdf) if n.startswith("Timestamp-"))
    return name


# --- the chosen structure ----------------------------------------------------------------------


def test_two_parties_archived_every_verifier_accepts_every_signature(signers, tmp_path):
    pdf = _two_parties(*signers)
    root = root_pem_file(tmp_path)
    widgets = signature_widgets(pdf)
    timestamp = _timestamp_field(pdf)

    assert {name: len(numbers) for name, numbers in widgets.items()} == {
        "Enterprise": 3,
        "Person": 1,
        timestamp: 1,  # pyHanko's document timestamp: field and widget merged
    }
    # pyHanko: the library (with the modification levels) and the CLI.
    report = pades.verify(pdf)
    assert [(s.field_name, s.valid, s.modification_level) for s in report.signatures] == [
        ("Enterprise", True, "form_filling"),
        ("Person", True, "lta_updates"),
        (timestamp, True, "none"),
    ]
    assert _pyhanko_cli(pdf, root, tmp_path) == {"Enterprise": "VALID", "Person": "VALID"}
    # poppler lists each widget (every one a representation of its field) as a signature.
    # It cannot check RFC 3161 document timestamps at all.
    assert _pdfsig(pdf, root, tmp_path / "pdfsig") == [
        ("Enterprise", VALID),
        ("Enterprise", VALID),
        ("Enterprise", VALID),
        ("Person", VALID),
        (timestamp, "Signature has not yet been verified."),
    ]
    # mupdf: every widget of both fields, digest checked; it does not know /DocTimeStamp.
    assert mutool_verify(pdf, tmp_path) == {
        **{number: (UNTRUSTED_BY_MUPDF, EDITED) for number in widgets["Enterprise"]},
        widgets["Person"][0]: (UNTRUSTED_BY_MUPDF, EDITED),
        widgets[timestamp][0]: ("Signature is not signed.",),
    }
    # openssl, against our root: each CMS over its byte ranges and its signature timestamp;
    # the document timestamp's token over its byte ranges.
    assert openssl_cms_verify(pdf, root, tmp_path) == {
        "Enterprise": (OPENSSL_CMS_OK, OPENSSL_TS_OK),
        "Person": (OPENSSL_CMS_OK, OPENSSL_TS_OK),
        timestamp: (OPENSSL_TS_OK,),
    }
    (tmp_path / "helper").mkdir()
    assert_verifiers_accept(pdf, tmp_path / "helper", ["Enterprise", "Person"])


def test_invisible_signature_every_verifier_accepts(hierarchy, tmp_path):
    pdf = _invisible()
    root = root_pem_file(tmp_path)
    reader = PdfFileReader(io.BytesIO(pdf))
    field = reader.root["/AcroForm"]["/Fields"][0].get_object()
    (widget_ref,) = field["/Kids"]
    widget = widget_ref.get_object()
    page = reader.root["/Pages"]["/Kids"][0].get_object()

    # The widget is in its page's /Annots, has its field as /Parent and shares its /V.
    assert [a.idnum for a in page["/Annots"]] == [widget_ref.idnum]
    assert widget.raw_get("/Parent").idnum == reader.root["/AcroForm"]["/Fields"].raw_get(0).idnum
    assert widget.raw_get("/V").idnum == field.raw_get("/V").idnum
    assert "/T" not in widget
    assert "/FT" not in widget
    assert [s.valid for s in pades.verify(pdf).signatures] == [True]
    assert _pyhanko_cli(pdf, root, tmp_path) == {"PortSign-Evidence": "VALID"}
    assert _pdfsig(pdf, root, tmp_path / "pdfsig") == [("PortSign-Evidence", VALID)]
    assert mutool_verify(pdf, tmp_path) == {widget_ref.idnum: (UNTRUSTED_BY_MUPDF, UNCHANGED)}
    assert openssl_cms_verify(pdf, root, tmp_path) == {
        "PortSign-Evidence": (OPENSSL_CMS_OK, OPENSSL_TS_OK)
    }
    archived = pades.archive(pdf)
    assert mutool_verify(archived, tmp_path)[widget_ref.idnum] == (UNTRUSTED_BY_MUPDF, EDITED)
    (tmp_path / "helper").mkdir()
    assert_verifiers_accept(archived, tmp_path / "helper", ["PortSign-Evidence"])


def test_mupdf_and_openssl_see_tampering(signers, tmp_path):
    pdf = _two_parties(*signers)
    at = pdf.index(b"(Contract page 1)") + 1  # page text: inside every signature's ranges
    tampered = pdf[:at] + b"X" + pdf[at + 1 :]
    root = root_pem_file(tmp_path)
    widgets = signature_widgets(tampered)

    mupdf = mutool_verify(tampered, tmp_path)
    openssl = openssl_cms_verify(tampered, root, tmp_path)

    for number in widgets["Enterprise"] + widgets["Person"]:
        assert mupdf[number] == (UNTRUSTED_BY_MUPDF, MUPDF_DIGEST_BAD)
    # The content no longer matches; the signature timestamps (over the signature values)
    # are still good, the document timestamp's imprint is not.
    assert openssl["Enterprise"] == ("CMS Verification failure", OPENSSL_TS_OK)
    assert openssl["Person"] == ("CMS Verification failure", OPENSSL_TS_OK)
    assert openssl[_timestamp_field(tampered)] == ("Verification: FAILED",)


# --- the structures measured and rejected ------------------------------------------------------


def _without_parent(monkeypatch) -> None:
    """The structure before the fix: kids with neither /Parent nor /V."""
    plain = pades_fields._widget

    def widget(*args, **kwargs):
        made = plain(*args, **kwargs)
        del made["/Parent"]
        return made

    monkeypatch.setattr(pades_fields, "_widget", widget)
    monkeypatch.setattr(pades_fields.Field, "link_value", lambda self, ref: None)


def test_before_the_fix_mupdf_saw_no_signature(signers, monkeypatch, tmp_path):
    _without_parent(monkeypatch)
    pdf = _two_parties(*signers)
    root = root_pem_file(tmp_path)
    invisible = _invisible()

    # pyHanko and poppler were content, as the old module doc said ...
    assert _pyhanko_cli(pdf, root, tmp_path) == {"Enterprise": "VALID", "Person": "VALID"}
    assert _pdfsig(pdf, root, tmp_path / "pdfsig")[:2] == [("Enterprise", VALID), ("Person", VALID)]
    # ... but mupdf found no signature widget of either party (nor of the evidence report):
    # only the document timestamp, which it cannot check.
    assert mutool_verify(pdf, tmp_path) == {
        signature_widgets(pdf)[_timestamp_field(pdf)][0]: ("Signature is not signed.",)
    }
    assert mutool_verify(invisible, tmp_path) == {}


def test_parent_without_value_on_the_kids_fails_poppler_and_mupdf(signers, monkeypatch, tmp_path):
    monkeypatch.setattr(pades_fields.Field, "link_value", lambda self, ref: None)
    pdf = _two_parties(*signers, archived=False)
    root = root_pem_file(tmp_path)
    widgets = signature_widgets(pdf)

    assert _pyhanko_cli(pdf, root, tmp_path) == {"Enterprise": "VALID", "Person": "VALID"}
    # Each widget taken for a child field of its own, without a value ...
    assert _pdfsig(pdf, root, tmp_path / "pdfsig") == [
        ("Enterprise", "The signature form field is not signed."),
    ] * 3 + [("Person", "The signature form field is not signed.")]
    # ... and mupdf reads /V/ByteRange from the widget itself: none there.
    assert mutool_verify(pdf, tmp_path) == {
        number: (UNTRUSTED_BY_MUPDF, MUPDF_DIGEST_BAD)
        for number in widgets["Enterprise"] + widgets["Person"]
    }
