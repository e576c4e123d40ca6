"""`manage.py demo`: load demo data (idempotent) and print how to sign in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from portsign.accounts.demo import DEMO_PASSWORD, seed_accounts
from portsign.contracts.demo import seed_contract, seed_templates
from portsign.enterprises.demo import seed_enterprises
from portsign.eport.demo import seed_card, seed_customs, seed_eport


class Command(BaseCommand):
    help = "Load the demo data (safe to repeat) and print the demo accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            self.stderr.write("demo data is not loaded in production mode")
            return
        accounts = seed_accounts()
        seeded = seed_enterprises()
        url = settings.PUBLIC_URL
        for enterprise in seeded:
            self.stdout.write(f"  enterprise {enterprise.name} ({enterprise.uscc}), verified")
        contract = seed_contract(seeded[0], seeded[1])
        self.stdout.write(
            f"  contract “{contract.title}” waits in 待我签署 for {seeded[0].main_admin.phone} "
            f"acting for {seeded[0].name}: {url}/console/contracts/{contract.id}/"
        )
        for template in seed_templates(seeded[0], seeded[1]):
            self.stdout.write(
                f"  template “{template.name}” of {template.enterprise.name}: "
                f"{url}/console/contracts/templates/{template.id}/"
            )
        eport = seed_eport(seeded[0])
        self.stdout.write(
            f"  E-Port: {eport.reviewer.email} reviews for {eport.city.name}; "
            f"{seeded[0].name}'s “{eport.waiting.get_kind_display()}” waits for review: "
            f"{url}/console/eport/reviews/{eport.waiting.id}/"
        )
        codes = seed_customs(eport.reviewer)
        self.stdout.write(
            f"  E-Port: {eport.reviewer.email} also reviews paperless agreements for customs "
            f"districts {', '.join(codes)} and broker registrations: {url}/console/eport/"
        )
        card = seed_card(seeded[1], eport.reviewer)
        self.stdout.write(
            f"  E-Port: {seeded[1].name} holds legal-person card {card.number} (initial PIN "
            f"88888888, to be changed by {seeded[1].main_admin.phone} first): "
            f"{url}/console/eport/cards/sign-in/"
        )
        self.stdout.write("")
        self.stdout.write(
            f"PortSign is starting on {url}/  (sandbox outbox: {url}/sandbox/outbox/)"
        )
        self.stdout.write(f"Demo accounts (password {DEMO_PASSWORD}):")
        for demo in accounts:
            role = " [back-office staff]" if demo.staff else ""
            self.stdout.write(f"  {demo.account:32} {demo.name}{role}")
        self.stdout.write("")
