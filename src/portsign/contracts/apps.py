from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "portsign.contracts"
    label = "contracts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Seals placed on unfinished contracts cannot be deleted.
        # A departing member's contracts, signing turns, templates and bulk sends are handed over.
        from portsign.contracts import (
            departure,  # noqa: F401
            hooks,  # noqa: F401
        )
