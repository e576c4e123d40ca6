"""The downloadable 验签报告 (issue 13 item 12): after a verification the page offers an A4
PDF of the same facts, built without keeping the upload; it is rate-limited like a
verification, and its text layer (read with poppler's pdftotext) carries the file's SHA-256."""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import subprocess
from urllib.parse import unquote

import pypdfium2 as pdfium
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.helpers import error_code
from tests.verification.conftest import ENTERPRISE, tampered

A4_POINTS = (595.28, 841.89)


def _verify(client, data: bytes, name: str) -> str:
    page = client.post("/verify/", {"file": SimpleUploadedFile(name, data)}).content.decode()
    assert 'data-testid="verify-download-report"' in page
    token = re.search(r'name="report" value="([^"]+)"', page)
    assert token
    return html_lib.unescape(token.group(1))


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return done.stdout.decode()


def test_the_report_downloads_as_an_a4_pdf_with_the_facts(client, signed, tmp_path):
    token = _verify(client, signed, "港口合同.pdf")

    response = client.post("/verify/", {"report": token})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "验签报告-港口合同.pdf" in unquote(disposition)
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) == 1
        width, height = document[0].get_size()
        assert (round(width), round(height)) == tuple(round(v) for v in A4_POINTS)
    finally:
        document.close()
    text = _text(pdf, tmp_path)
    squeezed = re.sub(r"\s+", "", text)
    assert hashlib.sha256(signed).hexdigest() in text
    for fact in (
        "验签报告",
        "港口合同.pdf",
        "所有签名均有效，文档签署后未被修改。",
        ENTERPRISE,
        "正常",
        "时间戳",
        "覆盖整个文档",
        "有效",
    ):
        assert fact in squeezed, fact
    assert re.search(r"\d{4}年\d{2}月\d{2}日\d{2}:\d{2}:\d{2}（北京时间）", squeezed)


def test_the_report_of_a_tampered_pdf_says_invalid(client, signed, tmp_path):
    token = _verify(client, tampered(signed), "tampered.pdf")

    squeezed = re.sub(
        r"\s+", "", _text(client.post("/verify/", {"report": token}).content, tmp_path)
    )

    assert "警告：存在无效签名，或文档在签署后被修改。" in squeezed
    assert "无效" in squeezed
    assert "正常" in squeezed  # the certificate is fine, the document is not


def test_a_forged_result_is_refused(client, signed):
    token = _verify(client, signed, "contract.pdf")

    response = client.post("/verify/", {"report": token[:-3] + "abc"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "无法读取验签结果，请重新验证文件。" in response.content.decode()


def test_report_downloads_count_against_the_verify_rate_limit(client, signed, settings):
    from django.core.cache import cache

    settings.VERIFY_IP_HOURLY_LIMIT = 2
    token = _verify(client, signed, "contract.pdf")
    assert client.post("/verify/", {"report": token})["Content-Type"] == "application/pdf"
    cache.clear()

    refused = client.post("/verify/", {"report": token})

    assert refused["Content-Type"].startswith("text/html")
    assert 'data-testid="verify-error"' in refused.content.decode()
    limited = client.post("/api/v1/verify", {"file": SimpleUploadedFile("x.pdf", signed)})
    assert error_code(limited) == "verify_rate_limited"


def test_an_old_result_must_be_verified_again(client, signed, monkeypatch):
    from portsign.verification import display

    token = _verify(client, signed, "contract.pdf")
    monkeypatch.setattr(display, "TOKEN_MAX_AGE", -1)

    response = client.post("/verify/", {"report": token})

    assert "验签结果已过期，请重新验证文件后再下载验签报告。" in response.content.decode()
