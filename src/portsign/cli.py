"""The `portsign` command: Django management commands under the product's own name, plus the
certificate sign-in client (`login`, `login-certificate`), which runs without Django."""

from __future__ import annotations

import os
import sys

CLIENT_COMMANDS = ("login", "login-certificate")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in CLIENT_COMMANDS:
        from portsign.clientcli import main as client_main

        sys.exit(client_main(sys.argv[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portsign.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["portsign", *sys.argv[1:]])
