"""The crash test's hook: named steps where a worker may die, so the test can kill one there.

With PORTSIGN_TEST_HOOKS=1 and PORTSIGN_CRASH_AT=<step> (never in production mode), the process
sends itself SIGKILL on reaching that step — no cleanup, no `finally`, no rollback beyond what
the database does itself, exactly as the kernel's OOM killer or a pulled plug would.
"""

from __future__ import annotations

import os
import signal

from django.conf import settings


def crash_point(step: str) -> None:
    if settings.CRASH_AT and settings.CRASH_AT == step:
        os.kill(os.getpid(), signal.SIGKILL)
