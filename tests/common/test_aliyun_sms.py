"""AliyunSmsGateway against a local fake of Dysmsapi SendSms.

The fake verifies the RPC signature with its own implementation (``_fake_signature`` below,
built on ``urllib.parse.quote``), not with the module's, so a wrong signing implementation in
the gateway fails these tests instead of agreeing with itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from portsign.common.notify import aliyun
from portsign.common.notify.aliyun import (
    AliyunSmsGateway,
    canonical_query,
    normalize_phone,
    percent_encode,
    sign_rpc,
    string_to_sign,
)
from portsign.common.notify.base import DeliveryError, OutgoingMessage

KEY_ID = "LTAI-fake-key-id"
SECRET = "fake-secret-3f9c2a71"
SIGN_NAME = "港签PortSign"
TEMPLATE_CODE = "SMS_123456789"
FIRST_BIZ_ID = "900000000000000001^0"
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_REQUIRED = (
    "AccessKeyId",
    "Action",
    "Format",
    "PhoneNumbers",
    "SignName",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureVersion",
    "TemplateCode",
    "Timestamp",
    "Version",
)


# -- the fake server ---------------------------------------------------------------------


def _rfc3986(value: str) -> str:
    # quote() leaves only letters, digits and "_.-~" alone: space -> %20, "*" -> %2A.
    return urllib.parse.quote(value, safe="-_.~")


def _fake_signature(params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(_rfc3986(k) + "=" + _rfc3986(v) for k, v in pairs)
    to_sign = "POST&%2F&" + _rfc3986(canonical)
    mac = hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


@dataclass
class FakeAliyun:
    secret: str
    url: str = ""
    down: bool = False  # answer every request with an HTML 503
    forced: tuple[int, str] | None = None  # (HTTP status, Code) for signed, valid requests
    stall: threading.Event = field(default_factory=threading.Event)
    stalling: bool = False  # hold the reply until `stall` is set
    requests: list[dict[str, str]] = field(default_factory=list)
    nonces: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    issued: int = 0

    def answer(self, headers: Any, body: bytes) -> tuple[int, dict[str, str] | None]:
        if self.down:
            return 503, None
        if not str(headers.get("Content-Type", "")).startswith("application/x-www-form-urlencoded"):
            return 400, {"Code": "InvalidParameter", "Message": "form body expected"}
        pairs = urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True)
        params = dict(pairs)
        self.requests.append(params)
        if len(params) != len(pairs):
            return 400, {"Code": "InvalidParameter", "Message": "duplicate parameter"}
        missing = [name for name in _REQUIRED if not params.get(name)]
        if missing:
            return 400, {"Code": "MissingParameter", "Message": f"missing {missing}"}
        expectations = {
            "Action": ("SendSms", "InvalidAction.NotFound"),
            "Version": ("2017-05-25", "InvalidVersion"),
            "Format": ("JSON", "InvalidParameter.Format"),
            "SignatureMethod": ("HMAC-SHA1", "InvalidParameter.SignatureMethod"),
            "SignatureVersion": ("1.0", "InvalidParameter.SignatureVersion"),
        }
        for name, (wanted, code) in expectations.items():
            if params[name] != wanted:
                return 400, {"Code": code, "Message": f"{name}={params[name]!r}"}
        if not _TIMESTAMP.fullmatch(params["Timestamp"]):
            return 400, {"Code": "InvalidTimeStamp.Format", "Message": params["Timestamp"]}
        sent_at = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs(datetime.now(UTC) - sent_at) > timedelta(minutes=15):
            return 400, {"Code": "InvalidTimeStamp.Expired", "Message": params["Timestamp"]}
        if params["AccessKeyId"] != KEY_ID:
            return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "no such key"}
        if not hmac.compare_digest(params["Signature"], _fake_signature(params, self.secret)):
            return 400, {
                "Code": "SignatureDoesNotMatch",
                "Message": "Specified signature is not matched with our calculation.",
            }
        with self.lock:
            if params["SignatureNonce"] in self.nonces:
                return 400, {"Code": "SignatureNonceUsed", "Message": "nonce already used"}
            self.nonces.add(params["SignatureNonce"])
        if self.stalling:
            self.stall.wait(5)
        if self.forced is not None:
            status, code = self.forced
            return status, {"Code": code, "Message": "forced by test"}
        if not re.fullmatch(r"1[0-9]{10}", params["PhoneNumbers"]):
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "illegal number"}
        with self.lock:
            self.issued += 1
            biz_id = f"{900000000000000000 + self.issued}^0"
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id}


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeAliyun) -> None:
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected in the timeout test


class _FakeHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        assert isinstance(self.server, _FakeServer)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, reply = self.server.state.answer(self.headers, body)
        if reply is None:
            raw, ctype = b"<html><body>503 Service Unavailable</body></html>", "text/html"
        else:
            reply["RequestId"] = str(uuid.uuid4()).upper()
            raw, ctype = json.dumps(reply).encode(), "application/json;charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_aliyun(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAliyun]:
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    state = FakeAliyun(secret=SECRET)
    server = _FakeServer(state)
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stall.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def _gateway(endpoint: str, **overrides: Any) -> AliyunSmsGateway:
    settings: dict[str, Any] = {
        "endpoint": endpoint,
        "access_key_id": KEY_ID,
        "access_key_secret": SECRET,
        "sign_name": SIGN_NAME,
        "template_code": TEMPLATE_CODE,
        "timeout": 5,
    }
    settings.update(overrides)
    return AliyunSmsGateway(**settings)


def _otp(to: str = "+8613800000000", data: dict[str, str] | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        to=to,
        channel="sms",
        subject="",
        text="Your code is 123456",
        data={"code": "123456"} if data is None else data,
    )


# -- sending -----------------------------------------------------------------------------


def test_send_returns_biz_id_and_server_saw_the_documented_parameters(
    fake_aliyun: FakeAliyun,
) -> None:
    assert _gateway(fake_aliyun.url).send(_otp()) == FIRST_BIZ_ID

    [seen] = fake_aliyun.requests
    assert seen["PhoneNumbers"] == "13800000000"
    assert seen["SignName"] == SIGN_NAME
    assert seen["TemplateCode"] == TEMPLATE_CODE
    assert seen["TemplateParam"] == '{"code":"123456"}'
    assert seen["Action"] == "SendSms"
    assert seen["Version"] == "2017-05-25"
    assert seen["Format"] == "JSON"
    assert seen["RegionId"] == "cn-hangzhou"
    assert seen["AccessKeyId"] == KEY_ID
    assert seen["SignatureMethod"] == "HMAC-SHA1"
    assert seen["SignatureVersion"] == "1.0"
    assert _TIMESTAMP.fullmatch(seen["Timestamp"])
    assert set(seen) == {*_REQUIRED, "RegionId", "TemplateParam"}
    assert all(SECRET not in value for value in seen.values())


def test_unicode_and_reserved_characters_are_signed_correctly(fake_aliyun: FakeAliyun) -> None:
    data = {"name": "张 三*~", "code": "1+2=3&4/5"}

    assert _gateway(fake_aliyun.url).send(_otp(data=data)) == FIRST_BIZ_ID
    assert fake_aliyun.requests[0]["TemplateParam"] == '{"name":"张 三*~","code":"1+2=3&4/5"}'


def test_every_request_carries_a_fresh_nonce(fake_aliyun: FakeAliyun) -> None:
    gateway = _gateway(fake_aliyun.url)

    assert gateway.send(_otp()) == FIRST_BIZ_ID
    assert gateway.send(_otp()) == "900000000000000002^0"
    first, second = fake_aliyun.requests
    assert first["SignatureNonce"] != second["SignatureNonce"]


def test_replayed_nonce_is_refused(
    fake_aliyun: FakeAliyun, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway = _gateway(fake_aliyun.url)
    monkeypatch.setattr(gateway, "_new_nonce", lambda: "fixed-nonce-0001")
    assert gateway.send(_otp()) == FIRST_BIZ_ID

    with pytest.raises(DeliveryError) as caught:
        gateway.send(_otp())

    assert caught.value.provider_code == "SignatureNonceUsed"
    assert caught.value.permanent is False


# -- failures ----------------------------------------------------------------------------


def test_wrong_secret_is_a_permanent_signature_failure_and_never_leaks(
    fake_aliyun: FakeAliyun, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-secret-8d1e5b02"
    caplog.set_level(logging.DEBUG)
    gateway = _gateway(fake_aliyun.url, access_key_secret=wrong)

    with pytest.raises(DeliveryError) as caught:
        gateway.send(_otp())

    assert caught.value.permanent is True
    assert caught.value.provider_code == "SignatureDoesNotMatch"
    for text in (str(caught.value), repr(caught.value), repr(gateway), caplog.text):
        assert wrong not in text
        assert SECRET not in text
    assert "SignatureDoesNotMatch" in caplog.text


def test_unknown_access_key_id_is_permanent(fake_aliyun: FakeAliyun) -> None:
    with pytest.raises(DeliveryError) as caught:
        _gateway(fake_aliyun.url, access_key_id="LTAI-nobody").send(_otp())

    assert caught.value.permanent is True
    assert caught.value.provider_code == "InvalidAccessKeyId.NotFound"


def test_illegal_number_is_permanent(fake_aliyun: FakeAliyun) -> None:
    # A Beijing landline: valid E.164, but not a mobile number Aliyun can text.
    with pytest.raises(DeliveryError) as caught:
        _gateway(fake_aliyun.url).send(_otp(to="+861012345678"))

    assert caught.value.permanent is True
    assert caught.value.provider_code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert fake_aliyun.requests[0]["PhoneNumbers"] == "1012345678"


def test_server_down_is_transient(fake_aliyun: FakeAliyun) -> None:
    fake_aliyun.down = True

    with pytest.raises(DeliveryError) as caught:
        _gateway(fake_aliyun.url).send(_otp())

    assert caught.value.permanent is False
    assert caught.value.provider_code == "HTTP503"


def test_connection_refused_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more.

    with pytest.raises(DeliveryError) as caught:
        _gateway(f"http://127.0.0.1:{port}/").send(_otp())

    assert caught.value.permanent is False
    assert caught.value.provider_code == "NetworkError"
    assert SECRET not in str(caught.value)


def test_timeout_is_transient(fake_aliyun: FakeAliyun) -> None:
    fake_aliyun.stalling = True

    with pytest.raises(DeliveryError) as caught:
        _gateway(fake_aliyun.url, timeout=1).send(_otp())

    assert caught.value.permanent is False
    assert caught.value.provider_code == "Timeout"


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (200, "isv.BUSINESS_LIMIT_CONTROL", False),
        (400, "Throttling.User", False),
        (503, "ServiceUnavailable", False),
        (500, "InternalError", False),
        (200, "isp.SYSTEM_ERROR", False),
        (200, "isv.AMOUNT_NOT_ENOUGH", True),
        (200, "isv.SMS_TEMPLATE_ILLEGAL", True),
        (200, "isv.SMS_SIGNATURE_ILLEGAL", True),
        (200, "isv.TEMPLATE_MISSING_PARAMETERS", True),
    ],
)
def test_error_codes_map_to_retryability(
    fake_aliyun: FakeAliyun, status: int, code: str, permanent: bool
) -> None:
    fake_aliyun.forced = (status, code)

    with pytest.raises(DeliveryError) as caught:
        _gateway(fake_aliyun.url).send(_otp())

    assert caught.value.permanent is permanent
    assert caught.value.provider_code == code


@pytest.mark.parametrize(
    "to", ["13800000000", "+86 138 0000 0000", "+8613800000000,+8613900000000", "a@b.example"]
)
def test_malformed_recipient_is_rejected_before_sending(fake_aliyun: FakeAliyun, to: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        _gateway(fake_aliyun.url).send(_otp(to=to))

    assert caught.value.permanent is True
    assert caught.value.provider_code == "isv.MOBILE_NUMBER_ILLEGAL"
    assert fake_aliyun.requests == []


def test_non_sms_channel_is_refused(fake_aliyun: FakeAliyun) -> None:
    message = OutgoingMessage(to="a@b.example", channel="email", subject="s", text="t")

    with pytest.raises(DeliveryError) as caught:
        _gateway(fake_aliyun.url).send(message)

    assert caught.value.provider_code == "UnsupportedChannel"
    assert caught.value.permanent is True


def test_endpoint_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        _gateway("file:///etc/passwd")


# -- pure functions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+8613800000000", "13800000000"),
        ("+85291234567", "85291234567"),
        ("+447700900123", "447700900123"),
    ],
)
def test_normalize_phone(e164: str, expected: str) -> None:
    assert normalize_phone(e164) == expected


def test_percent_encode_follows_rfc3986() -> None:
    assert percent_encode("AZaz09-_.~") == "AZaz09-_.~"
    assert percent_encode("a b*c") == "a%20b%2Ac"
    assert percent_encode("/:+=&") == "%2F%3A%2B%3D%26"
    assert percent_encode("张") == "%E5%BC%A0"


def test_signature_matches_aliyun_documented_example() -> None:
    # The worked example of Aliyun's RPC signature documentation (ECS DescribeRegions, GET,
    # AccessKeyId "testid", secret "testsecret").
    params = {
        "Timestamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    }
    assert sign_rpc(params, "testsecret", method="GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_send_sms_signature_known_answer() -> None:
    params = {
        "Version": "2017-05-25",
        "Action": "SendSms",
        "Format": "JSON",
        "AccessKeyId": "testid",
        "PhoneNumbers": "13800000000",
        "RegionId": "cn-hangzhou",
        "SignName": "港签",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_123456789",
        "TemplateParam": '{"code":"123456"}',
        "Timestamp": "2024-01-02T03:04:05Z",
        "Signature": "ignored: never part of what is signed",
    }
    # Written out by hand from the documented rules.
    canonical = (
        "AccessKeyId=testid&Action=SendSms&Format=JSON&PhoneNumbers=13800000000"
        "&RegionId=cn-hangzhou&SignName=%E6%B8%AF%E7%AD%BE&SignatureMethod=HMAC-SHA1"
        "&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0"
        "&TemplateCode=SMS_123456789&TemplateParam=%7B%22code%22%3A%22123456%22%7D"
        "&Timestamp=2024-01-02T03%3A04%3A05Z&Version=2017-05-25"
    )
    to_sign = (
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DSendSms%26Format%3DJSON"
        "%26PhoneNumbers%3D13800000000%26RegionId%3Dcn-hangzhou"
        "%26SignName%3D%25E6%25B8%25AF%25E7%25AD%25BE%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0"
        "%26TemplateCode%3DSMS_123456789"
        "%26TemplateParam%3D%257B%2522code%2522%253A%2522123456%2522%257D"
        "%26Timestamp%3D2024-01-02T03%253A04%253A05Z%26Version%3D2017-05-25"
    )
    mac = hmac.new(b"testsecret&", to_sign.encode("ascii"), hashlib.sha1).digest()
    expected = base64.b64encode(mac).decode("ascii")

    assert canonical_query(params) == canonical
    assert string_to_sign(params) == to_sign
    assert sign_rpc(params, "testsecret") == expected
    assert expected == _fake_signature(params, "testsecret")


def test_transient_classification() -> None:
    assert aliyun.is_transient("Throttling.Api", 400) is True
    assert aliyun.is_transient("SignatureDoesNotMatch", 400) is False
    assert aliyun.is_transient("", 502) is True
    assert aliyun.is_transient("", 429) is True
