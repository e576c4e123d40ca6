from django.apps import AppConfig


class EportConfig(AppConfig):
    name = "portsign.eport"
    label = "eport"
    verbose_name = "PortSign E-Port identity office"

    def ready(self) -> None:
        # A card's certificate signs in through the certificate sign-in protocol.
        from portsign.eport.domain.card_sign_in import holder_of
        from portsign.pki.login_certificates import register_holder_resolver

        register_holder_resolver(holder_of)
