"""`portsign oauth_client add|list|remove`: the back office registers business platforms as
OAuth 2.0 clients (SPEC B6), with their exact redirect URIs.

`add` prints the client id, the client secret (once: only its hash is kept) and the return
secret the platform checks the after-signing `sig` with.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from oauth2_provider.models import Application

from portsign.common.errors import DomainError
from portsign.integrations.domain import clients


class Command(BaseCommand):
    help = "Business platforms (OAuth 2.0 clients): add NAME --redirect-uri URI…, list, remove ID"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["add", "list", "remove"])
        parser.add_argument("name", nargs="?", help="add: the platform's name; remove: client id")
        parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"])(options)
        except DomainError as error:
            raise CommandError(str(error.message)) from error

    def _add(self, options: dict[str, Any]) -> None:
        if not options["name"]:
            raise CommandError("add needs the platform's NAME")
        made = clients.register_client(name=options["name"], redirect_uris=options["redirect_uris"])
        self.stdout.write(f"client_id: {made.application.client_id}")
        self.stdout.write(f"client_secret: {made.client_secret}")
        self.stdout.write(f"return_secret: {made.return_secret}")
        self.stdout.write(f"redirect_uris: {made.application.redirect_uris}")

    def _list(self, options: dict[str, Any]) -> None:
        for app in Application.objects.order_by("name", "id"):
            self.stdout.write(f"{app.client_id}\t{app.name}\t{app.redirect_uris}")

    def _remove(self, options: dict[str, Any]) -> None:
        if not options["name"]:
            raise CommandError("remove needs the CLIENT_ID")
        clients.remove_client(client_id=options["name"])
        self.stdout.write(f"removed {options['name']}")
