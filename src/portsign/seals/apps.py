from django.apps import AppConfig


class SealsConfig(AppConfig):
    name = "portsign.seals"
    label = "seals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Plug seals into one-click transfer and the back-office review registry.
        from portsign.seals import hooks  # noqa: F401
