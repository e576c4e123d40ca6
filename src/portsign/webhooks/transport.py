"""The network edge of webhooks: one POST to a checked address, nothing more.

http.client never follows redirects (a 3xx is just a failed attempt), the socket timeout bounds
the connect and every read, a watchdog bounds the whole exchange (a receiver trickling a byte
every few seconds would otherwise hold the worker indefinitely), and only the first words of
the answer are read.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
from dataclasses import dataclass

from portsign.webhooks.domain.targets import IPAddress, Target

RESPONSE_CHARS = 200
# The whole exchange may take this many socket timeouts: one to connect, the rest to answer.
DEADLINE_TIMEOUTS = 3


@dataclass(frozen=True)
class Response:
    status: int
    body: str  # at most RESPONSE_CHARS characters


class TransportError(Exception):
    """No HTTP answer: refused, timed out, TLS failure, garbled response."""


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to one given address while naming the host in Host and TLS SNI/verification."""

    def __init__(
        self, target: Target, address: IPAddress, timeout: float, tls: ssl.SSLContext | None
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address, self._tls = str(address), tls
        # Host: names the port only when it is not the scheme's default.
        self.default_port = 443 if tls else 80
        self.aborted = False

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock  # set before the TLS handshake, so the watchdog can cut that short too
        if self._tls:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)

    def abort(self) -> None:
        """From the watchdog's thread: shutting the socket down wakes a blocked read."""
        self.aborted = True
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)


def post(
    target: Target, address: IPAddress, body: bytes, headers: dict[str, str], *, timeout: float
) -> Response:
    tls = ssl.create_default_context() if target.scheme == "https" else None
    connection = _PinnedConnection(target, address, timeout, tls)
    deadline = timeout * DEADLINE_TIMEOUTS
    watchdog = threading.Timer(deadline, connection.abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        answer = connection.getresponse()
        # Four bytes per character at most: enough for RESPONSE_CHARS, never the whole body.
        text = answer.read(RESPONSE_CHARS * 4).decode("utf-8", "replace")[:RESPONSE_CHARS]
    except (OSError, http.client.HTTPException) as exc:
        if connection.aborted:
            raise TransportError(f"no complete answer within {deadline:g} s") from exc
        raise TransportError(_describe(exc)) from exc
    finally:
        watchdog.cancel()
        connection.close()
    if connection.aborted:  # the answer was cut off, whatever arrived before
        raise TransportError(f"no complete answer within {deadline:g} s")
    return Response(status=answer.status, body=text)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):  # socket.timeout is the same class
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{type(exc).__name__}: {exc}"[:300]
