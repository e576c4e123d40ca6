from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "portsign.common"
    label = "common"
    verbose_name = "PortSign common"
