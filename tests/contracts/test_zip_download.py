"""Downloads named after the contract and completed contracts in one zip (issue 13 items 7 and
14): `<title>-<number>.pdf` with a UTF-8 `filename*` and an ASCII `filename`; ticked rows or
every completed contract of a filter, at most 100; a contract the user may not see makes the
whole request a 404."""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import unquote

from django.utils import timezone, translation

from portsign.contracts.domain import downloads
from portsign.contracts.domain.documents import read_document
from portsign.contracts.models import Contract
from tests.contracts.test_boxes_search import complete, send_to, web
from tests.contracts.test_workflow import _complete, deal  # noqa: F401 -- a fixture

URL = "/console/contracts/download/"


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _number(contract_id: str) -> str:
    return Contract.objects.get(pk=contract_id).number


def zh(message: str, **values: object) -> str:
    """A message as the (Chinese) console shows it, whether or not it is translated yet."""
    with translation.override("zh-hans"):
        text = translation.gettext(message)
    return text % values if values else text


def test_file_names_are_cleaned():
    assert downloads.clean_stem('理货/协议: "2026"\n第一版 ') == "理货_协议_ _2026_第一版"
    assert downloads.clean_stem("  ..Tally   agreement..  ") == "Tally agreement"
    # 100 Chinese characters are 300 bytes: cut to 150 (50 characters), never mid-character.
    assert downloads.clean_stem("长" * 100) == "长" * 50


def test_a_header_names_the_file_in_utf8_with_an_ascii_fallback():
    assert downloads.attachment("集装箱理货协议-PS-2026-000001.pdf") == (
        "attachment; filename=\"PS-2026-000001.pdf\"; filename*=UTF-8''"
        "%E9%9B%86%E8%A3%85%E7%AE%B1%E7%90%86%E8%B4%A7%E5%8D%8F%E8%AE%AE-PS-2026-000001.pdf"
    )
    assert downloads.attachment('Café "A"; x-PS-2026-000002.pdf') == (
        'attachment; filename="Cafe A x-PS-2026-000002.pdf"; '
        "filename*=UTF-8''Caf%C3%A9%20%22A%22%3B%20x-PS-2026-000002.pdf"
    )


def test_the_ticked_completed_contracts_come_in_one_zip(alice, bob, acme, globex):
    first = send_to(alice, acme.id, bob, globex, "理货/协议")
    second = send_to(alice, acme.id, bob, globex, "理货/协议")  # the same title
    for contract in (first, second):
        complete(contract["id"])
    response = web(alice, acme.id).post(URL, {"ids": [second["id"], first["id"]]})
    archive = _zip(response)
    names = [f"理货_协议-{_number(c['id'])}.pdf" for c in (second, first)]
    assert archive.namelist() == names
    for name, contract in zip(names, (second, first), strict=True):
        current = Contract.objects.get(pk=contract["id"]).current
        assert archive.read(name) == read_document(current)
    disposition = unquote(response["Content-Disposition"])
    stamp, word = timezone.localtime().strftime("%Y%m%d"), re.escape(zh("contracts"))
    assert re.fullmatch(
        rf'attachment; filename="(contracts-)?{stamp}-\d{{4}}\.zip"; '
        rf"filename\*=UTF-8''{word}-{stamp}-\d{{4}}\.zip",
        disposition,
    ), disposition
    # The other party may download it too: it sees the contract.
    theirs = _zip(web(bob, globex.id).post(URL, {"ids": [first["id"]]}))
    assert theirs.namelist() == [names[1]]


def test_a_contract_they_may_not_see_is_a_404_for_the_whole_request(
    alice, bob, charlie, acme, globex
):
    mine = send_to(alice, acme.id, bob, globex, "理货协议")
    complete(mine["id"])
    assert web(charlie).post(URL, {"ids": [mine["id"]]}).status_code == 404
    from tests.helpers import make_enterprise

    initech = make_enterprise(charlie, "Initech Shipping Co., Ltd.", 3)
    theirs = send_to(charlie, initech.id, bob, globex, "他人的合同")
    complete(theirs["id"])
    mixed = web(alice, acme.id).post(URL, {"ids": [mine["id"], theirs["id"]]})
    assert mixed.status_code == 404
    assert mixed.get("Content-Type", "").startswith("text/html")
    missing = web(alice, acme.id).post(URL, {"ids": [mine["id"], "01M83CFSW1E5A5N0S00CK1PJY9"]})
    assert missing.status_code == 404
    # Bob is a party of both, and gets both.
    both = _zip(web(bob, globex.id).post(URL, {"ids": [mine["id"], theirs["id"]]}))
    assert len(both.namelist()) == 2


