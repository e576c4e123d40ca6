from django.apps import AppConfig


class PkiConfig(AppConfig):
    name = "portsign.pki"
    label = "pki"
    verbose_name = "PortSign PKI"

    def ready(self) -> None:
        # Registers the certificate-application review kind with the back office.
        from portsign.pki import applications  # noqa: F401
