"""Issue 11 item 3: a crash during completion (the B-LTA step) stranded fully signed contracts
in `signing`, and at the deadline they expired. Completion is idempotent and resumed by cleanup;
a contract every party signed is never expired."""

from __future__ import annotations

import datetime as dt
import io

from django.core.management import call_command
from django.utils import timezone

from portsign.contracts.models import Contract
from portsign.pki import pades
from tests.contracts import test_signing
from tests.contracts.test_signing import _marks, _sign

deal = test_signing.deal  # the fixture: both parties hold certificates and seals


def _cleanup() -> dict[str, int]:
    out = io.StringIO()
    call_command("cleanup", stdout=out)
    pairs = out.getvalue().strip().removeprefix("cleanup: ").split(", ")
    return {name: int(count) for name, count in (pair.split("=") for pair in pairs)}


def test_a_completion_cut_short_is_resumed_and_never_expires(
    deal, alice, bob, acme, globex, monkeypatch
):
    contract_id, seals = deal
    assert _sign(bob, contract_id, globex.id, _marks(seals["globex"])).status_code == 200
    real_archive = pades.archive

    def crash(pdf: bytes) -> bytes:  # the TSA or the worker dies during B-LTA
        raise RuntimeError("worker lost")

    monkeypatch.setattr(pades, "archive", crash)
    last = _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    assert last.status_code == 200  # the signature is recorded and answered
    assert last.json()["status"] == "signing"
    assert [p["status"] for p in last.json()["parties"]] == ["signed", "signed"]
    # The deadline passes before cleanup runs: the contract must not expire.
    Contract.objects.filter(pk=contract_id).update(deadline=timezone.now() - dt.timedelta(days=1))
    assert _cleanup()["completions_resumed"] == 0  # the TSA is still down
    assert Contract.objects.get(pk=contract_id).status == "signing"
    monkeypatch.setattr(pades, "archive", real_archive)
    counts = _cleanup()
    assert (counts["completions_resumed"], counts["contracts_expired"]) == (1, 0)
    body = alice.api.get(f"/contracts/{contract_id}").json()
    assert body["status"] == "completed"
    assert [v["kind"] for v in body["versions"]] == ["prepared", "signed", "signed", "archived"]
    assert _cleanup()["completions_resumed"] == 0  # idempotent: nothing twice


def test_a_contract_held_by_a_signing_act_is_left_to_it(
    deal, alice, bob, acme, globex, monkeypatch
):
    contract_id, seals = deal
    monkeypatch.setattr(pades, "archive", lambda pdf: (_ for _ in ()).throw(RuntimeError("x")))
    _sign(bob, contract_id, globex.id, _marks(seals["globex"]))
    _sign(alice, contract_id, acme.id, _marks(seals["acme"]))
    monkeypatch.undo()
    # A worker killed mid-act leaves its hold behind until it lapses.
    later = timezone.now() + dt.timedelta(seconds=30)
    Contract.objects.filter(pk=contract_id).update(busy_until=later)
    assert _cleanup()["completions_resumed"] == 0
    Contract.objects.filter(pk=contract_id).update(busy_until=timezone.now())
    assert _cleanup()["completions_resumed"] == 1
