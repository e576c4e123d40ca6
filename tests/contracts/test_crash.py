"""Issue 11, "keep the campaign in CI": a worker SIGKILLed at each step of the last party's
signing and of completion (common/crash.py) never strands a contract. Each one ends completed
with exactly one signature per party, a document timestamp and a PDF our verifier passes —
finished by `cleanup` where every party had signed, or by the party signing again where its
signature had not been recorded.

The processes share a real SQLite database in a data directory of their own (the test
database of pytest-django lives in this process only); tests/contracts/crash_worker.py is
what runs in them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from portsign.common import crash

ROOT = Path(__file__).resolve().parents[2]

# Step → how the contract is found after the crash: (contract status, parties, whether the
# dead worker's claim on it was left behind).
STEPS = {
    "sign.code_used": ("signing", ["signed", "pending"], False),
    "sign.claimed": ("signing", ["signed", "pending"], True),
    "sign.signed": ("signing", ["signed", "pending"], True),
    "sign.stored": ("signing", ["signed", "pending"], True),
    "sign.recorded": ("signing", ["signed", "signed"], True),
    "complete.archived": ("signing", ["signed", "signed"], True),
    "complete.completed": ("completed", ["signed", "signed"], True),
}


def _clean_environment(data_dir: Path) -> dict[str, str]:
    """This environment without any PORTSIGN_* setting (a PostgreSQL URL, Redis, a mode), so
    the processes use the embedded SQLite file of *data_dir* and nothing else."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("PORTSIGN_")}
    return {**kept, "PORTSIGN_DATA_DIR": str(data_dir), "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"}


def _run(
    data_dir: Path, command: str, args: dict, crash_at: str = ""
) -> subprocess.CompletedProcess:
    env = {
        **_clean_environment(data_dir),
        "PORTSIGN_TEST_HOOKS": "1",
        "PORTSIGN_CRASH_AT": crash_at,
        # One person signs eleven times within the minute, from one address.
        "PORTSIGN_CODE_RESEND_SECONDS": "0",
        "PORTSIGN_CODE_IP_HOURLY_LIMIT": "1000",
        # Acme sends more contracts than the free allotment (5 corporate).
        "PORTSIGN_FREE_CORPORATE_CONTRACTS": "100",
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.contracts.crash_worker", command, json.dumps(args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _json(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_worker_killed_at_each_step_leaves_a_contract_that_completes(tmp_path):
    # One test, not one per step: the processes and their database are set up once (≈30 s).
    manage = [sys.executable, str(ROOT / "manage.py")]
    env = _clean_environment(tmp_path)
    for step in (["migrate", "--noinput", "-v", "0"], ["pki", "init"]):
        subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True, capture_output=True)
    assert set(STEPS) == crash.STEPS  # every step the code names is crashed at
    deal = _json(_run(tmp_path, "setup", {"contracts": len(STEPS)}))
    by_step = dict(zip(STEPS, deal["contracts"], strict=True))
    for step, contract in by_step.items():
        killed = _run(tmp_path, "sign", {**deal, "contract": contract}, crash_at=step)
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr[-2000:])
    recovered = _json(_run(tmp_path, "recover", deal))

    found = {step: recovered["found"][contract] for step, contract in by_step.items()}
    assert found == {
        step: {"status": status, "parties": parties, "held": held}
        for step, (status, parties, held) in STEPS.items()
    }
    # Cleanup finished the two whose parties had all signed; the party whose signature was
    # not recorded signed again, with a new code, and nothing was recorded twice.
    assert recovered["resumed"] == 2
    signed_again = {step: recovered["signed_again"].get(c) for step, c in by_step.items()}
    assert signed_again == {
        "sign.code_used": 200,
        "sign.claimed": 200,
        "sign.signed": 200,
        "sign.stored": 200,
        "sign.recorded": None,
        "complete.archived": None,
        "complete.completed": None,
    }
    completed = {
        "status": "completed",
        "parties": ["signed", "signed"],
        "versions": ["prepared", "signed", "signed", "archived"],
        "intact": True,
        "valid": True,
        "signatures": ["approval", "approval", "timestamp"],
    }
    assert {step: recovered["final"][c] for step, c in by_step.items()} == dict.fromkeys(
        STEPS, completed
    )
    assert recovered["resumed_after"] == 0  # idempotent: nothing is completed twice
