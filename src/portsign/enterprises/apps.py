from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "portsign.enterprises"
    label = "enterprises"
    verbose_name = "PortSign enterprises"

    def ready(self) -> None:
        # Registers the authorization-letter review kind with the back office.
        from portsign.enterprises.domain import materials  # noqa: F401
