# Contract numbers for people (PS-<year>-<sequence>, issue 13 item 7): the per-year counter,
# then the column, filled for existing contracts in creation order, then made unique.

import zoneinfo

from django.conf import settings
from django.db import migrations, models
from django.db.models import Q

BATCH = 2_000


def number_existing(apps, schema_editor) -> None:
    """Each existing contract, oldest first, gets the next number of the year it was created in
    (Beijing time), as domain/numbers.py gives them; the counters end at the last one given."""
    Contract = apps.get_model("contracts", "Contract")
    Counter = apps.get_model("contracts", "ContractNumberCounter")
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    last: dict[int, int] = {}
    rows = Contract.objects.order_by("created_at", "pk").only("pk", "created_at")
    after = None
    while True:
        page = (
            rows
            if after is None
            else rows.filter(
                Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, pk__gt=after.pk)
            )
        )
        batch = list(page[:BATCH])
        if not batch:
            break
        for contract in batch:
            year = contract.created_at.astimezone(zone).year
            last[year] = last.get(year, 0) + 1
            contract.number = f"PS-{year:04d}-{last[year]:06d}"
        Contract.objects.bulk_update(batch, ["number"])
        after = batch[-1]
    Counter.objects.bulk_create(Counter(year=year, last=n) for year, n in last.items())


class Migration(migrations.Migration):
    dependencies = [("contracts", "0007_involvement")]

    operations = [
        migrations.CreateModel(
            name="ContractNumberCounter",
            fields=[
                ("year", models.PositiveIntegerField(primary_key=True, serialize=False)),
                ("last", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.AddField(
            model_name="contract",
            name="number",
            field=models.CharField(editable=False, max_length=20, null=True),
        ),
        migrations.RunPython(number_existing, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="contract",
            name="number",
            field=models.CharField(editable=False, max_length=20, unique=True),
        ),
    ]
