from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "portsign.webhooks"
    label = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Contract events become outbox rows in the transaction of the change.
        from portsign.contracts import events
        from portsign.eport import events as eport_events
        from portsign.webhooks.domain.deliveries import on_contract_event, on_eport_event

        events.listen(on_contract_event)
        eport_events.listen(on_eport_event)