def test_open_contracts_and_empty_choices_are_messages(alice, bob, acme, globex):
    signing = send_to(alice, acme.id, bob, globex, "待签合同")
    page = web(alice, acme.id)
    refused = page.post(URL, {"ids": [signing["id"]], "back": "box=sent&q=待签"}, follow=True)
    assert refused.redirect_chain == [("/console/contracts/?box=sent&q=%E5%BE%85%E7%AD%BE", 302)]
    message = "Only completed contracts are downloaded together; not yet: %(titles)s."
    assert zh(message, titles="待签合同") in refused.content.decode()
    empty = page.post(URL, {"back": "box=completed\r\nX: y"}, follow=True)
    assert empty.redirect_chain == [("/console/contracts/?box=completed%0D%0AX%3A+y", 302)]
    assert zh("Choose the completed contracts to download.") in empty.content.decode()


def test_every_completed_contract_of_a_filter(alice, bob, acme, globex, monkeypatch):
    wanted = [send_to(alice, acme.id, bob, globex, f"理货协议 {n}") for n in (1, 2)]
    other = send_to(alice, acme.id, bob, globex, "港口作业合同")
    send_to(alice, acme.id, bob, globex, "理货协议 待签")  # not completed: left out
    for contract in (*wanted, other):
        complete(contract["id"])
    page = web(alice, acme.id)
    box = page.get("/console/contracts/?box=completed&q=理货").content.decode()
    assert 'href="/console/contracts/download/?box=completed&amp;q=%E7%90%86%E8%B4%A7"' in box
    archive = _zip(page.get(URL, {"box": "completed", "q": "理货"}))
    assert archive.namelist() == [
        f"理货协议 2-{_number(wanted[1]['id'])}.pdf",
        f"理货协议 1-{_number(wanted[0]['id'])}.pdf",
    ]
    # 我发起的 holds the signing one too; only the completed ones are zipped.
    assert len(_zip(page.get(URL, {"box": "sent", "q": "理货"})).namelist()) == 2
    monkeypatch.setattr(downloads, "MAX_ZIP_CONTRACTS", 2)
    over = page.get(URL, {"box": "completed"}, follow=True)
    assert over.redirect_chain == [("/console/contracts/?box=completed", 302)]
    too_many = zh(
        "That is %(count)d contracts; one download holds at most %(max)d. Narrow the search "
        "or the filters, or choose fewer.",
        count=3,
        max=2,
    )
    assert too_many in over.content.decode()
    chosen = page.post(URL, {"ids": [c["id"] for c in (*wanted, other)]}, follow=True)
    assert too_many in chosen.content.decode()
    none = page.get(URL, {"box": "completed", "q": "没有这个"}, follow=True)
    assert zh("No completed contracts match.") in none.content.decode()


def test_signed_pdf_and_evidence_report_are_named_after_the_contract(
    deal,  # noqa: F811
    alice,
    bob,
    acme,
    globex,
):
    contract_id, _seals = _complete(deal, alice, bob, acme, globex)
    number = _number(contract_id)
    pdf = alice.api.get(f"/contracts/{contract_id}/document.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Disposition"] == (
        f"attachment; filename=\"{number}.pdf\"; filename*=UTF-8''"
        f"%E9%9B%86%E8%A3%85%E7%AE%B1%E7%90%86%E8%B4%A7%E5%8D%8F%E8%AE%AE-{number}.pdf"
    )
    report = alice.api.get(f"/contracts/{contract_id}/evidence.pdf")
    assert report.status_code == 200
    suffix = zh("evidence report")
    assert unquote(report["Content-Disposition"]) == (
        f'attachment; filename="{number}{"-evidence report" if suffix.isascii() else ""}.pdf"; '
        f"filename*=UTF-8''集装箱理货协议-{number}-{suffix}.pdf"
    )
    # The zip holds the signed PDF as downloaded.
    archive = _zip(web(bob, globex.id).post(URL, {"ids": [contract_id]}))
    assert archive.read(f"集装箱理货协议-{number}.pdf") == pdf.content
