"""The `portsign` command: Django management commands under the product's own name."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portsign.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["portsign", *sys.argv[1:]])
