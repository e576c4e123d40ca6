# Involvement: who has a contract in their boxes (see the model), filled for existing contracts.

import django.db.models.deletion
from django.db import migrations, models

BATCH = 5_000


def _identities(contract, parties) -> set[str]:
    # As domain/involvement.identities, on historical rows (the migration must not import
    # domain code, which follows the current models).
    if contract["sender_enterprise_id"]:
        found = {f"e:{contract['sender_enterprise_id']}"}
    else:
        found = {f"u:{contract['sender_id']}"}
    for party in parties:
        if party["kind"] == "person" and party["user_id"]:
            found.add(f"u:{party['user_id']}")
        elif party["kind"] == "enterprise" and party["enterprise_id"]:
            found.add(f"e:{party['enterprise_id']}")
    return found


def backfill(apps, schema_editor) -> None:
    """One pass over the contracts in id order, a batch at a time (memory stays flat)."""
    Contract = apps.get_model("contracts", "Contract")
    Party = apps.get_model("contracts", "Party")
    Involvement = apps.get_model("contracts", "Involvement")
    contracts = Contract.objects.order_by("pk").values(
        "pk", "sender_id", "sender_enterprise_id", "status", "created_at"
    )
    after = ""
    while True:
        batch = list(contracts.filter(pk__gt=after)[:BATCH])
        if not batch:
            return
        parties: dict[str, list[dict]] = {}
        for party in Party.objects.filter(contract_id__in=[c["pk"] for c in batch]).values(
            "contract_id", "kind", "user_id", "enterprise_id"
        ):
            parties.setdefault(party["contract_id"], []).append(party)
        Involvement.objects.bulk_create(
            Involvement(
                identity=identity,
                contract_id=c["pk"],
                status=c["status"],
                created_at=c["created_at"],
            )
            for c in batch
            for identity in sorted(_identities(c, parties.get(c["pk"], [])))
        )
        after = batch[-1]["pk"]


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0005_party_unlinked_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="Involvement",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("identity", models.CharField(max_length=28)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("draft", "Draft"),
                            ("signing", "Signing"),
                            ("completed", "Completed"),
                            ("expired", "Expired unsigned"),
                            ("revoked", "Revoked"),
                            ("rejected", "Rejected"),
                            ("voided", "Voided"),
                        ],
                        max_length=10,
                    ),
                ),
                ("created_at", models.DateTimeField()),
                (
                    "contract",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="involvements",
                        to="contracts.contract",
                    ),
                ),
            ],
        ),
        # Rows first, then the unique constraint and the box index: building them once over a
        # full table is much faster than keeping them up to date row by row.
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="involvement",
            constraint=models.UniqueConstraint(
                fields=("identity", "contract"), name="involvement_once"
            ),
        ),
        migrations.AddIndex(
            model_name="involvement",
            index=models.Index(
                fields=["identity", "status", "-created_at", "-contract"], name="involvement_box"
            ),
        ),
    ]
