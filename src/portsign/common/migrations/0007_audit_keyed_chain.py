"""Re-link the audit chain with HMAC-SHA256 under the audit key (issue 11 item 5).

Before this, each link was a plain SHA-256 that anyone able to write the table could
recompute after an edit. The walk checks every old link first and refuses to re-link a chain
that is already broken, so the upgrade cannot launder a tampered log.
"""

import hashlib

from django.db import migrations


def relink(apps, schema_editor):
    from portsign.common.audit import GENESIS, _canonical, compute_hash

    event_model = apps.get_model("common", "AuditEvent")
    head_model = apps.get_model("common", "AuditHead")
    old_prev, new_prev, last_seq = GENESIS, GENESIS, 0
    for event in event_model.objects.order_by("seq").iterator(chunk_size=2000):
        if event.prev_hash != old_prev or hashlib.sha256(_canonical(event)).hexdigest() != (
            event.hash
        ):
            raise RuntimeError(
                f"audit row {event.seq} does not fit the chain: run `audit verify` on the "
                "previous release and resolve it before upgrading"
            )
        old_prev = event.hash
        event.prev_hash = new_prev
        event.hash = compute_hash(event)
        event.save(update_fields=["prev_hash", "hash"])
        new_prev, last_seq = event.hash, event.seq
    head_model.objects.filter(pk=1).update(last_seq=last_seq, last_hash=new_prev)


class Migration(migrations.Migration):
    dependencies = [("common", "0006_idempotency_lease_rate_counters")]

    operations = [migrations.RunPython(relink, migrations.RunPython.noop)]
