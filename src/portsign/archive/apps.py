from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "portsign.archive"
    label = "archive"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Archived contracts join one-click transfer (一键转交): the registry needs the kind
        # before any member can be removed.
        from portsign.archive import hooks  # noqa: F401
