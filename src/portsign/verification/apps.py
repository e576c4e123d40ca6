from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "portsign.verification"
    label = "verification"
