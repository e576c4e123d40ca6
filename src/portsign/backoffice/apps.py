from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "portsign.backoffice"
    label = "backoffice"
    verbose_name = "PortSign back office"
