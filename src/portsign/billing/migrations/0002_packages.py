"""The packages on sale from the first install (套餐); operators change them in the database."""

from django.db import migrations

PACKAGES = [
    # id, name, kind, contracts, price in fen
    ("corporate-10", "对公合同 10 份", "corporate", 10, 5000),
    ("corporate-50", "对公合同 50 份", "corporate", 50, 22000),
    ("corporate-200", "对公合同 200 份", "corporate", 200, 80000),
    ("personal-20", "对私合同 20 份", "personal", 20, 4000),
    ("personal-100", "对私合同 100 份", "personal", 100, 18000),
]


def add_packages(apps, schema_editor):
    Package = apps.get_model("billing", "Package")
    for position, (pk, name, kind, contracts, price) in enumerate(PACKAGES):
        Package.objects.update_or_create(
            pk=pk,
            defaults={
                "name": name,
                "kind": kind,
                "contracts": contracts,
                "price_fen": price,
                "position": position,
            },
        )


def remove_packages(apps, schema_editor):
    apps.get_model("billing", "Package").objects.filter(pk__in=[p[0] for p in PACKAGES]).delete()


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(add_packages, remove_packages)]
