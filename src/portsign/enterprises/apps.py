from django.apps import AppConfig


class EnterprisesConfig(AppConfig):
    name = "portsign.enterprises"
    label = "enterprises"
    verbose_name = "PortSign enterprises"
