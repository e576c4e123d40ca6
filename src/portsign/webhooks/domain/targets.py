"""Which callback URLs PortSign may call: the one place the URL and address rules live.

A webhook makes PortSign send requests to an address a customer chose, so the rules guard our
own network (SSRF): in production only https, and only hosts whose every address is public —
checked when the URL is registered and again, on the address actually connected to, at each
attempt (a name may be re-pointed at an internal address later). Embedded and sandbox
installations talk to test receivers on this machine or the LAN, so there plain http is allowed
for loopback and private hosts.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from portsign.common.errors import Invalid

MAX_URL_LENGTH = 500
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    scheme: str  # http | https
    host: str  # without brackets for IPv6 literals
    port: int
    path: str  # path and query, as sent in the request line


def _bad(code: str, message: str) -> Invalid:
    return Invalid(message, code=code, fields={"url": message})


def _strict() -> bool:
    """Production refuses http and private addresses; embedded and sandbox test against them."""
    return bool(settings.PRODUCTION)


def parse(raw: str) -> Target:
    """The parts of a well-formed http(s) URL without credentials, or 400."""
    url = (raw or "").strip()
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise _bad("webhook_url_invalid", _("Enter a full URL such as https://example.com/hook."))
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _bad("webhook_url_scheme", _("The URL must start with https:// (or http://)."))
    if parts.username is not None or parts.password is not None:
        raise _bad(
            "webhook_url_credentials",
            _("Do not put a user name or password in the URL; verify the signature instead."),
        )
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = 0
    if not parts.hostname or not 0 < port < 65536:
        raise _bad("webhook_url_invalid", _("Enter a full URL such as https://example.com/hook."))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=parts.hostname.lower(), port=port, path=path)


def is_public(address: IPAddress) -> bool:
    """Globally routable: not loopback, private, link-local, shared, reserved or multicast."""
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return is_public(mapped)
    return address.is_global and not address.is_multicast


def resolve(target: Target) -> list[IPAddress]:
    """Every address *target*'s host names, or 400 when it names none."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _bad("webhook_url_unresolvable", _("The host of this URL cannot be found.")) from exc
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise _bad("webhook_url_unresolvable", _("The host of this URL cannot be found."))
    return addresses


def _https_required() -> Invalid:
    return _bad(
        "webhook_url_https_required",
        _("Use an https:// URL; plain http is allowed only for test receivers on this network."),
    )


def check_addresses(target: Target, addresses: list[IPAddress]) -> None:
    """The address rule for *target* resolved to *addresses* (see the module's docstring)."""
    if _strict():
        if not all(is_public(address) for address in addresses):
            raise _bad(
                "webhook_url_private_address",
                _("This URL points into a private network; use a public https address."),
            )
    elif target.scheme == "http" and any(is_public(address) for address in addresses):
        raise _https_required()


def check_url(raw: str) -> str:
    """The URL to store, once it passes every rule; 400 with a distinct code otherwise."""
    target = parse(raw)
    if _strict() and target.scheme != "https":
        raise _https_required()
    if _strict() or target.scheme == "http":
        check_addresses(target, resolve(target))
    return raw.strip()


def address_for_delivery(url: str) -> tuple[Target, IPAddress]:
    """Where one attempt connects: the URL's first address, checked again by the same rules.

    The caller connects to exactly this address, so the name cannot be re-resolved to another
    (DNS rebinding) between the check and the connection.
    """
    target = parse(url)
    if _strict() and target.scheme != "https":
        raise _https_required()
    addresses = resolve(target)
    check_addresses(target, addresses)
    return target, addresses[0]
