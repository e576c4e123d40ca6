from django.apps import AppConfig


class PkiConfig(AppConfig):
    name = "portsign.pki"
    label = "pki"
    verbose_name = "PortSign PKI"
