from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Contract quotas, recharge orders, usage and invoices (SPEC D7)."""

    name = "portsign.billing"
    label = "billing"
    verbose_name = "PortSign billing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Sending takes one contract from the sender's quota and an early revoke gives it back;
        # verification grants the free allotment. The listeners run inside those transactions,
        # so a refused charge rolls the send back whole.
        from portsign.billing import hooks  # noqa: F401
