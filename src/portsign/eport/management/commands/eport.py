"""`manage.py eport`: the back office's tools for the E-Port office.

eport authorities                               list the authorities and their reviewers
eport authority KIND CODE NAME [--parent CODE]   register an authority (idempotent)
eport reviewer CODE ACCOUNT [--kind KIND]        give ACCOUNT (phone or e-mail) the reviewer role
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portsign.accounts.models import User
from portsign.common.errors import DomainError
from portsign.eport.domain import authorities
from portsign.eport.enums import AuthorityKind
from portsign.eport.models import Authority


class Command(BaseCommand):
    help = "Register E-Port authorities and give reviewers their role (back office)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("authorities")
        authority = sub.add_parser("authority")
        authority.add_argument("kind", choices=AuthorityKind.values)
        authority.add_argument("code")
        authority.add_argument("name")
        authority.add_argument("--parent", default="", help="the parent authority's code")
        reviewer = sub.add_parser("reviewer")
        reviewer.add_argument("code", help="the authority's code")
        reviewer.add_argument("account", help="the reviewer's phone (+86…) or e-mail")
        reviewer.add_argument("--kind", default=AuthorityKind.OFFICE, choices=AuthorityKind.values)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc

    def _authorities(self, options: dict[str, Any]) -> None:
        for a in Authority.objects.prefetch_related("reviewers__user"):
            people = ", ".join(r.user.phone or r.user.email or "" for r in a.reviewers.all())
            flag = " auto-approve" if a.auto_approve else ""
            self.stdout.write(f"{a.kind:8} {a.code} {a.level:8} {a.name}{flag}  [{people}]")

    def _authority(self, options: dict[str, Any]) -> None:
        parent = None
        if options["parent"]:
            parent = Authority.objects.filter(kind=options["kind"], code=options["parent"]).first()
            if parent is None:
                raise CommandError(f"no {options['kind']} authority {options['parent']}")
        made = authorities.create_authority(
            kind=options["kind"], code=options["code"], name=options["name"], parent=parent
        )
        self.stdout.write(f"authority {made.kind} {made.code} {made.name} ({made.level})")

    def _reviewer(self, options: dict[str, Any]) -> None:
        authority = Authority.objects.filter(kind=options["kind"], code=options["code"]).first()
        if authority is None:
            raise CommandError(f"no {options['kind']} authority {options['code']}")
        account = options["account"]
        user = User.objects.filter(**{"email" if "@" in account else "phone": account}).first()
        if user is None:
            raise CommandError(f"no PortSign account {account}")
        authorities.add_reviewer(authority=authority, user=user)
        self.stdout.write(f"{account} reviews for {authority.name} ({authority.code})")
