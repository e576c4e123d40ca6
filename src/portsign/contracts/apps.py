from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "portsign.contracts"
    label = "contracts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Seals placed on unfinished contracts cannot be deleted.
        from portsign.contracts import hooks  # noqa: F401
