"""The Chinese catalogue is complete: Chinese is the default language, not a translation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import portsign

PO = Path(portsign.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_catalog_has_no_untranslated_or_fuzzy_entries():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr
    assert "fuzzy" not in result.stderr
    assert result.stderr.strip().endswith("translated messages.")
