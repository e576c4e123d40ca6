from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portsign.accounts"
    label = "accounts"
    verbose_name = "PortSign accounts"
