# Involvement: who has a contract in their boxes (see the model), filled for existing contracts.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

BATCH = 5_000
FILTERED = ("contract_type", "sent_at", "completed_at", "valid_until")


def _rows(contract: dict, parties: list[dict]) -> list[dict]:
    # As domain/involvement, on historical rows (a migration must not import domain code,
    # which follows the current models).
    sender = (
        f"e:{contract['sender_enterprise_id']}"
        if contract["sender_enterprise_id"]
        else f"u:{contract['sender_id']}"
    )
    identities = {sender}
    for party in parties:
        if party["kind"] == "person" and party["user_id"]:
            identities.add(f"u:{party['user_id']}")
        elif party["kind"] == "enterprise" and party["enterprise_id"]:
            identities.add(f"e:{party['enterprise_id']}")
    return [
        {
            "identity": identity,
            "contract_id": contract["pk"],
            "sender_id": contract["sender_id"] if identity == sender else None,
            "status": contract["status"],
            "created_at": contract["created_at"],
            "contract_type_id": contract["contract_type_id"],
            "sent_at": contract["sent_at"],
            "completed_at": contract["completed_at"],
            "valid_until": contract["valid_until"],
        }
        for identity in sorted(identities)
    ]


def backfill(apps, schema_editor) -> None:
    """One pass over the contracts in id order, a batch at a time (memory stays flat)."""
    Contract = apps.get_model("contracts", "Contract")
    Party = apps.get_model("contracts", "Party")
    Involvement = apps.get_model("contracts", "Involvement")
    contracts = Contract.objects.order_by("pk").values(
        "pk",
        "sender_id",
        "sender_enterprise_id",
        "status",
        "created_at",
        "contract_type_id",
        "sent_at",
        "completed_at",
        "valid_until",
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
            Involvement(**row) for c in batch for row in _rows(c, parties.get(c["pk"], []))
        )
        after = batch[-1]["pk"]


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0006_party_fills"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
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
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("valid_until", models.DateField(blank=True, null=True)),
                (
                    "contract",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="involvements",
                        to="contracts.contract",
                    ),
                ),
                (
                    "contract_type",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contracts.contracttype",
                    ),
                ),
                (
                    "sender",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        # Rows first, then the unique constraint and the box indexes: building them once over
        # a full table is much faster than keeping them up to date row by row.
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
                fields=["identity", "status", "-created_at", "-contract"],
                include=FILTERED,
                name="involvement_box",
            ),
        ),
        migrations.AddIndex(
            model_name="involvement",
            index=models.Index(
                condition=models.Q(("sender__isnull", False)),
                fields=["sender", "identity", "-created_at", "-contract"],
                include=("status", *FILTERED),
                name="involvement_sent",
            ),
        ),
    ]
