"""Issue 11: PDFs built to break the pipeline — a broken cross-reference table, encryption
spelled with name escapes, corrupt files, pages too large to render — are made signable or
refused at upload with a clear error; never a 500 later, never a worker's memory."""

from __future__ import annotations

import io
import re
import resource

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from portsign.common import pdf
from portsign.contracts.domain import documents
from tests.contracts.conftest import contract_seal, give_certificate, pdf_bytes, upload
from tests.contracts.test_signing import _file, _marks, _sign
from tests.helpers import error_code


def broken_xref(data: bytes) -> bytes:
    """*data* with every cross-reference offset wrong. Readers repair it; PDFium's repaired
    copy kept a reference to the /Info object it could not find, which pyHanko refused."""
    return re.sub(rb"(\d{10}) 00000 n", lambda m: b"%010d 00000 n" % (int(m[1]) + 7), data)


def encrypted(*, user_password: str, spelling: bytes = b"/Encrypt") -> bytes:
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(pdf_bytes(1)), strict=False))
    writer.encrypt("owner-secret", user_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue().replace(b"/Encrypt", spelling)


def one_page(width: float, height: float) -> bytes:
    """A 300-odd byte PDF whose only page is *width* × *height* points (no content)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] >>" % (width, height),
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 4\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


def _template(person, enterprise, content: bytes):
    return person.api.client.post(
        "/api/v1/templates",
        {
            "file": SimpleUploadedFile("t.pdf", content),
            "name": "理货模板",
            "acting_as": enterprise.id,
        },
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def test_a_broken_xref_contract_is_signed_completes_and_verifies(alice, bob, acme, globex, api):
    give_certificate(alice, acme)
    give_certificate(bob, globex)
    seal = contract_seal(bob, globex)
    made = upload(
        alice, "/contracts", broken_xref(pdf_bytes()), title="理货协议", acting_as=acme.id
    )
    assert made.status_code == 201, made.content
    contract_id = made.json()["id"]
    added = alice.api.post(
        f"/contracts/{contract_id}/parties",
        {"kind": "enterprise", "account": "13800000002", "enterprise_name": globex.name},
    )
    assert added.status_code == 201, added.content
    assert alice.api.post(f"/contracts/{contract_id}/send").status_code == 200
    signed = _sign(bob, contract_id, globex.id, _marks(seal))
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "completed"
    signed_pdf = alice.api.get(f"/contracts/{contract_id}/document.pdf").content
    report = api.client.post("/api/v1/verify", {"file": _file(signed_pdf)}).json()
    assert (report["intact"], report["valid"]) == (True, True)


def test_make_signable_repairs_a_dangling_reference_and_keeps_clean_files():
    rewritten = documents.merge(broken_xref(pdf_bytes(2)), [])
    assert not pdf._strictly_readable(rewritten)  # what signing used to meet
    repaired = pdf.make_signable(rewritten)
    assert pdf._strictly_readable(repaired)
    assert pdf.inspect(repaired) == 2
    clean = documents.merge(pdf_bytes(2), [])
    assert pdf.make_signable(clean) is clean


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (encrypted(user_password=""), "file_encrypted"),
        (encrypted(user_password="", spelling=b"/Encr#79pt"), "file_encrypted"),
        (encrypted(user_password="", spelling=b"/#45ncrypt"), "file_encrypted"),
        (encrypted(user_password="open-me", spelling=b"/Encr#79pt"), "file_encrypted"),
        (pdf_bytes(1)[:200], "file_corrupt"),
        (b"%PDF-1.7\n" + b"\x00" * 500, "file_corrupt"),
        (one_page(14_401, 842), "page_size"),
        (one_page(595, 2.5), "page_size"),
    ],
    ids=["owner", "escaped-y", "escaped-E", "user", "truncated", "garbage", "huge", "sliver"],
)
def test_every_upload_refuses_what_it_cannot_show_or_sign(alice, acme, content, code):
    contract = upload(alice, "/contracts", content, title="理货协议", acting_as=acme.id)
    template = _template(alice, acme, content)
    licence = upload(alice, f"/enterprises/{acme.id}/seal-scans", content, "s.pdf", type="hr")
    for response in (contract, template, licence):
        assert response.status_code == 400, response.content
        assert error_code(response) == code


def test_the_largest_page_is_previewed_within_the_pixel_budget(alice, acme):
    made = upload(alice, "/contracts", one_page(14_400, 14_400), title="超大页", acting_as=acme.id)
    assert made.status_code == 201, made.content
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    preview = alice.api.get(f"/contracts/{made.json()['id']}/pages/1.png")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert preview.status_code == 200
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.width == image.height == 4000  # sqrt(16 MP): not 19,200 at 96 dpi
    assert grown_kib < 100 * 1024  # the bitmap lived in the child, not in this process
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 768 * 1024


def test_a_page_that_cannot_be_rendered_is_shown_as_unavailable_once(alice, acme, settings):
    settings.PDF_RENDER_MEMORY_MB = 16  # too little for the child even to load PDFium
    # Its own content, so no other test has rendered (and cached) this page before.
    content = pdf_bytes(1, label="A page without a preview")
    made = upload(alice, "/contracts", content, title="理货协议", acting_as=acme.id)
    path = f"/contracts/{made.json()['id']}/pages/1.png"
    first = alice.api.get(path)
    assert first.status_code == 200
    assert first.content == documents.unavailable_png()
    settings.PDF_RENDER_MEMORY_MB = 768
    # Kept like a rendered page: the next view does not try again (it would succeed now).
    assert alice.api.get(path).content == first.content


def test_a_corrupt_template_pdf_is_a_clear_error(alice, acme):
    response = _template(alice, acme, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF")
    assert response.status_code == 400
    assert error_code(response) == "file_corrupt"
    assert response.json()["error"]["fields"] == {"file": "The PDF is incomplete or damaged."}
