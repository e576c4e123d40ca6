"""A real HTTP receiver on 127.0.0.1 (the network edge is the only thing under our control),
and helpers to register endpoints and move contracts through their life."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.contracts.conftest import create_draft
from tests.helpers import Person


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event(self) -> str:
        return self.headers["X-PortSign-Event"]


@dataclass
class Receiver:
    """Records every POST; answers `status` (e.g. 500 while "down", then 204 once back).

    With `hold` set, each answer waits until it is released (`arrived` says a request is in),
    which keeps an attempt in flight for as long as a test needs.
    """

    port: int = 0
    status: int = 204
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)
    trickle: bool = False  # answer one byte at a time, never finishing the headers

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers), body))
                status = receiver.status
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(timeout=30)
            if receiver.trickle:
                self._trickle()
                return
            answer = b"x" * 500 if status >= 500 else b""  # longer than what is kept
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def _trickle(self) -> None:
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(40):
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    time.sleep(0.25)
            except OSError:
                pass  # PortSign hung up
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


def register(person: Person, enterprise, url: str, events: list[str] | None = None) -> dict:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = events
    response = person.api.post(f"/enterprises/{enterprise.id}/webhooks", body)
    assert response.status_code == 201, response.content
    return response.json()


def expected_signature(secret: str, received: Received) -> str:
    """What a receiver computes (docs/webhooks.md): HMAC-SHA256 of "<timestamp>.<body>"."""
    message = received.headers["X-PortSign-Timestamp"].encode() + b"." + received.body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def draft_between(alice: Person, acme, globex) -> str:
    """A draft Acme (alice) addresses to Globex first, then to itself; not yet sent."""
    contract = create_draft(alice, acting_as=acme.id)
    for account, enterprise in (("13800000002", globex), ("13800000001", acme)):
        response = alice.api.post(
            f"/contracts/{contract['id']}/parties",
            {"kind": "enterprise", "account": account, "enterprise_name": enterprise.name},
        )
        assert response.status_code == 201, response.content
    return contract["id"]


def send(alice: Person, contract_id: str) -> None:
    response = alice.api.post(f"/contracts/{contract_id}/send")
    assert response.status_code == 200, response.content
