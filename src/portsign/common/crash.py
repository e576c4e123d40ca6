"""The crash test's hook: named steps where a worker may die, so the test can kill one there.

With PORTSIGN_TEST_HOOKS=1 and PORTSIGN_CRASH_AT=<step> (settings refuse both in production
mode), the process sends itself SIGKILL on reaching that step — no `finally`, no rollback beyond
what the database does itself, exactly as the OOM killer or a pulled plug would.
"""

from __future__ import annotations

import os
import signal

from django.conf import settings

# Every step named by a crash_point() call; settings refuse any other PORTSIGN_CRASH_AT.
STEPS = frozenset(
    {
        "sign.code_used",
        "sign.claimed",
        "sign.signed",
        "sign.stored",
        "sign.recorded",
        "complete.archived",
        "complete.completed",
    }
)


def crash_point(step: str) -> None:
    # TEST_HOOKS is checked here too: a settings override alone must not arm the hook.
    if step == settings.CRASH_AT and settings.TEST_HOOKS and not settings.PRODUCTION:
        os.kill(os.getpid(), signal.SIGKILL)
