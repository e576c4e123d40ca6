"""Contract numbers for people (issue 13 item 7): PS-<year>-<six digits>, given at creation in
every way a contract is made, the year in Beijing time, a sequence per year without gaps or
repeats; existing contracts numbered by the migration in creation order."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone, translation

from portsign.contracts.domain import numbers
from portsign.contracts.models import Contract, ContractNumberCounter
from tests.contracts.conftest import create_draft
from tests.helpers import outbox

UTC = dt.UTC


def _year() -> int:
    return timezone.localtime().year


def test_drafts_are_numbered_in_order(alice, acme):
    year = _year()
    first = create_draft(alice)
    second = create_draft(alice, acting_as=acme.id, title="港口作业合同")
    assert (first["number"], second["number"]) == (f"PS-{year}-000001", f"PS-{year}-000002")
    assert ContractNumberCounter.objects.get(year=year).last == 2
    shown = alice.api.get(f"/contracts/{second['id']}").json()
    assert shown["number"] == f"PS-{year}-000002"
    listed = alice.api.get("/contracts?box=drafts").json()["items"]
    assert [c["number"] for c in listed] == [f"PS-{year}-000001"]  # the personal drafts box


def test_the_year_is_beijing_time():
    # 16:30 UTC on 31 December is already 00:30 on 1 January in Beijing.
    late = dt.datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    early = dt.datetime(2026, 12, 31, 15, 59, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=early):
        assert numbers.next_number() == "PS-2026-000001"
    with mock.patch("django.utils.timezone.now", return_value=late):
        assert numbers.next_number() == "PS-2027-000001"
        assert numbers.next_number() == "PS-2027-000002"
    with mock.patch("django.utils.timezone.now", return_value=early):
        assert numbers.next_number() == "PS-2026-000002"


def test_a_sequence_continues_and_widens_past_six_digits():
    ContractNumberCounter.objects.create(year=2031, last=999_998)
    moment = dt.datetime(2031, 6, 1, 4, 0, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        assert [numbers.next_number() for _ in range(2)] == ["PS-2031-999999", "PS-2031-1000000"]


def test_a_creation_that_rolls_back_gives_its_number_back():
    year = _year()
    taken: list[str] = []

    def fail_after_taking_one() -> None:
        with transaction.atomic():
            taken.append(numbers.next_number())
            raise RuntimeError("the creation failed after taking a number")

    with pytest.raises(RuntimeError):
        fail_after_taking_one()
    assert taken == [f"PS-{year}-000001"]
    assert numbers.next_number() == f"PS-{year}-000001"


def test_a_number_is_never_given_twice(alice, acme):
    contract = Contract.objects.get(pk=create_draft(alice)["id"])
    twin = Contract.objects.get(pk=create_draft(alice)["id"])
    twin.number = contract.number
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save(update_fields=["number"])


def test_contracts_from_a_template_are_numbered_too(alice, acme, globex):
    from tests.contracts.template_helpers import make_template
    from tests.contracts.test_templates import PARTNER, VALUES

    year = _year()
    draft = create_draft(alice)
    template = make_template(alice, acme)
    made = alice.api.post(
        "/contracts",
        {
            "template_id": template["id"],
            "acting_as": acme.id,
            "fields": VALUES,
            "parties": [PARTNER],
        },
    )
    assert made.status_code == 201, made.content
    assert (draft["number"], made.json()["number"]) == (f"PS-{year}-000001", f"PS-{year}-000002")


def test_notices_name_the_number(alice, acme, bob):
    contract = create_draft(alice)
    party = {"kind": "person", "account": bob.account}
    assert alice.api.post(f"/contracts/{contract['id']}/parties", party).status_code == 201
    assert alice.api.post(f"/contracts/{contract['id']}/send").status_code == 200
    note = outbox(bob.account)[-1]
    assert note.data["event"] == "to_sign"
    with translation.override("zh-hans"):  # as told, whether or not translated yet
        named = translation.gettext("%(title)s (No. %(number)s)") % {
            "title": "集装箱理货协议",
            "number": f"PS-{_year()}-000001",
        }
    assert named in note.text


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="SQLite's in-memory test database cannot take concurrent writers; its IMMEDIATE "
    "transactions serialise creations anyway. CI runs this on PostgreSQL.",
)
def test_concurrent_creations_never_share_a_number():
    taken: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def create_some() -> None:
        try:
            start.wait()
            for _ in range(5):
                with transaction.atomic():
                    taken.append(numbers.next_number())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create_some) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    year = _year()
    assert sorted(taken) == [f"PS-{year}-{n:06d}" for n in range(1, 41)]


def test_the_migration_numbers_existing_contracts_in_creation_order(alice, acme):
    """Back to before numbers, four contracts made then (one at 00:30 on 1 January 2027 in
    Beijing, still 2026 in UTC), forward again."""
    document = Contract.objects.get(pk=create_draft(alice)["id"]).body
    Contract.objects.all().delete()
    ContractNumberCounter.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate([("contracts", "0007_involvement")])
    old = (
        MigrationExecutor(connection).loader.project_state([("contracts", "0007_involvement")]).apps
    )
    OldContract = old.get_model("contracts", "Contract")
    made = {
        "b": dt.datetime(2026, 12, 31, 16, 30, tzinfo=UTC),  # 2027 in Beijing
        "c": dt.datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        "a": dt.datetime(2026, 3, 1, 1, 0, tzinfo=UTC),
        "d": dt.datetime(2027, 2, 1, 1, 0, tzinfo=UTC),
    }
    for title, moment in made.items():
        row = OldContract.objects.create(
            title=title, sender_id=alice.user.id, body_id=document.id, current_id=document.id
        )
        OldContract.objects.filter(pk=row.pk).update(created_at=moment)
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    numbered = dict(Contract.objects.values_list("title", "number"))
    assert numbered == {
        "a": "PS-2026-000001",
        "c": "PS-2026-000002",
        "b": "PS-2027-000001",
        "d": "PS-2027-000002",
    }
    assert dict(ContractNumberCounter.objects.values_list("year", "last")) == {2026: 2, 2027: 2}
    with mock.patch("django.utils.timezone.now", return_value=made["d"]):
        assert numbers.next_number() == "PS-2027-000003"
