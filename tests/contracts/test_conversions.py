"""Issue 11 item 4: Word documents are converted by a worker, with progress, and then named in
place of a file by the draft, attachment or template that needs them."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import threading

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from portsign.common import conversions, jobs, word
from portsign.common.models import Conversion
from portsign.contracts.models import Contract
from tests.contracts.conftest import pdf_bytes, upload
from tests.helpers import FakeConverter, assert_isolated, error_code, word_bytes

CONVERTED = pdf_bytes(2, label="Converted")


@pytest.fixture
def converter(tmp_path, monkeypatch, settings):
    settings.CONVERSION_RUNNER = "thread"
    fake = FakeConverter(tmp_path / "soffice", CONVERTED, gated=True)
    monkeypatch.setenv("PATH", fake.path)
    yield fake
    fake.release()
    assert jobs.wait_idle(30)


def _start(person, data: bytes | None = None, name: str = "合同.docx"):
    return upload(person, "/conversions", word_bytes() if data is None else data, name)


def _state(person, conversion_id: str) -> dict:
    response = person.api.get(f"/conversions/{conversion_id}")
    assert response.status_code == 200, response.content
    return response.json()


def _form(person, path: str, **fields: str):
    """A multipart form naming a conversion instead of carrying a file."""
    return person.api.client.post(
        "/api/v1" + path,
        fields,
        headers={"Authorization": f"Bearer {person.token}", "Accept-Language": "en"},
    )


def _finished(person, converter: FakeConverter, conversion_id: str) -> dict:
    converter.release()
    assert jobs.wait_idle(30)
    return _state(person, conversion_id)


def test_the_upload_answers_at_once_and_progress_moves_to_done(verified_alice, converter):
    response = _start(verified_alice)
    assert response.status_code == 202, response.content
    started = response.json()
    assert (started["status"], started["progress"], started["name"]) == ("queued", 0, "合同.docx")
    converter.wait_started()
    converting = _state(verified_alice, started["id"])
    assert (converting["status"], converting["progress"], converting["pages"]) == (
        "converting",
        20,
        None,
    )
    assert converting["started_at"] is not None
    assert converting["finished_at"] is None
    done = _finished(verified_alice, converter, started["id"])
    assert (done["status"], done["progress"], done["pages"], done["error"]) == (
        "done",
        100,
        2,
        None,
    )
    assert done["status_label"] == "转换完成"

    draft = _form(verified_alice, "/contracts", title="港口作业合同", conversion=started["id"])
    assert draft.status_code == 201, draft.content
    body = Contract.objects.get().body
    assert (body.pages, body.sha256) == (2, hashlib.sha256(CONVERTED).hexdigest())


def test_a_draft_naming_a_conversion_still_running_is_refused_and_nothing_is_saved(
    verified_alice, converter
):
    started = _start(verified_alice).json()
    draft = _form(verified_alice, "/contracts", title="港口作业合同", conversion=started["id"])
    assert (draft.status_code, error_code(draft)) == (409, "conversion_pending")
    assert Contract.objects.count() == 0


def test_a_failed_conversion_says_why_and_its_draft_is_refused(
    verified_alice, tmp_path, monkeypatch, settings
):
    settings.CONVERSION_RUNNER = "inline"
    monkeypatch.setenv("PATH", FakeConverter(tmp_path, CONVERTED, gated=False, fails=True).path)
    started = _start(verified_alice).json()
    failed = _state(verified_alice, started["id"])
    assert (failed["status"], failed["progress"]) == ("failed", 100)
    assert failed["error"] == {
        "code": "conversion_failed",
        "message": "Word 文件转换失败。",  # in the owner's language
    }
    draft = _form(verified_alice, "/contracts", title="港口作业合同", conversion=started["id"])
    assert (draft.status_code, error_code(draft)) == (400, "conversion_failed")
    assert Contract.objects.count() == 0


def test_a_converted_document_over_the_page_limit_fails_its_conversion(
    verified_alice, tmp_path, monkeypatch, settings
):
    settings.CONVERSION_RUNNER = "inline"
    settings.CONTRACT_MAX_PAGES = 1
    monkeypatch.setenv("PATH", FakeConverter(tmp_path, CONVERTED, gated=False).path)
    state = _state(verified_alice, _start(verified_alice).json()["id"])
    assert (state["status"], state["error"]["code"]) == ("failed", "too_many_pages")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"%PDF-1.7\n", 400, "file_type"),
        (b"GIF89a", 400, "file_type"),
        (b"PK\x03\x04" + b"\0" * 100, 400, "conversion_failed"),  # not a zip after all
    ],
)
def test_what_is_not_a_word_document_is_refused_before_anything_is_stored(
    verified_alice, converter, data, status, code
):
    response = _start(verified_alice, data)
    assert (response.status_code, error_code(response)) == (status, code)
    assert Conversion.objects.count() == 0


def test_too_many_declared_pages_or_too_large_are_refused_at_upload(
    verified_alice, converter, settings
):
    settings.CONTRACT_MAX_MB = 1
    large = _start(verified_alice, word_bytes() + b"\0" * 2**20)
    assert (large.status_code, error_code(large)) == (413, "file_too_large")
    settings.CONTRACT_MAX_PAGES = 0
    pages = _start(verified_alice)
    assert (pages.status_code, error_code(pages)) == (400, "too_many_pages")
    assert Conversion.objects.count() == 0


def test_conversions_are_the_owners_own(verified_alice, verified_bob, converter):
    started = _start(verified_alice).json()
    converter.wait_started()
    assert_isolated(verified_alice, verified_bob, "GET", f"/conversions/{started['id']}")
    assert _finished(verified_alice, converter, started["id"])["status"] == "done"
    stolen = _form(verified_bob, "/contracts", title="港口作业合同", conversion=started["id"])
    assert (stolen.status_code, error_code(stolen)) == (404, "not_found")
    anonymous = verified_alice.api.client.get(f"/api/v1/conversions/{started['id']}")
    assert anonymous.status_code == 401


def test_attachments_and_templates_take_a_conversion_too(verified_alice, acme, converter):
    converter.release()
    one, two = (_start(verified_alice).json()["id"] for _ in range(2))
    assert jobs.wait_idle(30)
    draft = upload(verified_alice, "/contracts", pdf_bytes(1), title="港口作业合同").json()
    added = _form(
        verified_alice, f"/contracts/{draft['id']}/attachments", conversion=one, name="附件"
    )
    assert added.status_code == 201, added.content
    attachment = Contract.objects.get().attachments.get()
    assert (attachment.name, attachment.document.pages) == ("附件", 2)
    template = _form(
        verified_alice, "/templates", name="理货模板", acting_as=acme.id, conversion=two
    )
    assert template.status_code == 201, template.content
    assert template.json()["pages"] == 2


def test_a_dead_workers_claim_is_taken_over_and_a_live_one_is_not(verified_alice, converter):
    converter.release()
    started = Conversion.objects.create(owner=verified_alice.user, name="a.docx", source_path="x")
    live = timezone.now()
    Conversion.objects.filter(pk=started.pk).update(status="converting", started_at=live)
    conversions.run(started.id)
    assert Conversion.objects.get(pk=started.pk).status == "converting"  # still someone's

    source = default_storage.save("conversions/test/source", ContentFile(word_bytes()))
    dead = live - dt.timedelta(hours=1)
    Conversion.objects.filter(pk=started.pk).update(started_at=dead, source_path=source)
    conversions.run(started.id)
    assert Conversion.objects.get(pk=started.pk).status == "done"
    conversions.run(started.id)  # a late duplicate of the task does nothing
    assert Conversion.objects.get(pk=started.pk).status == "done"


def test_cleanup_forgets_day_old_conversions_and_their_files(verified_alice, converter):
    converter.release()
    started = _start(verified_alice).json()
    assert jobs.wait_idle(30)
    row = Conversion.objects.get()
    paths = [row.source_path, row.result_path]
    assert all(default_storage.exists(path) for path in paths)
    Conversion.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    call_command("cleanup", stdout=io.StringIO())
    assert not Conversion.objects.filter(pk=started["id"]).exists()
    assert not any(default_storage.exists(path) for path in paths)


def test_a_worker_waits_for_a_slot_where_a_request_is_refused(settings, tmp_path):
    # Slots are host-wide lock files under DATA_DIR, which the test run's workers share: a
    # conversion in another worker could hold slot 0 past the 10 s wait. This test's slots
    # are its own.
    settings.DATA_DIR = str(tmp_path)
    settings.WORD_CONVERSIONS = 1
    acquired = threading.Event()

    def worker() -> None:
        with word.conversion_slot(wait=10):
            acquired.set()

    with word.conversion_slot():
        thread = threading.Thread(target=worker)
        thread.start()
        assert not acquired.wait(0.3)  # the slot is ours: the worker queues
    thread.join(10)
    assert acquired.is_set()
