from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Platform integrations: enterprise API keys (API.md "Enterprise API keys")."""

    name = "portsign.integrations"
    label = "integrations"
    verbose_name = "PortSign integrations"
    default_auto_field = "django.db.models.BigAutoField"
