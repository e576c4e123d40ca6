"""Strict helpers for reading PORTSIGN_* environment variables.

A typo in a production setting must stop the process at start-up, not surface as odd
behaviour hours later, so every helper refuses values it cannot parse.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PREFIX = "PORTSIGN_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingError(ValueError):
    """A PORTSIGN_* variable holds a value the product cannot run with."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(PREFIX + name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = env_str(name).lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingError(f"{PREFIX}{name} must be one of 1/0/true/false/yes/no, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingError(f"{PREFIX}{name} must be an integer, not {raw!r}") from exc
    if value < minimum:
        raise SettingError(f"{PREFIX}{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int_list(name: str, default: list[int], *, minimum: int = 0) -> list[int]:
    """Comma-separated integers, each at least *minimum*; empty means *default*."""
    values = []
    for item in env_list(name, [str(value) for value in default]):
        try:
            value = int(item)
        except ValueError as exc:
            raise SettingError(f"{PREFIX}{name} must list integers, not {item!r}") from exc
        if value < minimum:
            raise SettingError(f"{PREFIX}{name} values must be at least {minimum}, got {value}")
        values.append(value)
    return values


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default) or default
    if value not in choices:
        raise SettingError(f"{PREFIX}{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def secret_from_file(path: Path) -> str:
    """Return the secret stored at *path*, generating it (mode 0600) on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()
