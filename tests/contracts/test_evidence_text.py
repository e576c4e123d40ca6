"""The evidence report (出证报告, issue 13 item 13) is a text PDF, signed and timestamped.

Its text layer is read back with poppler's `pdftotext`: the contract's title, each party's
enterprise, each version's SHA-256 intact on one line (selectable, copyable), codes in words
(`micro_deposit` → 对公打款认证, `carrier3` → 运营商三要素), no raw audit data. A long trail
flows onto further pages numbered "第 n 页 / 共 m 页". pyHanko, pdfsig, mupdf and openssl accept
its signature and its document timestamp.

The .po catalogue is kept by another hand; until it carries the report's messages,
`_proposed_chinese` lends the active zh-hans catalogue the translations proposed with this
change — only for messages it lacks, so a translation in the .po always wins.
"""

from __future__ import annotations

import subprocess

import pytest

from portsign.common.audit import record_event
from portsign.contracts.domain import documents, pdftext
from portsign.contracts.domain.evidence import FIELD_NAME, build_report
from portsign.contracts.domain.evidence_pdf import render
from portsign.contracts.models import Contract
from portsign.pki import pades
from portsign.pki.applications import signing_certificate
from tests.contracts.test_signing import _file
from tests.contracts.test_workflow import _complete, deal  # noqa: F401 -- a fixture
from tests.helpers import error_code, make_person
from tests.verifiers import assert_verifiers_accept


def pdf_text(pdf: bytes, tmp_path, name: str = "report.pdf") -> str:
    path = tmp_path / name
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def page_count(pdf: bytes) -> int:
    import pypdfium2

    return len(pypdfium2.PdfDocument(pdf))


def on_one_line(text: str, value: str) -> bool:
    """*value* whole on one line of the text layer: selectable and copyable as it is."""
    return any(value in line for line in text.splitlines())


@pytest.fixture
def completed(deal, alice, bob, acme, globex):  # noqa: F811 -- the imported fixture
    contract_id, _seals = _complete(deal, alice, bob, acme, globex)
    return Contract.objects.get(pk=contract_id)


def test_evidence_report_is_signed_timestamped_and_says_what_happened(
    deal,  # noqa: F811
    completed,
    alice,
    acme,
    globex,
    api,
    tmp_path,
):
    contract_id = completed.id
    response = alice.api.get(f"/contracts/{contract_id}/evidence.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    report = api.client.post("/api/v1/verify", {"file": _file(pdf)}).json()
    assert (report["intact"], report["valid"]) == (True, True)
    assert [s["signer"] for s in report["signatures"] if s["kind"] != "timestamp"] == [
        "港签 PortSign 平台"
    ]
    # Its own signature, then validation data and a document timestamp (pades.archive).
    checked = pades.verify(pdf)
    assert [s.field_name for s in checked.approvals] == [FIELD_NAME]
    assert len(checked.timestamps) == 1
    assert all(s.valid for s in checked.signatures)
    (tmp_path / "verifiers").mkdir()
    assert_verifiers_accept(pdf, tmp_path / "verifiers", [FIELD_NAME])

    text = pdf_text(pdf, tmp_path)
    assert completed.title in text
    for enterprise in (acme, globex):
        assert enterprise.name in text
        assert on_one_line(text, enterprise.uscc)
        assert on_one_line(text, signing_certificate(enterprise_id=enterprise.id).serial)
    versions = list(completed.versions.select_related("document"))
    assert len(versions) >= 3
    for version in versions:
        assert on_one_line(text, version.document.sha256), version.kind
    assert on_one_line(text, completed.body.sha256)
    assert on_one_line(text, completed.current.sha256)
    # Codes in words, in the report's language; nothing raw.
    assert "对公打款认证" in text  # micro_deposit
    assert "运营商三要素" in text  # carrier3
    assert "已完成" in text  # the contract's status
    assert "签署后" in text  # a version's kind
    assert "Bob Test（代表 Globex Tally" in text  # who acted for whom
    assert "Alice Test（代表 Acme Port" in text
    assert "审计链完整性校验\n\n通过" in text
    assert "全部签名有效且文件未被修改：是" in text
    for raw in ("{", "}", "micro_deposit", "carrier3", "contract.party_signed", "completed"):
        assert raw not in text, raw
    signer = completed.parties.first().signed_by
    assert signer.id_number not in text
    assert "第 1 页 / 共 " in text
    # An outsider gets nothing; before completion there is no report.
    outsider = make_person("outsider@example.cn", "Outsider Test")
    assert outsider.api.get(f"/contracts/{contract_id}/evidence.pdf").status_code == 404


def test_no_report_before_completion(deal, alice):  # noqa: F811
    contract_id, _seals = deal
    early = alice.api.get(f"/contracts/{contract_id}/evidence.pdf")
    assert early.status_code == 409
    assert error_code(early) == "not_completed"


def test_a_long_trail_flows_onto_numbered_pages(completed, alice, acme, tmp_path):
    for _ in range(120):
        record_event(
            action="contract.reminded",
            actor_id=alice.user.id,
            acting_as=acme.id,
            object_type="contract",
            object_id=completed.id,
            data={"parties": "1"},
        )
    pdf = render(build_report(completed))
    pages = page_count(pdf)
    assert pages >= 4
    text = pdf_text(pdf, tmp_path)
    for number in range(1, pages + 1):
        assert f"第 {number} 页 / 共 {pages} 页" in text
    assert text.count("催签") >= 120  # contract.reminded, in words
    trail_pages = [page for page in text.split("\f") if "催签" in page]
    assert len(trail_pages) >= 3
    assert all("操作人" in page for page in trail_pages)  # the trail's header on each page
    assert on_one_line(text, completed.current.sha256)


def test_the_old_picture_report_has_no_text_layer(completed, tmp_path):
    """What the test above rules out: today's report drew its lines into one JPEG per page, so
    its hashes could be seen but not selected, copied or searched."""
    sha256 = completed.current.sha256
    picture = documents.merge(pdftext.render([pdftext.Line(f"最终文件 SHA-256：{sha256}")]), [])
    assert not on_one_line(pdf_text(picture, tmp_path, "picture.pdf"), sha256)
    assert on_one_line(pdf_text(render(build_report(completed)), tmp_path), sha256)
