"""Secret keys kept as 0600 files outside the database (the file KEK, the audit-chain key).

Created on first use in embedded mode; production mounts them from its secret store. A key
must be exactly 32 bytes, so a truncated or swapped file fails loudly instead of silently
deriving something else.
"""

from __future__ import annotations

import os
from pathlib import Path


class KeyFileError(Exception):
    """A key file exists but is not a 32-byte key."""


def read_or_create_key(path: Path) -> bytes:
    """The 32-byte key in *path*, created with random bytes (mode 0600) if it is missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first: read theirs
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(32))
    key = path.read_bytes()
    if len(key) != 32:
        raise KeyFileError(f"the key file {path.name} must hold exactly 32 bytes")
    return key
