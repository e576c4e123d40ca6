"""The console's archive cabinet (/console/archive/): the acting enterprise's items, the
upload form, search, detail with download, edit, delete and the ledger."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import load_workbook

from portsign.archive.models import ArchivedContract
from portsign.enterprises.views import ACTING_SESSION_KEY
from tests.archive.conftest import filed
from tests.contracts.conftest import pdf_bytes
from tests.helpers import make_person
from tests.seals.conftest import add_member


def _client(person, acting: str) -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    session = client.session
    session[ACTING_SESSION_KEY] = acting
    session.save()
    return client


def _form(**fields) -> dict:
    return {
        "title": "码头作业合同",
        "type": "服务合同",
        "counterparties": "连云港港口物流有限公司\n青岛船务",
        "amount": "88000",
        "currency": "CNY",
        "signed_on": "2026-05-06",
        "valid_from": "",
        "valid_until": "2027-05-05",
        "external_number": "OUT-9",
        "notes": "",
        **fields,
    }


def test_the_page_renders_uploads_searches_edits_and_deletes(alice, acme):
    web = _client(alice, acme.id)
    page = web.get("/console/archive/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="archive-upload"' in html
    assert acme.name in html

    content = pdf_bytes(label="console")
    made = web.post(
        "/console/archive/upload/", {**_form(), "file": SimpleUploadedFile("scan.pdf", content)}
    )
    assert made.status_code == 302
    item = ArchivedContract.objects.get()
    assert made["Location"] == f"/console/archive/{item.id}/"
    assert item.counterparties == ["连云港港口物流有限公司", "青岛船务"]
    assert (str(item.amount), item.external_number, item.valid_from) == ("88000.00", "OUT-9", None)

    listed = web.get("/console/archive/?q=青岛").content.decode()
    assert f'data-item="{item.id}"' in listed
    assert f'data-item="{item.id}"' not in web.get("/console/archive/?q=nothing").content.decode()

    detail = web.get(f"/console/archive/{item.id}/")
    assert detail.status_code == 200
    assert item.document.sha256 in detail.content.decode()
    assert web.get(f"/console/archive/{item.id}/document.pdf").content == content

    saved = web.post(f"/console/archive/{item.id}/update/", _form(title="码头作业合同（续）"))
    assert saved.status_code == 302
    item.refresh_from_db()
    assert item.title == "码头作业合同（续）"

    ledger = web.get("/console/archive/ledger.xlsx?q=码头")
    rows = list(load_workbook(io.BytesIO(ledger.content)).active.iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["码头作业合同（续）"]

    assert web.post(f"/console/archive/{item.id}/delete/").status_code == 302
    assert web.get(f"/console/archive/{item.id}/").status_code == 404


def test_a_bad_upload_says_why_and_files_nothing(alice, acme):
    web = _client(alice, acme.id)
    answer = web.post(
        "/console/archive/upload/",
        {**_form(signed_on="2026-02-31"), "file": SimpleUploadedFile("scan.pdf", pdf_bytes())},
        follow=True,
    )
    assert answer.status_code == 200
    assert not ArchivedContract.objects.exists()
    html = answer.content.decode()
    assert '<ul class="flash"><li class="error">' in html
    assert "2027-12-31" in html


def test_personal_identity_and_other_tenants(alice, bob, acme, globex):
    assert (
        'data-testid="no-enterprise"'
        in _client(alice, "personal").get("/console/archive/").content.decode()
    )
    item = filed(alice, acme.id)
    intruder = _client(bob, globex.id)
    assert f'data-item="{item["id"]}"' not in intruder.get("/console/archive/").content.decode()
    assert intruder.get(f"/console/archive/{item['id']}/").status_code == 404
    assert intruder.get(f"/console/archive/{item['id']}/document.pdf").status_code == 404
    assert intruder.post(f"/console/archive/{item['id']}/update/", _form()).status_code == 404
    assert intruder.post(f"/console/archive/{item['id']}/delete/").status_code == 404
    assert ArchivedContract.objects.get().deleted_at is None
    # bob pretending to act for acme (a session value he could forge) is a 404 too.
    assert _client(bob, acme.id).get("/console/archive/").status_code == 404


def test_sign_in_first_and_readers_see_no_upload_form(alice, acme):
    assert Client().get("/console/archive/").status_code == 302
    reader = make_person("+8613800000021", "Rita Reader")
    add_member(acme, reader, "member")  # view_contracts only
    item = filed(alice, acme.id)
    web = _client(reader, acme.id)
    html = web.get("/console/archive/").content.decode()
    assert f'data-item="{item["id"]}"' in html
    assert 'data-testid="archive-upload"' not in html
    assert (
        'data-testid="archive-edit"'
        not in web.get(f"/console/archive/{item['id']}/").content.decode()
    )
    refused = web.post(f"/console/archive/{item['id']}/delete/", follow=True)
    assert refused.status_code == 200
    assert ArchivedContract.objects.get().deleted_at is None
    assert web.post("/console/archive/upload/", _form()).status_code == 403
