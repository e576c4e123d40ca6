"""Opaque, time-ordered identifiers (ULID layout: 48-bit milliseconds + 80 random bits).

Ids are strings to integrators (API.md); time order keeps B-tree inserts append-mostly.
"""

from __future__ import annotations

import os
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32


def new_id() -> str:
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))
