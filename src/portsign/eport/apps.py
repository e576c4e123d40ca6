from django.apps import AppConfig


class EportConfig(AppConfig):
    name = "portsign.eport"
    label = "eport"
    verbose_name = "PortSign E-Port identity office"
