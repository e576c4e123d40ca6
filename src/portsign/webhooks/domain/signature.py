"""The webhook signature: HMAC-SHA256 over "<timestamp>.<raw body>" with the endpoint's secret.

Binding the timestamp in lets a receiver refuse replays of an old, validly signed request;
docs/webhooks.md shows how to verify.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCHEME = "sha256"
# Recognisable in a receiver's configuration and to leak scanners.
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a password)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The X-PortSign-Signature value: "sha256=<hex>"."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"{SCHEME}={digest.hexdigest()}"
