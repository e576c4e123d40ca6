"""Template console pages: the list and upload, the designer, a contract from a template through
the form, bulk send and its progress page, and the suggested marks on the signing page."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portsign.contracts.models import BulkSend, Contract, Template
from tests.contracts.conftest import pdf_bytes
from tests.contracts.template_helpers import make_template, sheet
from tests.contracts.test_bulk import ROWS
from tests.contracts.test_views import _web


@pytest.fixture(autouse=True)
def _inline(settings):
    settings.BULK_SEND_RUNNER = "inline"


def test_list_upload_and_designer(alice, acme):
    web = _web(alice, acme.id)
    empty = web.get("/console/contracts/templates/").content.decode()
    assert 'data-testid="template-create"' in empty
    created = web.post(
        "/console/contracts/templates/",
        {"name": "港口作业合同", "file": SimpleUploadedFile("t.pdf", pdf_bytes(2))},
    )
    template = Template.objects.get()
    assert (created.status_code, created["Location"]) == (
        302,
        f"/console/contracts/templates/{template.id}/",
    )
    assert (template.name, template.enterprise_id, template.document.pages) == (
        "港口作业合同",
        acme.id,
        2,
    )
    listed = web.get("/console/contracts/templates/").content.decode()
    assert 'data-template="港口作业合同"' in listed
    page = web.get(f"/console/contracts/templates/{template.id}/").content.decode()
    assert f"/api/v1/templates/{template.id}/pages/2.png" in page
    assert 'data-testid="tpl-tool-checkbox"' in page
    assert "portsign/template-designer.js" in page
    start = page.index('id="template-data"')
    data = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert (data["id"], data["name"], data["roles"], data["fields"]) == (
        template.id,
        "港口作业合同",
        [],
        [],
    )


def test_personal_identity_and_strangers(alice, bob, acme):
    template_id = make_template(alice, acme)["id"]
    personal = _web(alice).get("/console/contracts/templates/").content.decode()
    assert 'data-testid="templates-problem"' in personal
    stranger = _web(bob)
    for path in ("", "use/", "bulk/"):
        assert stranger.get(f"/console/contracts/templates/{template_id}/{path}").status_code == 404
    assert stranger.post(f"/console/contracts/templates/{template_id}/delete/").status_code == 404


def test_a_contract_through_the_form(alice, acme, globex):
    template_id = make_template(alice, acme)["id"]
    web = _web(alice, acme.id)
    form = web.get(f"/console/contracts/templates/{template_id}/use/").content.decode()
    assert 'data-testid="use-field-vessel"' in form
    role = Template.objects.get().roles.get(name="乙方")
    fields = {
        "title": "理货协议 V.7",
        "field-vessel": "演示轮 V.7",
        "field-teu": "",
        "field-start": "2026-08-01",
        f"party-{role.id}-kind": "enterprise",
        f"party-{role.id}-enterprise": globex.name,
        f"party-{role.id}-account": "13800000002",
        "action": "send",
    }
    missing = web.post(f"/console/contracts/templates/{template_id}/use/", fields)
    assert missing.status_code == 200
    page = missing.content.decode()
    assert 'value="演示轮 V.7"' in page  # what was typed is kept
    assert "field-error" in page
    assert Contract.objects.count() == 0
    sent = web.post(
        f"/console/contracts/templates/{template_id}/use/",
        {**fields, "field-teu": "40", "field-hazardous": "on"},
    )
    contract = Contract.objects.get()
    assert sent["Location"] == f"/console/contracts/{contract.id}/"
    assert (contract.title, contract.status) == ("理货协议 V.7", "signing")
    assert [p.enterprise_id for p in contract.parties.all()] == [globex.id, acme.id]


def test_the_signing_page_loads_the_suggested_marks(alice, bob, acme, globex):
    template_id = make_template(alice, acme)["id"]
    contract_id = alice.api.post(
        "/contracts",
        {
            "template_id": template_id,
            "fields": {"vessel": "演示轮", "teu": 1},
            "parties": [{"role": "乙方", "account": "13800000002", "enterprise_name": globex.name}],
            "send": True,
        },
    ).json()["id"]
    page = _web(bob, globex.id).get(f"/console/contracts/{contract_id}/").content.decode()
    party = Contract.objects.get().parties.get(position=1)
    assert f'portsign/template-hints.js" defer data-party="{party.id}"' in page


def test_bulk_send_page_and_progress_page(alice, acme, globex):
    template_id = make_template(alice, acme)["id"]
    web = _web(alice, acme.id)
    form = web.get(f"/console/contracts/templates/{template_id}/bulk/").content.decode()
    assert "<code>乙方.account</code>" in form
    posted = web.post(
        f"/console/contracts/templates/{template_id}/bulk/",
        {"file": SimpleUploadedFile("rows.csv", sheet(ROWS))},
    )
    job = BulkSend.objects.get()
    assert posted["Location"] == f"/console/contracts/bulk-sends/{job.id}/"
    page = web.get(posted["Location"]).content.decode()
    assert 'data-finished="true"' in page
    assert 'value="3" data-testid="bulk-progress"' in page
    assert page.count("row-sent") == 2
    assert page.count("row-failed") == 1
    again = web.post(
        f"/console/contracts/templates/{template_id}/bulk/",
        {"file": SimpleUploadedFile("rows.csv", sheet(ROWS))},
    )
    assert again["Location"] == posted["Location"]
    bad = web.post(
        f"/console/contracts/templates/{template_id}/bulk/",
        {"file": SimpleUploadedFile("rows.csv", b"nothing,useful\n1,2\n")},
    )
    assert bad.status_code == 200
    assert BulkSend.objects.count() == 1
    listed = web.get(f"/console/contracts/templates/{template_id}/bulk/").content.decode()
    assert f"/console/contracts/bulk-sends/{job.id}/" in listed


def test_an_unfinished_job_page_polls(alice, acme, globex, monkeypatch):
    from portsign.contracts.domain import bulk

    monkeypatch.setattr(bulk, "queue", lambda job_id: None)
    template_id = make_template(alice, acme)["id"]
    web = _web(alice, acme.id)
    posted = web.post(
        f"/console/contracts/templates/{template_id}/bulk/",
        {"file": SimpleUploadedFile("rows.csv", sheet(ROWS))},
    )
    page = web.get(posted["Location"]).content.decode()
    assert 'data-finished="false"' in page
    assert "portsign/bulk-progress.js" in page
    assert 'max="3" value="0"' in page


def test_delete_from_the_designer(alice, acme):
    template_id = make_template(alice, acme)["id"]
    web = _web(alice, acme.id)
    response = web.post(f"/console/contracts/templates/{template_id}/delete/")
    assert response["Location"] == "/console/contracts/templates/"
    assert Template.objects.get().archived_at is not None
    assert web.get(f"/console/contracts/templates/{template_id}/").status_code == 404
