"""The WSGI entry point and the Celery worker move their start-up objects out of the
collector's reach (gc.freeze, issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from celery import signals

from portsign.celery import _freeze_startup_objects

ROOT = Path(__file__).resolve().parents[2]


def test_loading_the_wsgi_application_freezes_what_it_loaded(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTSIGN_")}
    env.update(PORTSIGN_DATA_DIR=str(tmp_path), PYTHONPATH=str(ROOT / "src"))
    code = "import gc, portsign.wsgi; print(gc.get_freeze_count())"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert int(done.stdout.split()[-1]) > 10_000  # Django and pyHanko, not a handful


def test_a_celery_worker_process_freezes_on_start():
    receivers = [ref() for _key, ref in signals.worker_process_init.receivers]
    assert _freeze_startup_objects in receivers
