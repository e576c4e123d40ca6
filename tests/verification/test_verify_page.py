"""The public /verify/ page in words (issue 13 item 12): Beijing time, certificate statuses and
kinds in Chinese, 无效 in red, and a friendly sentence for a file that cannot be verified —
on the page and in `POST /api/v1/verify`, whose codes stay those of API.md."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from portsign.pki import issuance, pades
from portsign.verification.display import beijing_time
from tests.verification.conftest import ENTERPRISE, sign, tampered

BEIJING_TIME = re.compile(r"\d{4}年\d{2}月\d{2}日 \d{2}:\d{2}:\d{2}（北京时间）")
BROKEN = "这不是可以验证的 PDF 文件：文件已损坏或不完整。"
NOT_PDF = "这不是可以验证的 PDF 文件：该文件不是 PDF 文档。"


def _upload(data: bytes, name: str = "contract.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def _page(client, data: bytes, name: str = "contract.pdf") -> str:
    response = client.post("/verify/", {"file": _upload(data, name)})
    assert response.status_code == 200
    return response.content.decode()


def _cells(html: str, testid: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(rf'data-testid="{testid}"[^>]*>(.*?)</(?:td|span)>', html, re.S)
    ]


def test_beijing_time_in_chinese_and_in_english():
    moment = dt.datetime(2026, 12, 3, 6, 5, 9, tzinfo=dt.UTC)
    with translation.override("zh-hans"):
        assert beijing_time(moment) == "2026年12月03日 14:05:09（北京时间）"
        assert beijing_time("2026-12-03T06:05:09+00:00") == "2026年12月03日 14:05:09（北京时间）"
        assert beijing_time(None) == "—"
    with translation.override("en"):
        assert beijing_time(moment) == "3 December 2026, 14:05:09 (Beijing time)"


def test_the_page_speaks_chinese_words_and_beijing_time(client, signed):
    html = _page(client, signed)

    assert "所有签名均有效，文档签署后未被修改。" in html
    assert html.count('data-testid="verify-signature"') == 2  # the party and the archive stamp
    assert _cells(html, "verify-kind") == ["签名", "时间戳"]
    assert _cells(html, "verify-certificate") == ["正常", "正常"]
    assert _cells(html, "verify-valid") == ["有效", "有效"]
    assert ENTERPRISE in html
    assert hashlib.sha256(signed).hexdigest() in html
    # Times: Beijing time in words, the very instants the verifier read; no ISO UTC left.
    report = pades.verify(signed)
    signed_at = report.signatures[0].signed_at
    assert signed_at is not None
    local = signed_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert _cells(html, "verify-signed-at")[0] == local.strftime(
        "%Y年%m月%d日 %H:%M:%S（北京时间）"
    )
    assert all(BEIJING_TIME.fullmatch(t) for t in _cells(html, "verify-timestamp"))
    assert "+00:00" not in html
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:", html)
    for code in (">good<", ">revoked<", ">approval<", ">timestamp<"):
        assert code not in html


def test_the_page_in_english_is_readable(english, signed):
    html = _page(english, signed)

    assert _cells(html, "verify-kind") == ["Signature", "Time-stamp"]
    assert _cells(html, "verify-certificate") == ["Good", "Good"]
    stamp = _cells(html, "verify-timestamp")[0]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d{2}:\d{2}:\d{2} \(Beijing time\)", stamp)


def test_a_tampered_pdf_shows_invalid_in_red(client, signed):
    html = _page(client, tampered(signed))

    verdict = re.search(r'data-testid="verify-verdict">(.*?)</p>', html, re.S)
    assert verdict
    assert verdict.group(1) == "警告：存在无效签名，或文档在签署后被修改。"
    assert _cells(html, "verify-invalid") == ["无效", "无效"]
    assert html.count('class="badge verify-invalid"') == 2
    assert _cells(html, "verify-certificate") == ["正常", "正常"]  # only the document changed
    css = (Path(__file__).parents[2] / "src/portsign/static/portsign/app.css").read_text()
    rule = re.search(r"\.badge\.verify-invalid\s*\{([^}]*)\}", css)
    assert rule
    assert "color: var(--red)" in rule.group(1)


def test_a_revoked_certificate_reads_in_words(client, enterprise_certificate):
    signed = sign(enterprise_certificate.id)
    issuance.revoke(enterprise_certificate.id, reason="key_compromise")

    html = _page(client, signed)

    assert _cells(html, "verify-certificate") == ["已吊销"]
    assert _cells(html, "verify-invalid") == ["无效"]


def _truncated(pdf: bytes) -> bytes:
    return pdf[: len(pdf) // 2]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda pdf: b"\x00\x01garbage, not a PDF at all" * 40, NOT_PDF),
        (_truncated, BROKEN),
    ],
    ids=["garbage", "truncated"],
)
def test_a_file_that_cannot_be_verified_gets_a_friendly_sentence(client, signed, make, message):
    html = _page(client, make(signed))

    error = re.search(r'data-testid="verify-error">(.*?)</p>', html, re.S)
    assert error
    assert error.group(1) == message
    assert not re.search(r"[A-Za-z]{4,}", error.group(1).replace("PDF", ""))  # no English
    assert 'data-testid="verify-report"' not in html

    api = client.post("/api/v1/verify", {"file": _upload(make(signed))})
    assert api.status_code == 400
    body = api.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "pdf_invalid"  # API.md's code, unchanged
    assert body["error"]["message"] == message


def test_the_api_keeps_its_codes_and_iso_times(client, signed):
    report = client.post("/api/v1/verify", {"file": _upload(signed)}).json()

    assert set(report) == {"intact", "valid", "signatures"}
    assert [s["certificate_status"] for s in report["signatures"]] == ["good", "good"]
    assert [s["kind"] for s in report["signatures"]] == ["approval", "timestamp"]
    assert dt.datetime.fromisoformat(report["signatures"][0]["signed_at"]).utcoffset() == (
        dt.timedelta(0)
    )


def test_the_api_error_in_english_is_friendly_too(signed):
    from django.test import Client

    response = Client(headers={"accept-language": "en"}).post(
        "/api/v1/verify", {"file": _upload(_truncated(signed))}
    )
    assert response.json()["error"]["message"] == (
        "This is not a PDF file that can be verified: the file is damaged or incomplete."
    )
