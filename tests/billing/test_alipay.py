"""AlipayPayments against a local fake of the Alipay open-platform gateway.

The fake checks the merchant's request signatures and signs its own answers and notifications
with its own implementation: the canonical string built here (`_fake_canonical`) and the
`openssl dgst` command line, never the module's `canonical` or `portsign.pki.vendor_keys`. A
signing implementation that disagrees with the published RSA2 scheme fails these tests
instead of agreeing with itself.

Only the fake knows the merchant's public key and "Alipay's" private key; PortSign is given
the merchant's private key and Alipay's public key, as in production.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import socket
import subprocess
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django.urls import reverse

from portsign.billing.domain import orders
from portsign.billing.models import Order, Package, PaymentNotice, Usage, Wallet
from portsign.billing.payments import PaymentError, fen, yuan
from portsign.billing.payments.alipay import AlipayPayments, canonical
from portsign.common.errors import Conflict, NotFound

APP_ID = "2021000122600001"
OTHER_APP_ID = "2021000199999999"
SELLER_ID = "2088621000000001"
TRADE_NO = "2026120722001400001234567890"
NOTIFY_PATH = "/console/billing/notify/alipay/"
SUBJECT = "PortSign 对公合同 10 份"
BEIJING = ZoneInfo("Asia/Shanghai")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_COMMON = ("app_id", "method", "format", "charset", "sign_type", "timestamp", "version")


# -- keys and the fake's own RSA2 (openssl) ----------------------------------------------


@dataclass(frozen=True)
class Keys:
    merchant_private: Path  # PortSign's
    merchant_public: Path  # the fake's (registered with Alipay)
    alipay_private: Path  # the fake's
    alipay_public: Path  # PortSign's
    alipay_public_bare: Path  # the same, as Alipay's console hands it out (base64 body only)
    stranger_private: Path  # a key Alipay never saw
    work: Path


def _write_pair(folder: Path, name: str) -> tuple[Path, Path, rsa.RSAPublicKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = folder / f"{name}_private.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = folder / f"{name}_public.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public, key.public_key()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    # A fresh folder per run: portsign.pki.vendor_keys caches parsed keys by path.
    folder = tmp_path_factory.mktemp("alipay-keys")
    merchant_private, merchant_public, _ = _write_pair(folder, "merchant")
    alipay_private, alipay_public, alipay_key = _write_pair(folder, "alipay")
    stranger_private, _, _ = _write_pair(folder, "stranger")
    der = alipay_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    bare = folder / "alipay_public_bare.txt"
    bare.write_text(base64.b64encode(der).decode())
    work = folder / "openssl"
    work.mkdir()
    return Keys(
        merchant_private,
        merchant_public,
        alipay_private,
        alipay_public,
        bare,
        stranger_private,
        work,
    )


def openssl_sign(message: str, private_key: Path) -> str:
    signed = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", str(private_key)],
        input=message.encode("utf-8"),
        capture_output=True,
        check=True,
    )
    return base64.b64encode(signed.stdout).decode("ascii")


def openssl_verify(message: str, signature: str, public_key: Path, work: Path) -> bool:
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    signature_file = work / f"{uuid.uuid4().hex}.sig"
    signature_file.write_bytes(raw)
    try:
        checked = subprocess.run(
            [
                "openssl",
                "dgst",
                "-sha256",
                "-verify",
                str(public_key),
                "-signature",
                str(signature_file),
            ],
            input=message.encode("utf-8"),
            capture_output=True,
            check=False,
        )
    finally:
        signature_file.unlink()
    return checked.returncode == 0 and checked.stdout == b"Verified OK\n"


def _fake_canonical(params: dict[str, str], *, drop: tuple[str, ...]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k not in drop and v != "")
    return "&".join(k + "=" + v for k, v in pairs)


def _beijing_now() -> datetime:
    return datetime.now(BEIJING)


def _within_minutes(timestamp: str, minutes: int) -> bool:
    if not _TIMESTAMP.fullmatch(timestamp):
        return False
    sent = datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    return abs(_beijing_now() - sent) <= timedelta(minutes=minutes)


# -- the fake gateway --------------------------------------------------------------------


@dataclass
class FakeAlipay:
    keys: Keys
    url: str = ""
    trades: dict[str, dict[str, str]] = field(default_factory=dict)  # by out_trade_no
    refund_refusal: tuple[str, str] | None = None  # (sub_code, sub_msg) for a valid refund
    tamper_answers: bool = False  # rewrite total_amount after signing the answer
    sign_first: bool = False  # put "sign" before the _response value
    raw_answer: str | None = None  # answer exactly this body (after checking the request)
    requests: list[dict[str, str]] = field(default_factory=list)
    rejections: list[str] = field(default_factory=list)  # sub_codes of refused requests
    refunds: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def open_trade(self, order_id: str, *, status: str = "TRADE_SUCCESS", amount: str = "50.00"):
        self.trades[order_id] = {"trade_no": TRADE_NO, "total_amount": amount, "status": status}

    def sign(self, message: str) -> str:
        return openssl_sign(message, self.keys.alipay_private)

    def notification(
        self, order_id: str, *, trade_status: str = "TRADE_SUCCESS", **changes: str
    ) -> dict[str, str]:
        """An asynchronous notification as Alipay posts it, signed over the sorted non-empty
        fields without `sign` and `sign_type`."""
        amount = changes.pop("total_amount", "50.00")
        app_id = changes.pop("app_id", APP_ID)
        now = _beijing_now().strftime("%Y-%m-%d %H:%M:%S")
        fields = {
            "gmt_create": now,
            "gmt_payment": now,
            "notify_time": now,
            "notify_type": "trade_status_sync",
            "notify_id": "2026120700222" + uuid.uuid4().hex[:20],
            "charset": "utf-8",
            "version": "1.0",
            "app_id": app_id,
            "auth_app_id": app_id,
            "seller_id": SELLER_ID,
            "buyer_id": "2088102177846880",
            "out_trade_no": order_id,
            "trade_no": TRADE_NO,
            "trade_status": trade_status,
            "total_amount": amount,
            "receipt_amount": amount,
            "invoice_amount": amount,
            "buyer_pay_amount": amount,
            "point_amount": "0.00",
            "subject": SUBJECT,
            "body": "",  # empty: not part of what is signed
            "fund_bill_list": json.dumps([{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}]),
            **changes,
        }
        fields["sign_type"] = "RSA2"
        fields["sign"] = self.sign(_fake_canonical(fields, drop=("sign", "sign_type")))
        return fields

    # ---- the gateway's side of alipay.trade.query / alipay.trade.refund

    def answer(self, path: str, headers: Any, body: bytes) -> tuple[int, str]:
        if path != "/gateway.do":
            return 404, "<html><body>404</body></html>"
        if not str(headers.get("Content-Type", "")).startswith("application/x-www-form-urlencoded"):
            return 400, "<html><body>form body expected</body></html>"
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        params = dict(pairs)
        with self.lock:
            self.requests.append(params)
        method = params.get("method", "")
        if method not in ("alipay.trade.query", "alipay.trade.refund"):
            return 200, self._signed_answer("error_response", self._refused("isv.invalid-method"))
        key = method.replace(".", "_") + "_response"
        refusal = self._check_common(params, duplicate=len(pairs) != len(params))
        if refusal:
            return 200, self._signed_answer(key, self._refused(refusal, code="40002"))
        biz = json.loads(params["biz_content"])
        if self.raw_answer is not None:
            return 200, self.raw_answer
        result = self._query(biz) if method == "alipay.trade.query" else self._refund(biz)
        return 200, self._signed_answer(key, result)

    def _check_common(self, params: dict[str, str], *, duplicate: bool) -> str:
        if duplicate:
            return "isv.duplicate-parameter"
        expected = {
            "app_id": APP_ID,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "version": "1.0",
        }
        for name, wanted in expected.items():
            if params.get(name) != wanted:
                return f"isv.invalid-{name.replace('_', '-')}"
        if not _within_minutes(params.get("timestamp", ""), 10):
            return "isv.invalid-timestamp"
        if "biz_content" not in params:
            return "isv.missing-biz-content"
        message = _fake_canonical(params, drop=("sign",))
        if not openssl_verify(
            message, params.get("sign", ""), self.keys.merchant_public, self.keys.work
        ):
            return "isv.invalid-signature"
        return ""

    def _refused(self, sub_code: str, *, code: str = "40002") -> dict[str, str]:
        with self.lock:
            self.rejections.append(sub_code)
        return {
            "code": code,
            "msg": "Invalid Arguments",
            "sub_code": sub_code,
            "sub_msg": "参数有误",
        }

    def _query(self, biz: dict[str, str]) -> dict[str, str]:
        trade = self.trades.get(biz.get("out_trade_no", ""))
        if trade is None:
            return {
                "code": "40004",
                "msg": "Business Failed",
                "sub_code": "ACQ.TRADE_NOT_EXIST",
                "sub_msg": "交易不存在",
                "out_trade_no": biz.get("out_trade_no", ""),
            }
        return {
            "code": "10000",
            "msg": "Success",
            "buyer_logon_id": "ali***@example.com",
            "buyer_pay_amount": trade["total_amount"],
            "out_trade_no": biz["out_trade_no"],
            "send_pay_date": _beijing_now().strftime("%Y-%m-%d %H:%M:%S"),
            "total_amount": trade["total_amount"],
            "trade_no": trade["trade_no"],
            "trade_status": trade["status"],
        }

    def _refund(self, biz: dict[str, str]) -> dict[str, str]:
        order_id = biz.get("out_trade_no", "")
        trade = self.trades.get(order_id)
        failed = {"code": "40004", "msg": "Business Failed"}
        if trade is None:
            return {**failed, "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"}
        if biz.get("out_request_no") != f"{order_id}-refund":
            return {**failed, "sub_code": "ACQ.INVALID_PARAMETER", "sub_msg": "out_request_no"}
        if biz.get("refund_amount") != trade["total_amount"]:
            return {**failed, "sub_code": "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "sub_msg": "退款金额"}
        if self.refund_refusal is not None:
            sub_code, sub_msg = self.refund_refusal
            return {**failed, "sub_code": sub_code, "sub_msg": sub_msg}
        with self.lock:
            repeated = trade["status"] == "TRADE_CLOSED"
            trade["status"] = "TRADE_CLOSED"
            self.refunds.append(dict(biz))
        return {
            "code": "10000",
            "msg": "Success",
            "buyer_logon_id": "ali***@example.com",
            "fund_change": "N" if repeated else "Y",
            "gmt_refund_pay": _beijing_now().strftime("%Y-%m-%d %H:%M:%S"),
            "out_trade_no": order_id,
            "refund_fee": biz["refund_amount"],
            "trade_no": trade["trade_no"],
        }

    def _signed_answer(self, key: str, result: dict[str, str]) -> str:
        # Spaced, non-ASCII JSON: only the exact text as sent checks, not a re-serialisation.
        text = json.dumps(result, ensure_ascii=False)
        signature = self.sign(text)
        if self.tamper_answers and "total_amount" in result:
            text = text.replace(
                f'"total_amount": "{result["total_amount"]}"', '"total_amount": "0.01"'
            )
        if self.sign_first:
            return f'{{"sign": "{signature}", "{key}": {text}}}'
        return f'{{"{key}": {text}, "sign": "{signature}"}}'


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeAlipay) -> None:
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.state = state


class _FakeHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        assert isinstance(self.server, _FakeServer)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, text = self.server.state.answer(self.path, self.headers, body)
        raw = text.encode("utf-8")
        ctype = "text/html" if text.startswith("<") else "application/json;charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_alipay(keys: Keys, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlipay]:
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    state = FakeAlipay(keys=keys)
    server = _FakeServer(state)
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}/gateway.do"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _configure(settings: Any, keys: Keys, gateway: str, **overrides: str) -> None:
    settings.PAYMENT_PROVIDER = "alipay"
    settings.ALIPAY = {
        "app_id": APP_ID,
        "gateway": gateway,
        "private_key_file": str(keys.merchant_private),
        "public_key_file": str(keys.alipay_public),
        **overrides,
    }


@pytest.fixture
def alipay(fake_alipay: FakeAlipay, keys: Keys, settings: Any, real_allotment: None) -> FakeAlipay:
    # After tests/billing/conftest.py's autouse fixture, which chooses the sandbox.
    _configure(settings, keys, fake_alipay.url)
    return fake_alipay


@pytest.fixture
def order(alipay: FakeAlipay, alice, acme) -> Order:
    created = orders.create_order(
        actor=alice.user, package_id="corporate-10", enterprise_id=acme.id
    )
    assert (created.provider, created.amount_fen, created.contracts) == ("alipay", 5000, 10)
    return created


def _post(params: dict[str, str]):
    return Client(enforce_csrf_checks=True).post(
        NOTIFY_PATH,
        data=urllib.parse.urlencode(params),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )


def _remaining(acme) -> int:
    return Wallet.objects.get(enterprise=acme).corporate_remaining


def _usage(order: Order) -> list[tuple[str, int, int]]:
    return [
        (u.reason, u.delta, u.balance) for u in Usage.objects.filter(order=order).order_by("id")
    ]


def _notices() -> list[tuple[str | None, str, bool, str, str]]:
    return [
        (n.order_id, n.outcome, n.applied, n.detail, n.trade_no)
        for n in PaymentNotice.objects.order_by("id")
    ]


def _pay_by_notification(alipay: FakeAlipay, order: Order) -> None:
    alipay.open_trade(order.id)
    answer = _post(alipay.notification(order.id))
    assert (answer.status_code, answer.content) == (200, b"success")
    order.refresh_from_db()
    assert order.status == "paid"


# -- the canonical string ----------------------------------------------------------------


def test_canonical_string_follows_the_published_rules() -> None:
    params = {
        "timestamp": "2026-12-07 06:23:01",
        "app_id": APP_ID,
        "sign": "never part of what is signed",
        "method": "alipay.trade.query",
        "biz_content": '{"out_trade_no":"01J0ABC","subject":"港签 a&b=c"}',
        "sign_type": "RSA2",
        "notify_url": "",
        "charset": "utf-8",
    }
    # Written out by hand: sorted, empty values left out, values raw (not URL-encoded).
    assert canonical(params) == (
        f"app_id={APP_ID}"
        '&biz_content={"out_trade_no":"01J0ABC","subject":"港签 a&b=c"}'
        "&charset=utf-8&method=alipay.trade.query&sign_type=RSA2&timestamp=2026-12-07 06:23:01"
    )
    assert canonical(params, exclude=("sign", "sign_type")) == (
        f"app_id={APP_ID}"
        '&biz_content={"out_trade_no":"01J0ABC","subject":"港签 a&b=c"}'
        "&charset=utf-8&method=alipay.trade.query&timestamp=2026-12-07 06:23:01"
    )
    assert canonical(params) == _fake_canonical(params, drop=("sign",))


def test_amounts_are_written_in_yuan_exactly() -> None:
    assert [yuan(5000), yuan(1), yuan(0), yuan(80000), yuan(12345)] == [
        "50.00",
        "0.01",
        "0.00",
        "800.00",
        "123.45",
    ]
    assert [fen("50.00"), fen("0.01"), fen("123.45")] == [5000, 1, 12345]


# -- 1. the cashier URL ------------------------------------------------------------------


def test_checkout_url_carries_the_documented_fields_signed_by_the_published_scheme(
    alipay: FakeAlipay, order: Order, keys: Keys, tmp_path: Path
) -> None:
    site = "https://portsign.example"
    url = orders.pay_url(order, site=site)

    split = urllib.parse.urlsplit(url)
    assert f"{split.scheme}://{split.netloc}{split.path}" == alipay.url
    pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True, strict_parsing=True)
    params = dict(pairs)
    assert len(params) == len(pairs)
    assert set(params) == {*_COMMON, "biz_content", "notify_url", "return_url", "sign"}
    assert params["app_id"] == APP_ID
    assert params["method"] == "alipay.trade.page.pay"
    assert params["format"] == "JSON"
    assert params["charset"] == "utf-8"
    assert params["sign_type"] == "RSA2"
    assert params["version"] == "1.0"
    assert _within_minutes(params["timestamp"], 2), params["timestamp"]  # Beijing time
    assert params["notify_url"] == f"{site}/console/billing/notify/alipay/"
    assert params["notify_url"] == site + reverse("billing:notify", args=["alipay"])
    assert params["return_url"] == f"{site}/console/billing/orders/{order.id}/returned/"
    assert json.loads(params["biz_content"]) == {
        "out_trade_no": order.id,
        "total_amount": "50.00",
        "product_code": "FAST_INSTANT_TRADE_PAY",
        "subject": SUBJECT,
    }

    # The independent check: the canonical string written out here, verified by openssl.
    message = (
        f"app_id={APP_ID}&biz_content={params['biz_content']}&charset=utf-8&format=JSON"
        f"&method=alipay.trade.page.pay&notify_url={site}/console/billing/notify/alipay/"
        f"&return_url={site}/console/billing/orders/{order.id}/returned/"
        f"&sign_type=RSA2&timestamp={params['timestamp']}&version=1.0"
    )
    assert message == _fake_canonical(params, drop=("sign",))
    (tmp_path / "message.txt").write_bytes(message.encode("utf-8"))
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(params["sign"], validate=True))
    checked = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            str(keys.merchant_public),
            "-signature",
            str(tmp_path / "sig.bin"),
            str(tmp_path / "message.txt"),
        ],
        capture_output=True,
        check=False,
    )
    assert (checked.returncode, checked.stdout) == (0, b"Verified OK\n"), checked.stderr
    # ...and openssl is not a rubber stamp: one more character and it refuses.
    assert not openssl_verify(message + " ", params["sign"], keys.merchant_public, keys.work)
    assert alipay.requests == []  # the cashier URL is for the payer's browser only


def _console(person, acting_as: str) -> Client:
    client = Client()
    client.force_login(person.user, backend="portsign.accounts.backends.AccountBackend")
    client.post("/console/enterprise/acting/", {"acting_as": acting_as})
    return client


def test_buying_in_the_console_goes_to_alipays_cashier(
    alipay: FakeAlipay, alice, acme, keys: Keys, settings: Any
) -> None:
    answer = _console(alice, acme.id).post(
        "/console/billing/orders/", {"package_id": "corporate-50"}
    )

    order = Order.objects.get()
    assert (order.provider, order.amount_fen, order.status) == ("alipay", 22000, "pending")
    assert answer.status_code == 302
    split = urllib.parse.urlsplit(answer["Location"])
    assert f"{split.scheme}://{split.netloc}{split.path}" == alipay.url
    params = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
    assert json.loads(params["biz_content"])["total_amount"] == "220.00"
    assert json.loads(params["biz_content"])["out_trade_no"] == order.id
    assert params["notify_url"] == settings.PUBLIC_URL + NOTIFY_PATH
    message = _fake_canonical(params, drop=("sign",))
    assert openssl_verify(message, params["sign"], keys.merchant_public, keys.work)


def test_coming_back_from_the_cashier_asks_alipay(
    alipay: FakeAlipay, order: Order, alice, acme
) -> None:
    alipay.open_trade(order.id)

    answer = _console(alice, acme.id).get(f"/console/billing/orders/{order.id}/returned/")

    assert (answer.status_code, answer["Location"]) == (302, "/console/billing/")
    order.refresh_from_db()
    assert (order.status, order.trade_no) == ("paid", TRADE_NO)
    assert _remaining(acme) == 15
    assert [r["method"] for r in alipay.requests] == ["alipay.trade.query"]


# -- 2. notifications through the notify endpoint ----------------------------------------


def test_the_packages_exist_in_the_test_database(alipay: FakeAlipay) -> None:
    package = Package.objects.get(pk="corporate-10")
    assert (package.kind, package.contracts, package.price_fen, package.active) == (
        "corporate",
        10,
        5000,
        True,
    )


def test_a_paid_notification_credits_the_order_exactly_once(
    alipay: FakeAlipay, order: Order, acme
) -> None:
    assert _remaining(acme) == 5
    notice = alipay.notification(order.id)

    answer = _post(notice)

    assert (answer.status_code, answer.content) == (200, b"success")
    assert answer["Content-Type"] == "text/plain"
    order.refresh_from_db()
    assert (order.status, order.trade_no) == ("paid", TRADE_NO)
    assert order.paid_at is not None
    assert _remaining(acme) == 15
    assert _usage(order) == [("purchase", 10, 15)]

    again = _post(notice)  # Alipay retries until it reads "success", and sometimes after
    finished = _post(alipay.notification(order.id, trade_status="TRADE_FINISHED"))

    assert (again.status_code, again.content) == (200, b"success")
    assert (finished.status_code, finished.content) == (200, b"success")
    order.refresh_from_db()
    assert order.status == "paid"
    assert _remaining(acme) == 15
    assert _usage(order) == [("purchase", 10, 15)]
    assert _notices() == [
        (order.id, "paid", True, "", TRADE_NO),
        (order.id, "paid", False, "duplicate", TRADE_NO),
        (order.id, "paid", False, "duplicate", TRADE_NO),
    ]


def _flip_sign(params: dict[str, str]) -> dict[str, str]:
    raw = bytearray(base64.b64decode(params["sign"]))
    raw[17] ^= 0x01
    return {**params, "sign": base64.b64encode(bytes(raw)).decode()}


def _tamper(kind: str, params: dict[str, str], keys: Keys) -> dict[str, str]:
    if kind == "amount":
        return {**params, "total_amount": "0.01"}
    if kind == "sign_byte":
        return _flip_sign(params)
    if kind == "sign_not_base64":
        return {**params, "sign": params["sign"][:-4] + "!!!!"}
    if kind == "no_sign":
        return {k: v for k, v in params.items() if k != "sign"}
    if kind == "sign_type":
        return {**params, "sign_type": "RSA"}
    if kind == "added_field":
        return {**params, "refund_fee": "50.00"}
    if kind == "merchant_key":  # signed, but not by Alipay
        message = _fake_canonical(params, drop=("sign", "sign_type"))
        return {**params, "sign": openssl_sign(message, keys.merchant_private)}
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "amount",
        "sign_byte",
        "sign_not_base64",
        "no_sign",
        "sign_type",
        "added_field",
        "merchant_key",
    ],
)
def test_a_forged_notification_is_refused_and_changes_nothing(
    alipay: FakeAlipay, order: Order, acme, keys: Keys, kind: str
) -> None:
    forged = _tamper(kind, alipay.notification(order.id), keys)

    answer = _post(forged)

    assert (answer.status_code, answer.content) == (400, b"fail")
    order.refresh_from_db()
    assert (order.status, order.trade_no) == ("pending", "")
    assert _remaining(acme) == 5
    assert _usage(order) == []
    assert _notices() == [(None, "rejected", False, "bad signature", "")]


def test_a_closed_trade_that_was_refunded_fully_is_signed_over_refund_fee_too(
    alipay: FakeAlipay, order: Order, acme
) -> None:
    # The tampering test above adds refund_fee after signing; signed, it is read as a refund.
    _pay_by_notification(alipay, order)

    answer = _post(alipay.notification(order.id, trade_status="TRADE_CLOSED", refund_fee="50.00"))

    assert (answer.status_code, answer.content) == (200, b"success")
    order.refresh_from_db()
    assert order.status == "paid"  # refunds are recorded by refund_order, not by notices
    assert _remaining(acme) == 15
    assert _notices()[-1] == (
        order.id,
        "refunded",
        False,
        "refunds are recorded by refund_order",
        TRADE_NO,
    )


def test_another_merchants_notification_is_refused(alipay: FakeAlipay, order: Order, acme) -> None:
    answer = _post(alipay.notification(order.id, app_id=OTHER_APP_ID))

    assert (answer.status_code, answer.content) == (400, b"fail")
    order.refresh_from_db()
    assert order.status == "pending"
    assert _remaining(acme) == 5
    assert _notices() == [(None, "rejected", False, "another merchant's notification", "")]


def test_a_validly_signed_notification_for_another_amount_is_not_applied(
    alipay: FakeAlipay, order: Order, acme
) -> None:
    answer = _post(alipay.notification(order.id, total_amount="0.50"))

    assert (answer.status_code, answer.content) == (200, b"success")  # read: stop retrying
    order.refresh_from_db()
    assert (order.status, order.trade_no) == ("pending", "")
    assert _remaining(acme) == 5
    assert _usage(order) == []
    assert _notices() == [(order.id, "paid", False, "amount 50 != 5000", TRADE_NO)]


def test_a_validly_signed_notification_with_an_unreadable_amount_is_refused(
    alipay: FakeAlipay, order: Order, acme
) -> None:
    answer = _post(alipay.notification(order.id, total_amount="50.001"))

    assert (answer.status_code, answer.content) == (400, b"fail")
    order.refresh_from_db()
    assert order.status == "pending"
    assert _notices() == [(None, "rejected", False, "amount '50.001'", "")]


def test_waiting_for_the_buyer_is_acknowledged_and_changes_nothing(
    alipay: FakeAlipay, order: Order, acme
) -> None:
    answer = _post(alipay.notification(order.id, trade_status="WAIT_BUYER_PAY"))

    assert (answer.status_code, answer.content) == (200, b"success")
    order.refresh_from_db()
    assert order.status == "pending"
    assert _remaining(acme) == 5
    assert _notices() == []


def test_a_trade_closed_unpaid_fails_the_order(alipay: FakeAlipay, order: Order, acme) -> None:
    answer = _post(alipay.notification(order.id, trade_status="TRADE_CLOSED"))

    assert (answer.status_code, answer.content) == (200, b"success")
    order.refresh_from_db()
    assert order.status == "failed"
    assert order.closed_at is not None
    assert _remaining(acme) == 5
    assert _notices() == [(order.id, "failed", True, "", TRADE_NO)]


def test_a_notification_for_an_unknown_order_is_acknowledged_and_kept(
    alipay: FakeAlipay,
) -> None:
    answer = _post(alipay.notification("01NOSUCHORDER0000000000000"))

    assert (answer.status_code, answer.content) == (200, b"success")
    assert _notices() == [(None, "paid", False, "unknown order", TRADE_NO)]


def test_alipays_public_key_may_be_the_bare_base64_its_console_shows(
    alipay: FakeAlipay, order: Order, acme, keys: Keys, settings: Any
) -> None:
    _configure(settings, keys, alipay.url, public_key_file=str(keys.alipay_public_bare))

    answer = _post(alipay.notification(order.id))

    assert (answer.status_code, answer.content) == (200, b"success")
    order.refresh_from_db()
    assert order.status == "paid"
    assert _remaining(acme) == 15


def test_the_notify_endpoint_takes_posts_only(alipay: FakeAlipay) -> None:
    assert Client().get(NOTIFY_PATH).status_code == 405


# -- 3. query ----------------------------------------------------------------------------


def test_a_late_notification_is_answered_by_a_query(
    alipay: FakeAlipay, order: Order, acme, alice
) -> None:
    alipay.open_trade(order.id, status="TRADE_SUCCESS")

    refreshed = orders.refresh_order(actor=alice.user, order_id=order.id)

    assert (refreshed.status, refreshed.trade_no) == ("paid", TRADE_NO)
    assert _remaining(acme) == 15
    assert _usage(order) == [("purchase", 10, 15)]
    [seen] = alipay.requests
    assert alipay.rejections == []  # the fake checked the request's signature itself
    assert set(seen) == {*_COMMON, "biz_content", "sign"}
    assert seen["method"] == "alipay.trade.query"
    assert json.loads(seen["biz_content"]) == {"out_trade_no": order.id}

    # Paid now: returning from the cashier again asks Alipay nothing more.
    orders.refresh_order(actor=alice.user, order_id=order.id)
    assert len(alipay.requests) == 1
    assert _usage(order) == [("purchase", 10, 15)]


def test_a_trade_alipay_does_not_know_leaves_the_order_pending(
    alipay: FakeAlipay, order: Order, acme, alice
) -> None:
    assert AlipayPayments.from_settings().query(order_id=order.id) is None

    refreshed = orders.refresh_order(actor=alice.user, order_id=order.id)

    assert refreshed.status == "pending"
    assert _remaining(acme) == 5
    assert len(alipay.requests) == 2
    assert alipay.rejections == []


@pytest.mark.parametrize(
    ("status", "outcome"), [("WAIT_BUYER_PAY", "pending"), ("TRADE_CLOSED", "failed")]
)
def test_a_query_reports_what_alipay_says(
    alipay: FakeAlipay, order: Order, acme, alice, status: str, outcome: str
) -> None:
    alipay.open_trade(order.id, status=status)

    assert orders.refresh_order(actor=alice.user, order_id=order.id).status == outcome
    assert _remaining(acme) == 5


def test_an_answer_signed_first_is_read_the_same(
    alipay: FakeAlipay, order: Order, acme, alice
) -> None:
    alipay.open_trade(order.id)
    alipay.sign_first = True

    assert orders.refresh_order(actor=alice.user, order_id=order.id).status == "paid"
    assert _remaining(acme) == 15


def test_the_fake_refuses_a_request_signed_with_another_key(
    alipay: FakeAlipay, order: Order, acme, alice, keys: Keys, settings: Any
) -> None:
    alipay.open_trade(order.id)
    _configure(settings, keys, alipay.url, private_key_file=str(keys.stranger_private))

    refreshed = orders.refresh_order(actor=alice.user, order_id=order.id)

    assert alipay.rejections == ["isv.invalid-signature"]
    assert refreshed.status == "pending"
    assert _remaining(acme) == 5


def test_an_answer_whose_signature_does_not_check_is_refused(
    alipay: FakeAlipay, order: Order, acme, alice
) -> None:
    alipay.open_trade(order.id)
    alipay.tamper_answers = True

    with pytest.raises(PaymentError) as caught:
        AlipayPayments.from_settings().query(order_id=order.id)
    assert caught.value.code == "provider_answer"

    refreshed = orders.refresh_order(actor=alice.user, order_id=order.id)
    assert (refreshed.status, refreshed.trade_no) == ("pending", "")
    assert _remaining(acme) == 5
    assert alipay.rejections == []


def test_an_unsigned_answer_is_refused(alipay: FakeAlipay, order: Order, alice) -> None:
    alipay.open_trade(order.id)
    alipay.raw_answer = json.dumps(
        {
            "alipay_trade_query_response": {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": order.id,
                "trade_no": TRADE_NO,
                "total_amount": "50.00",
                "trade_status": "TRADE_SUCCESS",
            }
        }
    )

    with pytest.raises(PaymentError) as caught:
        AlipayPayments.from_settings().query(order_id=order.id)

    assert caught.value.code == "provider_answer"
    assert orders.refresh_order(actor=alice.user, order_id=order.id).status == "pending"


@pytest.mark.parametrize(
    "body",
    [
        '{"alipay_trade_query_response": {"code": "10000", "msg": "Succ',  # cut short
        '{"alipay_trade_query_response":',
        '{"alipay_trade_query_response": {"code": "10000"}, "sign": "x"',  # not closed
    ],
)
def test_a_malformed_answer_is_a_provider_answer_error(
    alipay: FakeAlipay, order: Order, alice, body: str
) -> None:
    alipay.raw_answer = body

    with pytest.raises(PaymentError) as caught:
        AlipayPayments.from_settings().query(order_id=order.id)

    assert caught.value.code == "provider_answer"
    assert orders.refresh_order(actor=alice.user, order_id=order.id).status == "pending"


# -- 4. refund ---------------------------------------------------------------------------


def test_the_back_office_refunds_a_paid_order_through_alipay(
    alipay: FakeAlipay, order: Order, acme, alice
) -> None:
    _pay_by_notification(alipay, order)
    assert _remaining(acme) == 15
    alice.user.is_staff = True
    alice.user.save(update_fields=["is_staff"])

    refunded = orders.refund_order(actor=alice.user, order_id=order.id)

    assert refunded.status == "refunded"
    assert refunded.closed_at is not None
    assert alipay.refunds == [
        {"out_trade_no": order.id, "refund_amount": "50.00", "out_request_no": f"{order.id}-refund"}
    ]
    assert alipay.rejections == []
    [seen] = alipay.requests
    assert seen["method"] == "alipay.trade.refund"
    assert set(seen) == {*_COMMON, "biz_content", "sign"}
    assert _remaining(acme) == 5
    assert _usage(order) == [("purchase", 10, 15), ("refund", -10, 5)]

    with pytest.raises(Conflict) as caught:  # once only
        orders.refund_order(actor=alice.user, order_id=order.id)
    assert caught.value.code == "order_not_paid"
    assert len(alipay.requests) == 1


def test_only_staff_refund(alipay: FakeAlipay, order: Order, acme, alice) -> None:
    _pay_by_notification(alipay, order)

    with pytest.raises(NotFound):
        orders.refund_order(actor=alice.user, order_id=order.id)

    assert alipay.requests == []
    order.refresh_from_db()
    assert order.status == "paid"


def test_a_refund_alipay_refuses_leaves_the_order_paid(
    alipay: FakeAlipay, order: Order, acme, alice
) -> None:
    _pay_by_notification(alipay, order)
    alice.user.is_staff = True
    alice.user.save(update_fields=["is_staff"])
    alipay.refund_refusal = ("ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足")

    with pytest.raises(Conflict) as caught:
        orders.refund_order(actor=alice.user, order_id=order.id)

    assert caught.value.code == "refund_refused"
    assert "卖家余额不足" in str(caught.value)
    assert alipay.rejections == []  # refused on business grounds, not for the signature
    order.refresh_from_db()
    assert (order.status, order.closed_at) == ("paid", None)
    assert _remaining(acme) == 15
    assert _usage(order) == [("purchase", 10, 15)]


def test_a_late_paid_notification_after_a_refund_is_acknowledged_and_changes_nothing(
    alipay: FakeAlipay, order: Order, acme, alice
) -> None:
    alipay.open_trade(order.id)
    notice = alipay.notification(order.id)
    assert _post(notice).content == b"success"
    alice.user.is_staff = True
    alice.user.save(update_fields=["is_staff"])
    orders.refund_order(actor=alice.user, order_id=order.id)

    answer = _post(notice)  # Alipay's retry of the first notification, delivered late

    assert (answer.status_code, answer.content) == (200, b"success")
    order.refresh_from_db()
    assert order.status == "refunded"
    assert _remaining(acme) == 5
    assert _usage(order) == [("purchase", 10, 15), ("refund", -10, 5)]


# -- 5. an unreachable gateway -----------------------------------------------------------


def _closed_port() -> int:
    """A port nothing listens on any more."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_gateway_is_provider_unreachable(
    alipay: FakeAlipay, order: Order, acme, alice, keys: Keys, settings: Any
) -> None:
    _pay_by_notification(alipay, order)
    pending = orders.create_order(
        actor=alice.user, package_id="corporate-10", enterprise_id=acme.id
    )
    _configure(settings, keys, f"http://127.0.0.1:{_closed_port()}/gateway.do")
    gateway = AlipayPayments.from_settings()

    with pytest.raises(PaymentError) as caught:
        gateway.query(order_id=pending.id)
    assert caught.value.code == "provider_unreachable"
    with pytest.raises(PaymentError) as caught:
        gateway.refund(order_id=order.id, amount_fen=5000)
    assert caught.value.code == "provider_unreachable"

    assert orders.refresh_order(actor=alice.user, order_id=pending.id).status == "pending"
    alice.user.is_staff = True
    alice.user.save(update_fields=["is_staff"])
    with pytest.raises(Conflict) as refused:
        orders.refund_order(actor=alice.user, order_id=order.id)
    assert refused.value.code == "provider_unreachable"
    order.refresh_from_db()
    assert order.status == "paid"
    assert _remaining(acme) == 15


def test_the_gateway_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        AlipayPayments(
            app_id=APP_ID,
            gateway="file:///etc/passwd",
            private_key_file="unused",
            alipay_public_key_file="unused",
        )


def test_a_notification_while_alipay_is_not_configured_is_refused(
    alipay: FakeAlipay, order: Order, settings: Any
) -> None:
    settings.PAYMENT_PROVIDER = "sandbox"
    settings.ALIPAY = {
        "app_id": "",
        "gateway": "https://openapi.alipay.com/gateway.do",
        "private_key_file": "",
        "public_key_file": "",
    }

    answer = _post(alipay.notification(order.id))

    assert (answer.status_code, answer.content) == (400, b"fail")
    assert _notices()[-1][1] == "rejected"
