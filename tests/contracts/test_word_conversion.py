"""Issue 11 item 4: Word conversion is bounded (slots, process group, size and page caps)."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from portsign.common import word
from portsign.common.errors import Busy, Invalid
from tests.contracts.conftest import pdf_bytes, upload
from tests.helpers import error_code


def _docx(pages: int | None = 1, *, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        if pages is not None:
            archive.writestr(
                "docProps/app.xml",
                f"<Properties><Pages>{pages}</Pages></Properties>".encode(),
            )
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _fake(tmp_path, monkeypatch, main: str) -> Path:
    """A LibreOffice on PATH that notes it ran, starts a helper process in its group (as the
    campaign saw soffice.bin do), then runs *main*. Every process of it carries the script's
    path on its command line, so the test can look for survivors without knowing their pids."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "soffice"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = helper ]; then while :; do sleep 1; done; fi\n'
        f'echo ran > "{tmp_path}/ran"\n'
        '"$0" helper &\n'
        f'echo $! > "{tmp_path}/helper.pid"\n' + main
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


@pytest.fixture
def fake_soffice(tmp_path, monkeypatch):
    """A LibreOffice that never finishes."""
    return _fake(tmp_path, monkeypatch, "while :; do sleep 1; done\n")


def _survivors(folder: Path) -> list[int]:
    """Live processes (not zombies waiting to be reaped) started from *folder*'s scripts."""
    alive = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes()
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if str(folder).encode() in command and state not in ("Z", "X"):
            alive.append(int(proc.name))
    return alive


def _wait_until_none_survive(folder: Path) -> list[int]:
    """The killed processes' last moments (init reaps them) are not survivors."""
    deadline = time.monotonic() + 5
    while (left := _survivors(folder)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def test_an_overrunning_conversion_is_killed_with_its_whole_group(fake_soffice, settings):
    settings.WORD_CONVERSION_SECONDS = 1
    with pytest.raises(Invalid) as failure:
        word.convert(_docx(), max_pages=300)
    assert failure.value.code == "conversion_failed"
    # Whether or not the busy machine let it start its helper within the second: nothing
    # of it survives (the helper is the campaign's orphan).
    assert _wait_until_none_survive(fake_soffice) == [], "LibreOffice's group survived"


def test_helpers_left_behind_by_a_clean_exit_are_killed_too(tmp_path, monkeypatch):
    """Deterministic (no timer involved): the helper surely exists when the converter exits."""
    pdf = tmp_path / "converted.pdf"
    pdf.write_bytes(pdf_bytes(1))
    folder = _fake(
        tmp_path,
        monkeypatch,
        f'while [ "$1" != "--outdir" ]; do shift; done\ncp "{pdf}" "$2/contract.pdf"\n',
    )
    assert word.convert(_docx(), max_pages=300) == pdf.read_bytes()
    assert (folder / "helper.pid").exists()
    assert _wait_until_none_survive(folder) == [], "a helper outlived a clean conversion"


def test_no_free_slot_answers_503_at_once(verified_alice, settings, fake_soffice, tmp_path):
    settings.DATA_DIR = str(tmp_path / "slots")  # the run's workers share the host's slots
    settings.WORD_CONVERSIONS = 1
    with word.conversion_slot():
        started = time.monotonic()
        response = upload(verified_alice, "/contracts", _docx(), "c.docx", title="港口作业合同")
        waited = time.monotonic() - started
    assert (response.status_code, error_code(response)) == (503, "conversion_busy")
    assert response["Retry-After"] == "30"
    assert not (fake_soffice / "ran").exists()
    assert waited < settings.WORD_CONVERSION_SECONDS  # refused, not queued behind the slot


def test_slots_are_freed_after_use(settings, tmp_path):
    settings.DATA_DIR = str(tmp_path)  # the run's workers share the host's slots
    settings.WORD_CONVERSIONS = 1
    with word.conversion_slot(), pytest.raises(Busy), word.conversion_slot():
        pass
    with word.conversion_slot():
        pass  # free again


def test_too_many_declared_pages_are_refused_before_converting(verified_alice, fake_soffice):
    response = upload(verified_alice, "/contracts", _docx(pages=301), "c.docx", title="x")
    assert (response.status_code, error_code(response)) == (400, "too_many_pages")
    assert not (fake_soffice / "ran").exists()


def test_a_zip_bomb_is_refused_before_converting(fake_soffice):
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/media/bomb.bin", "w") as handle,
    ):
        for _ in range(word.MAX_UNPACKED_BYTES // 2**20 + 1):
            handle.write(b"\0" * 2**20)
    bomb = buffer.getvalue()
    assert len(bomb) < 2 * 2**20  # small on the wire
    with pytest.raises(Invalid) as refused:
        word.convert(bomb, max_pages=300)
    assert refused.value.code == "file_corrupt"
    assert not (fake_soffice / "ran").exists()


def test_a_docx_without_page_count_still_reaches_the_converter(fake_soffice, settings):
    settings.WORD_CONVERSION_SECONDS = 1
    with pytest.raises(Invalid):
        word.convert(_docx(pages=None), max_pages=300)
    assert (fake_soffice / "ran").exists()
