"""TencentFaceIdProvider against a local fake of the FaceID API (version 2018-03-01).

The fake verifies TC3-HMAC-SHA256 with its own implementation (``_fake_authorization`` below,
which also reproduces Tencent's published example), not with the module's, so a wrong signing
implementation in the provider fails these tests instead of agreeing with itself.

All people here are synthetic: ID numbers are made up with a correct GB 11643 check character,
phones are 138000000xx test numbers and card numbers are Luhn-valid runs of zeros.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from portsign.accounts.realname import tencent
from portsign.accounts.realname.base import Answer, FaceSession, Outcome, RealNameProvider
from portsign.accounts.realname.tencent import (
    BANK4_RESULTS,
    CARRIER3_RESULTS,
    ID2_RESULTS,
    TencentFaceIdError,
    TencentFaceIdProvider,
    authorization,
    canonical_request,
    mainland_phone,
    scrub,
    signing_key,
    string_to_sign,
    utc_date,
)
from portsign.common.cn_ids import normalize_id_number

SECRET_ID = "AKIDfakeFaceId00000000000000000000"
SECRET_KEY = "fake-secret-key-5b1e0c93d2a7"
RULE_ID = "7"
REGION = "ap-guangzhou"
MATCH, MISMATCH, ERROR = Outcome.MATCH, Outcome.MISMATCH, Outcome.ERROR

# -- synthetic people ----------------------------------------------------------------------

_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643(body: str) -> str:
    """The check character of a 17-digit ID number body (own implementation for the fake)."""
    total = sum(int(c) * w for c, w in zip(body, _GB11643_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def _id(body: str) -> str:
    return body + gb11643(body)


ID_A = _id("11010119900307123")  # on record with the fake's sources
ID_B = _id("44030420010615876")  # valid, but no source has a record of it
ID_BAD = ID_A[:17] + ("0" if ID_A[17] != "0" else "1")  # wrong check character
NAME_A = "测试甲"
NAME_B = "测试乙"
PHONE_A = "+8613800000000"
PHONE_B = "+8613800000001"
CARD_A = "6222000000000000004"
CARD_B = "6217000000000000004"


@dataclass(frozen=True)
class Person:
    name: str
    phone: str  # 11 digits, as Tencent receives it
    card: str


RECORDS = {ID_A: Person(NAME_A, "13800000000", CARD_A)}

# Result descriptions as the FaceID API documents them.
CARRIER3_TEXT = {
    "0": "三要素信息一致",
    "-4": "三要素信息不一致",
    "-6": "手机号码不合法",
    "-7": "身份证号码有误",
    "-8": "姓名校验不通过",
    "-9": "没有记录",
    "-11": "验证中心服务繁忙",
    "-12": "认证次数超过当日限制，请次日重试",
}
BANK4_TEXT = {
    "0": "认证通过",
    "-1": "认证未通过",
    "-2": "姓名校验不通过",
    "-3": "身份证号码有误",
    "-4": "银行卡号码有误",
    "-5": "手机号码不合法",
    "-6": "持卡人信息有误",
    "-7": "未开通无卡支付",
    "-8": "此卡被没收",
    "-9": "无效卡号",
    "-10": "此卡无对应发卡行",
    "-11": "该卡未初始化或睡眠卡",
    "-12": "作弊卡、吞卡",
    "-13": "此卡已挂失",
    "-14": "该卡已过期",
    "-15": "受限制的卡",
    "-16": "密码错误次数超限",
    "-17": "发卡行不支持此交易",
    "-18": "验证中心服务繁忙",
    "-19": "验证次数超限，请次日重试",
    "-20": "该证件号暂不支持核验，当前仅支持二代身份证",
}
ID2_TEXT = {
    "0": "姓名和身份证号一致",
    "-1": "姓名和身份证号不一致",
    "-2": "非法身份证号（长度、校验位等不正确）",
    "-3": "非法姓名（长度、格式等不正确）",
    "-4": "证件库服务异常",
    "-5": "证件库中无此身份证记录",
    "-6": "权威比对系统升级中，请稍后再试",
    "-7": "认证次数超过当日限制",
}
UNKNOWN_TEXT = "未知结果"

# -- the fake's own TC3-HMAC-SHA256 ----------------------------------------------------------

_AUTHORIZATION = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[a-z]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})"
)


def _derive(secret_key: str, date: str, service: str) -> list[bytes]:
    """[SecretDate, SecretService, SecretSigning]."""
    keys = [hmac.digest(b"TC3" + secret_key.encode(), date.encode(), "sha256")]
    for message in (service, "tc3_request"):
        keys.append(hmac.digest(keys[-1], message.encode(), "sha256"))
    return keys


def _fake_signature(
    secret_key: str,
    *,
    headers: dict[str, str],
    signed: list[str],
    body: bytes,
    timestamp: str,
    date: str,
    service: str,
) -> str:
    lines = "".join(f"{name}:{headers[name].strip().lower()}\n" for name in signed)
    canonical = f"POST\n/\n\n{lines}\n{';'.join(signed)}\n{hashlib.sha256(body).hexdigest()}"
    hashed = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n{hashed}"
    return hmac.new(_derive(secret_key, date, service)[-1], to_sign.encode(), "sha256").hexdigest()


# -- the fake server ---------------------------------------------------------------------


class _Refusal(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code, self.message = code, message


@dataclass
class Seen:
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]


@dataclass
class FakeFaceId:
    secret_key: str
    url: str = ""
    down: bool = False  # answer every request with an HTML 503
    garbage: bool = False  # answer 200 with something that is not JSON
    empty: bool = False  # answer valid requests with a Response that has only a RequestId
    error: tuple[str, str] | None = None  # Response.Error (Code, Message) for valid requests
    result: str | None = None  # the Result of every element check
    stalling: bool = False  # hold the reply until `stall` is set
    stall: threading.Event = field(default_factory=threading.Event)
    requests: list[Seen] = field(default_factory=list)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- protocol ------------------------------------------------------------------------

    def answer(self, raw_headers: Any, body: bytes) -> tuple[int, dict[str, Any] | None]:
        if self.down:
            return 503, None
        if self.garbage:
            return 200, None
        headers = {name.lower(): value for name, value in raw_headers.items()}
        with self.lock:
            self.issued += 1
            request_id = f"req-{self.issued:04d}"
        try:
            params = self._params(body)
            self.requests.append(Seen(headers, params))
            action = self._authenticate(headers, body)
            if self.stalling:
                self.stall.wait(5)
            if self.error is not None:
                raise _Refusal(*self.error)
            reply = {} if self.empty else self._dispatch(action, params)
        except _Refusal as refusal:
            reply = {"Error": {"Code": refusal.code, "Message": refusal.message}}
        return 200, {"Response": {**reply, "RequestId": request_id}}

    def _params(self, body: bytes) -> dict[str, Any]:
        try:
            params = json.loads(body.decode("utf-8"))
        except ValueError:
            raise _Refusal("InvalidParameter", "the body is not JSON") from None
        if not isinstance(params, dict):
            raise _Refusal("InvalidParameter", "the body is not a JSON object")
        return params

    def _authenticate(self, headers: dict[str, str], body: bytes) -> str:
        for name in ("authorization", "x-tc-action", "x-tc-timestamp", "x-tc-version"):
            if not headers.get(name):
                raise _Refusal("MissingParameter", f"missing header {name}")
        if headers["x-tc-version"] != "2018-03-01":
            raise _Refusal("NoSuchVersion", f"version {headers['x-tc-version']} does not exist")
        if headers.get("content-type") != "application/json; charset=utf-8":
            raise _Refusal("InvalidParameter", "unsupported content type")
        timestamp = headers["x-tc-timestamp"]
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            raise _Refusal("AuthFailure.SignatureExpire", "the signature has expired")
        match = _AUTHORIZATION.fullmatch(headers["authorization"])
        if match is None:
            raise _Refusal("AuthFailure.InvalidAuthorization", "malformed Authorization")
        signed = match["signed"].split(";")
        if not {"content-type", "host"} <= set(signed) or signed != sorted(signed):
            raise _Refusal("AuthFailure.InvalidAuthorization", "bad SignedHeaders")
        if match["id"] != SECRET_ID:
            raise _Refusal("AuthFailure.SecretIdNotFound", "the SecretId does not exist")
        date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
        expected = _fake_signature(
            self.secret_key,
            headers=headers,
            signed=signed,
            body=body,
            timestamp=timestamp,
            date=date,
            service="faceid",
        )
        if (
            match["date"] != date
            or match["service"] != "faceid"
            or not hmac.compare_digest(match["signature"], expected)
        ):
            raise _Refusal(
                "AuthFailure.SignatureFailure",
                "The provided credentials could not be validated. "
                "Please check your signature is correct.",
            )
        return headers["x-tc-action"]

    def _dispatch(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        handlers = {
            "PhoneVerification": self._phone_verification,
            "BankCard4EVerification": self._bank_card_4e,
            "IdCardVerification": self._id_card_verification,
            "DetectAuth": self._detect_auth,
            "GetDetectInfoEnhanced": self._get_detect_info,
        }
        if action not in handlers:
            raise _Refusal("InvalidAction", f"no action {action}")
        return handlers[action](params)

    # -- actions -------------------------------------------------------------------------

    @staticmethod
    def _require(params: dict[str, Any], *names: str) -> list[str]:
        missing = [name for name in names if not isinstance(params.get(name), str)]
        if missing:
            raise _Refusal("MissingParameter", f"missing {missing}")
        return [params[name] for name in names]

    def _check(self, code: str, texts: dict[str, str]) -> dict[str, Any]:
        code = self.result if self.result is not None else code
        return {"Result": code, "Description": texts.get(code, UNKNOWN_TEXT)}

    def _phone_verification(self, params: dict[str, Any]) -> dict[str, Any]:
        id_card, name, phone = self._require(params, "IdCard", "Name", "Phone")
        person = RECORDS.get(id_card)
        if not _valid_id(id_card):
            code = "-7"
        elif not re.fullmatch(r"1[0-9]{10}", phone):
            code = "-6"
        elif not name:
            code = "-8"
        elif person is None:
            code = "-9"
        else:
            code = "0" if (name, phone) == (person.name, person.phone) else "-4"
        return {**self._check(code, CARRIER3_TEXT), "Isp": "移动"}

    def _bank_card_4e(self, params: dict[str, Any]) -> dict[str, Any]:
        name, card, phone, id_card = self._require(params, "Name", "BankCard", "Phone", "IdCard")
        person = RECORDS.get(id_card)
        if not name:
            code = "-2"
        elif not _valid_id(id_card):
            code = "-3"
        elif not re.fullmatch(r"[0-9]{12,19}", card):
            code = "-4"
        elif not re.fullmatch(r"1[0-9]{10}", phone):
            code = "-5"
        elif person is None or (name, card, phone) != (person.name, person.card, person.phone):
            code = "-1"
        else:
            code = "0"
        return self._check(code, BANK4_TEXT)

    def _id_card_verification(self, params: dict[str, Any]) -> dict[str, Any]:
        id_card, name = self._require(params, "IdCard", "Name")
        person = RECORDS.get(id_card)
        if not _valid_id(id_card):
            code = "-2"
        elif not name:
            code = "-3"
        elif person is None:
            code = "-5"
        else:
            code = "0" if name == person.name else "-1"
        return self._check(code, ID2_TEXT)

    def _detect_auth(self, params: dict[str, Any]) -> dict[str, Any]:
        rule_id, id_card, name, _redirect = self._require(
            params, "RuleId", "IdCard", "Name", "RedirectUrl"
        )
        if rule_id != RULE_ID:
            raise _Refusal("InvalidParameterValue.RuleIdNotExist", "RuleId不存在")
        with self.lock:
            token = f"0B1D5E7A-0000-4000-8000-{len(self.sessions) + 1:012d}"
            self.sessions[token] = {"IdCard": id_card, "Name": name, "ErrCode": None}
        return {"BizToken": token, "Url": f"https://faceid.example.invalid/h5?token={token}"}

    def _get_detect_info(self, params: dict[str, Any]) -> dict[str, Any]:
        token, rule_id = self._require(params, "BizToken", "RuleId")
        if rule_id != RULE_ID:
            raise _Refusal("InvalidParameterValue.RuleIdNotExist", "RuleId不存在")
        session = self.sessions.get(token)
        if session is None:
            raise _Refusal("InvalidParameterValue.BizTokenIllegal", "BizToken不合法")
        if session["ErrCode"] is None:  # the person has not finished: every field is null
            keys = ("ErrCode", "ErrMsg", "IdCard", "Name", "LiveStatus", "Comparestatus", "Sim")
            return {"Text": dict.fromkeys(keys), "IdCardData": None, "BestFrame": None}
        passed = session["ErrCode"] == 0
        text = {
            **session,
            "OcrIdCard": None,
            "LiveStatus": 0 if passed else session["ErrCode"],
            "Comparestatus": 0 if passed else None,
            "Sim": "93.05" if passed else None,
        }
        return {"Text": text, "IdCardData": None, "BestFrame": None}

    def finish(self, token: str, err_code: int, err_msg: str) -> None:
        self.sessions[token].update(ErrCode=err_code, ErrMsg=err_msg)


def _valid_id(number: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{17}[0-9X]", number)) and gb11643(number[:17]) == number[17]


class _FakeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeFaceId) -> None:
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.state = state

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected in the timeout test


class _FakeHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        assert isinstance(self.server, _FakeServer)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        status, reply = self.server.state.answer(self.headers, body)
        if reply is not None:
            raw, ctype = json.dumps(reply, ensure_ascii=False).encode(), "application/json"
        elif status == 200:
            raw, ctype = b"<html><body>captive portal</body></html>", "text/html"
        else:
            raw, ctype = b"<html><body>503 Service Unavailable</body></html>", "text/html"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFaceId]:
    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    state = FakeFaceId(secret_key=SECRET_KEY)
    server = _FakeServer(state)
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stall.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def _provider(endpoint: str, **overrides: Any) -> TencentFaceIdProvider:
    settings: dict[str, Any] = {
        "endpoint": endpoint,
        "secret_id": SECRET_ID,
        "secret_key": SECRET_KEY,
        "region": REGION,
        "rule_id": RULE_ID,
        "timeout": 5,
    }
    settings.update(overrides)
    return TencentFaceIdProvider(**settings)


def _assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in (SECRET_KEY, ID_A, ID_B, CARD_A, CARD_B):
            assert secret not in text


# -- the synthetic data is what it claims to be --------------------------------------------


def test_synthetic_id_numbers_have_correct_check_characters() -> None:
    # The worked example of GB 11643-1999 itself.
    assert gb11643("11010519491231002") == "X"
    assert normalize_id_number(ID_A) == ID_A
    assert normalize_id_number(ID_B) == ID_B
    assert not _valid_id(ID_BAD)


def test_provider_satisfies_the_protocol(fake: FakeFaceId) -> None:
    provider: RealNameProvider = _provider(fake.url)
    assert provider.id2(name=NAME_A, id_number=ID_A).outcome == MATCH


# -- element checks -----------------------------------------------------------------------


def test_carrier3_match_sends_the_documented_request(
    fake: FakeFaceId, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    answer = _provider(fake.url).carrier3(name=NAME_A, id_number=ID_A, phone=PHONE_A)

    assert answer == Answer(MATCH, "0", "三要素信息一致", "req-0001")
    [seen] = fake.requests
    assert seen.body == {"IdCard": ID_A, "Name": NAME_A, "Phone": "13800000000"}
    assert seen.headers["x-tc-action"] == "PhoneVerification"
    assert seen.headers["x-tc-version"] == "2018-03-01"
    assert seen.headers["x-tc-region"] == REGION
    assert seen.headers["content-type"] == "application/json; charset=utf-8"
    assert seen.headers["host"] == fake.url.removeprefix("http://")
    today = utc_date(int(seen.headers["x-tc-timestamp"]))
    assert seen.headers["authorization"].startswith(
        f"TC3-HMAC-SHA256 Credential={SECRET_ID}/{today}/faceid/tc3_request, "
        "SignedHeaders=content-type;host;x-tc-action, Signature="
    )
    assert "PhoneVerification" in caplog.text
    assert "req-0001" in caplog.text
    _assert_no_secrets(caplog.text, *seen.headers.values())
    assert "13800000000" not in caplog.text


def test_carrier3_mismatch(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).carrier3(name=NAME_A, id_number=ID_A, phone=PHONE_B)

    assert answer == Answer(MISMATCH, "-4", "三要素信息不一致", "req-0001")
    assert answer.retryable is False


def test_carrier3_malformed_id_number_is_a_mismatch(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).carrier3(name=NAME_A, id_number=ID_BAD, phone=PHONE_A)

    assert answer == Answer(MISMATCH, "-7", "身份证号码有误", "req-0001")


def test_carrier3_number_without_record_is_a_mismatch(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).carrier3(name=NAME_A, id_number=ID_B, phone=PHONE_A)

    assert answer == Answer(MISMATCH, "-9", "没有记录", "req-0001")


def test_bank4_match(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).bank4(
        name=NAME_A, id_number=ID_A, card_number=CARD_A, phone=PHONE_A
    )

    assert answer == Answer(MATCH, "0", "认证通过", "req-0001")
    [seen] = fake.requests
    assert seen.headers["x-tc-action"] == "BankCard4EVerification"
    assert seen.body == {
        "Name": NAME_A,
        "BankCard": CARD_A,
        "Phone": "13800000000",
        "IdCard": ID_A,
    }


def test_bank4_mismatch(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).bank4(
        name=NAME_A, id_number=ID_A, card_number=CARD_B, phone=PHONE_A
    )

    assert answer == Answer(MISMATCH, "-1", "认证未通过", "req-0001")


def test_id2_match(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).id2(name=NAME_A, id_number=ID_A)

    assert answer == Answer(MATCH, "0", "姓名和身份证号一致", "req-0001")
    [seen] = fake.requests
    assert seen.headers["x-tc-action"] == "IdCardVerification"
    assert seen.body == {"IdCard": ID_A, "Name": NAME_A}


def test_id2_mismatch(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).id2(name=NAME_B, id_number=ID_A)

    assert answer == Answer(MISMATCH, "-1", "姓名和身份证号不一致", "req-0001")


def test_id2_number_not_in_database_is_a_mismatch(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).id2(name=NAME_A, id_number=ID_B)

    assert answer == Answer(MISMATCH, "-5", "证件库中无此身份证记录", "req-0001")


def _run_check(provider: TencentFaceIdProvider, method: str) -> Answer:
    if method == "carrier3":
        return provider.carrier3(name=NAME_A, id_number=ID_A, phone=PHONE_A)
    if method == "bank4":
        return provider.bank4(name=NAME_A, id_number=ID_A, card_number=CARD_A, phone=PHONE_A)
    return provider.id2(name=NAME_A, id_number=ID_A)


_EXPECTED_TABLES: dict[str, dict[str, Outcome]] = {
    "carrier3": {
        "0": MATCH,
        **dict.fromkeys(["-4", "-6", "-7", "-8", "-9"], MISMATCH),
        **dict.fromkeys(["-11", "-12", "-5", "1", "-99"], ERROR),
    },
    "bank4": {
        "0": MATCH,
        **{str(-n): MISMATCH for n in range(1, 18)},
        **dict.fromkeys(["-18", "-19", "-20", "-21", "1"], ERROR),
    },
    "id2": {
        "0": MATCH,
        **dict.fromkeys(["-1", "-2", "-3", "-5"], MISMATCH),
        **dict.fromkeys(["-4", "-6", "-7", "-8", "1"], ERROR),
    },
}
_TEXTS = {"carrier3": CARRIER3_TEXT, "bank4": BANK4_TEXT, "id2": ID2_TEXT}


@pytest.mark.parametrize(
    ("method", "code", "outcome"),
    [
        (m, code, outcome)
        for m, table in _EXPECTED_TABLES.items()
        for code, outcome in table.items()
    ],
)
def test_result_codes_map_to_outcomes(
    fake: FakeFaceId, method: str, code: str, outcome: Outcome
) -> None:
    fake.result = code

    answer = _run_check(_provider(fake.url), method)

    assert answer == Answer(outcome, code, _TEXTS[method].get(code, UNKNOWN_TEXT), "req-0001")


def test_every_documented_code_is_in_the_module_tables() -> None:
    assert set(CARRIER3_RESULTS) == set(CARRIER3_TEXT)
    assert set(BANK4_RESULTS) == set(BANK4_TEXT)
    assert set(ID2_RESULTS) == set(ID2_TEXT)


@pytest.mark.parametrize("method", ["carrier3", "bank4", "id2"])
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("LimitExceeded", "请求频率超过限制"),
        ("InternalError", "内部错误"),
        ("FailedOperation.UnKnown", "内部未知错误"),
        ("UnauthorizedOperation.Arrears", "帐号已欠费"),
    ],
)
def test_provider_errors_are_error_answers(
    fake: FakeFaceId, method: str, code: str, message: str
) -> None:
    fake.error = (code, message)

    answer = _run_check(_provider(fake.url), method)

    assert answer == Answer(ERROR, code, message, "req-0001")
    assert answer.retryable is True


def test_error_text_is_scrubbed_of_the_elements_and_the_secret(fake: FakeFaceId) -> None:
    fake.error = (
        "InvalidParameterValue",
        f"IdCard {ID_A}, BankCard {CARD_A}, Phone 13800000000, key {SECRET_KEY} refused",
    )

    answer = _provider(fake.url).bank4(
        name=NAME_A, id_number=ID_A, card_number=CARD_A, phone=PHONE_A
    )

    assert answer == Answer(
        ERROR,
        "InvalidParameterValue",
        "IdCard ***, BankCard ***, Phone ***, key *** refused",
        "req-0001",
    )


# -- authentication -----------------------------------------------------------------------


def test_wrong_secret_is_a_signature_failure_and_never_leaks(
    fake: FakeFaceId, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-secret-8d1e5b02c4"
    caplog.set_level(logging.DEBUG)
    provider = _provider(fake.url, secret_key=wrong)

    answer = provider.carrier3(name=NAME_A, id_number=ID_A, phone=PHONE_A)
    with pytest.raises(TencentFaceIdError) as caught:
        provider.start_face(name=NAME_A, id_number=ID_A, return_url="https://p.example/done")

    assert answer == Answer(
        ERROR,
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
        "req-0001",
    )
    assert caught.value.provider_code == "AuthFailure.SignatureFailure"
    assert caught.value.request_id == "req-0002"
    texts = (str(caught.value), repr(caught.value), repr(provider), repr(answer), caplog.text)
    _assert_no_secrets(*texts)
    for text in texts:
        assert wrong not in text
    assert "AuthFailure.SignatureFailure" in caplog.text


def test_unknown_secret_id_is_refused(fake: FakeFaceId) -> None:
    answer = _provider(fake.url, secret_id="AKIDnobody").id2(name=NAME_A, id_number=ID_A)

    assert answer == Answer(
        ERROR, "AuthFailure.SecretIdNotFound", "the SecretId does not exist", "req-0001"
    )


def test_timestamp_more_than_five_minutes_old_is_refused(
    fake: FakeFaceId, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = _provider(fake.url)
    monkeypatch.setattr(provider, "_now", lambda: int(time.time()) - 400)

    answer = provider.id2(name=NAME_A, id_number=ID_A)

    assert answer == Answer(
        ERROR, "AuthFailure.SignatureExpire", "the signature has expired", "req-0001"
    )


def test_timestamp_a_little_off_still_signs_with_its_own_date(
    fake: FakeFaceId, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = _provider(fake.url)
    monkeypatch.setattr(provider, "_now", lambda: int(time.time()) - 200)

    assert provider.id2(name=NAME_A, id_number=ID_A) == Answer(
        MATCH, "0", "姓名和身份证号一致", "req-0001"
    )


def test_fake_checks_the_api_version(fake: FakeFaceId, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tencent, "API_VERSION", "2017-03-12")

    answer = _provider(fake.url).id2(name=NAME_A, id_number=ID_A)

    assert answer == Answer(ERROR, "NoSuchVersion", "version 2017-03-12 does not exist", "req-0001")


# -- face sessions ------------------------------------------------------------------------


def _start(fake: FakeFaceId, provider: TencentFaceIdProvider | None = None) -> FaceSession:
    provider = provider or _provider(fake.url)
    return provider.start_face(
        name=NAME_A, id_number=ID_A, return_url="https://portsign.example/account/me/"
    )


TOKEN_1 = "0B1D5E7A-0000-4000-8000-000000000001"


def test_start_face_returns_the_biz_token_and_url(fake: FakeFaceId) -> None:
    session = _start(fake)

    assert session == FaceSession(
        session_id=TOKEN_1, url=f"https://faceid.example.invalid/h5?token={TOKEN_1}"
    )
    [seen] = fake.requests
    assert seen.headers["x-tc-action"] == "DetectAuth"
    assert seen.body == {
        "RuleId": RULE_ID,
        "IdCard": ID_A,
        "Name": NAME_A,
        "RedirectUrl": "https://portsign.example/account/me/",
    }


def test_face_result_waits_until_the_person_finishes(fake: FakeFaceId) -> None:
    provider = _provider(fake.url)
    session = _start(fake, provider)

    answer = provider.face_result(session_id=session.session_id)

    assert answer == Answer(
        Outcome.PENDING, "Waiting", "the person has not finished the face check", "req-0002"
    )
    assert fake.requests[1].headers["x-tc-action"] == "GetDetectInfoEnhanced"
    assert fake.requests[1].body == {"BizToken": TOKEN_1, "RuleId": RULE_ID, "InfoType": "1"}


def test_face_result_success(fake: FakeFaceId) -> None:
    provider = _provider(fake.url)
    session = _start(fake, provider)
    fake.finish(session.session_id, 0, "成功")

    assert provider.face_result(session_id=session.session_id) == Answer(
        MATCH, "0", "成功", "req-0002"
    )


@pytest.mark.parametrize(
    ("err_code", "err_msg", "outcome"),
    [
        (1002, "疑似非真人录制", MISMATCH),
        (1005, "活体检测未通过", MISMATCH),
        (3004, "比对相似度未达到通过标准", MISMATCH),
        (15, "token已过期", MISMATCH),
        (16, "重试次数超限", MISMATCH),
        (4, "内部服务错误", ERROR),
        (1001, "调用活体引擎失败", ERROR),
        (202, "视频拉取失败", ERROR),
    ],
)
def test_face_result_failures(
    fake: FakeFaceId, err_code: int, err_msg: str, outcome: Outcome
) -> None:
    provider = _provider(fake.url)
    session = _start(fake, provider)
    fake.finish(session.session_id, err_code, err_msg)

    assert provider.face_result(session_id=session.session_id) == Answer(
        outcome, str(err_code), err_msg, "req-0002"
    )


def test_face_result_text_is_scrubbed_of_the_echoed_id_number(fake: FakeFaceId) -> None:
    provider = _provider(fake.url)
    session = _start(fake, provider)
    fake.finish(session.session_id, 3004, f"{ID_A} 比对相似度未达到通过标准")

    answer = provider.face_result(session_id=session.session_id)

    assert answer == Answer(MISMATCH, "3004", "*** 比对相似度未达到通过标准", "req-0002")


def test_face_result_of_an_unknown_session_is_an_error(fake: FakeFaceId) -> None:
    answer = _provider(fake.url).face_result(session_id="not-a-token")

    assert answer == Answer(
        ERROR, "InvalidParameterValue.BizTokenIllegal", "BizToken不合法", "req-0001"
    )


def test_face_result_provider_error(fake: FakeFaceId) -> None:
    provider = _provider(fake.url)
    session = _start(fake, provider)
    fake.error = ("InternalError", "内部错误")

    assert provider.face_result(session_id=session.session_id) == Answer(
        ERROR, "InternalError", "内部错误", "req-0002"
    )


def test_start_face_error_raises_a_503_domain_error(fake: FakeFaceId) -> None:
    fake.error = ("InvalidParameterValue.RuleIdDisabled", f"RuleId 7 disabled for {ID_A}")

    with pytest.raises(TencentFaceIdError) as caught:
        _start(fake)

    error = caught.value
    assert (error.provider_code, error.request_id, error.status) == (
        "InvalidParameterValue.RuleIdDisabled",
        "req-0001",
        503,
    )
    assert error.code == "realname_unavailable"
    assert error.detail == "RuleId 7 disabled for ***"
    assert error.answer() == Answer(
        ERROR, "InvalidParameterValue.RuleIdDisabled", "RuleId 7 disabled for ***", "req-0001"
    )
    _assert_no_secrets(str(error), repr(error))


def test_face_needs_a_rule_id(fake: FakeFaceId) -> None:
    provider = _provider(fake.url, rule_id="")

    with pytest.raises(TencentFaceIdError) as caught:
        _start(fake, provider)
    answer = provider.face_result(session_id=TOKEN_1)

    assert caught.value.provider_code == "MissingRuleId"
    assert answer == Answer(ERROR, "MissingRuleId", "no FaceID RuleId is configured")
    assert fake.requests == []


# -- transport failures -------------------------------------------------------------------


def test_http_503_is_an_error(fake: FakeFaceId) -> None:
    fake.down = True
    provider = _provider(fake.url)

    answer = provider.id2(name=NAME_A, id_number=ID_A)
    with pytest.raises(TencentFaceIdError) as caught:
        _start(fake, provider)

    assert answer == Answer(ERROR, "HTTP503", "HTTP 503 without a FaceID reply", "")
    assert caught.value.provider_code == "HTTP503"


def test_reply_that_is_not_json_is_an_error(fake: FakeFaceId) -> None:
    fake.garbage = True

    answer = _provider(fake.url).carrier3(name=NAME_A, id_number=ID_A, phone=PHONE_A)

    assert answer == Answer(ERROR, "InvalidResponse", "HTTP 200 without a FaceID reply", "")


def test_reply_without_result_is_an_error(fake: FakeFaceId) -> None:
    fake.empty = True

    answer = _provider(fake.url).carrier3(name=NAME_A, id_number=ID_A, phone=PHONE_A)

    assert answer == Answer(ERROR, "InvalidResponse", "the reply has no Result", "req-0001")


def test_start_face_reply_without_token_is_an_error(fake: FakeFaceId) -> None:
    fake.empty = True

    with pytest.raises(TencentFaceIdError) as caught:
        _start(fake)

    assert (caught.value.provider_code, caught.value.request_id) == ("InvalidResponse", "req-0001")


def test_timeout_is_an_error(fake: FakeFaceId) -> None:
    fake.stalling = True

    answer = _provider(fake.url, timeout=1).id2(name=NAME_A, id_number=ID_A)

    assert (answer.outcome, answer.provider_code, answer.request_id) == (ERROR, "Timeout", "")
    assert answer.description.startswith("FaceID endpoint unreachable")


def test_connection_refused_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port any more.

    answer = _provider(f"http://127.0.0.1:{port}").id2(name=NAME_A, id_number=ID_A)

    assert (answer.outcome, answer.provider_code, answer.request_id) == (
        ERROR,
        "NetworkError",
        "",
    )
    _assert_no_secrets(answer.description)


def test_endpoint_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        _provider("file:///etc/passwd")


def test_repr_hides_the_secret() -> None:
    text = repr(_provider("https://faceid.tencentcloudapi.com"))

    assert SECRET_ID in text
    assert SECRET_KEY not in text


# -- signing: Tencent's published example --------------------------------------------------

# The worked example of Tencent Cloud's "签名方法 v3" documentation (CVM DescribeInstances in
# ap-guangzhou). The documentation writes the SecretId as "AKID" + 32 asterisks and the
# SecretKey as 32 asterisks, and the published derived keys and signature are exactly those of
# these literal strings, so the example can be reproduced end to end.
DOC_SECRET_ID = "AKID" + "*" * 32
DOC_SECRET_KEY = "*" * 32
DOC_TIMESTAMP = 1551113065
DOC_PAYLOAD = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
DOC_CANONICAL = (
    "POST\n/\n\n"
    "content-type:application/json; charset=utf-8\n"
    "host:cvm.tencentcloudapi.com\n"
    "x-tc-action:describeinstances\n"
    "\n"
    "content-type;host;x-tc-action\n"
    "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
)
DOC_STRING_TO_SIGN = (
    "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
    "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
)
DOC_SECRET_DATE = "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0"
DOC_SECRET_SERVICE = "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f"
DOC_SECRET_SIGNING = "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
DOC_SIGNATURE = "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
DOC_AUTHORIZATION = (
    f"TC3-HMAC-SHA256 Credential={DOC_SECRET_ID}/2019-02-25/cvm/tc3_request, "
    f"SignedHeaders=content-type;host;x-tc-action, Signature={DOC_SIGNATURE}"
)


def test_documented_example_payload_and_canonical_request_hashes() -> None:
    assert hashlib.sha256(DOC_PAYLOAD).hexdigest() == DOC_CANONICAL[-64:]
    assert hashlib.sha256(DOC_CANONICAL.encode()).hexdigest() == DOC_STRING_TO_SIGN[-64:]


def test_canonical_request_and_string_to_sign_match_the_documented_example() -> None:
    canonical = canonical_request(
        host="cvm.tencentcloudapi.com", action="DescribeInstances", payload=DOC_PAYLOAD
    )

    assert canonical == DOC_CANONICAL
    assert string_to_sign(timestamp=DOC_TIMESTAMP, service="cvm", canonical=canonical) == (
        DOC_STRING_TO_SIGN
    )


def test_derived_keys_match_the_documented_example() -> None:
    assert signing_key(DOC_SECRET_KEY, "2019-02-25", "cvm").hex() == DOC_SECRET_SIGNING
    assert [key.hex() for key in _derive(DOC_SECRET_KEY, "2019-02-25", "cvm")] == [
        DOC_SECRET_DATE,
        DOC_SECRET_SERVICE,
        DOC_SECRET_SIGNING,
    ]


def test_authorization_matches_the_documented_example() -> None:
    assert (
        authorization(
            secret_id=DOC_SECRET_ID,
            secret_key=DOC_SECRET_KEY,
            host="cvm.tencentcloudapi.com",
            action="DescribeInstances",
            payload=DOC_PAYLOAD,
            timestamp=DOC_TIMESTAMP,
            service="cvm",
        )
        == DOC_AUTHORIZATION
    )


def test_fake_signature_matches_the_documented_example() -> None:
    headers = {
        "content-type": "application/json; charset=utf-8",
        "host": "cvm.tencentcloudapi.com",
        "x-tc-action": "DescribeInstances",
    }
    signature = _fake_signature(
        DOC_SECRET_KEY,
        headers=headers,
        signed=["content-type", "host", "x-tc-action"],
        body=DOC_PAYLOAD,
        timestamp=str(DOC_TIMESTAMP),
        date="2019-02-25",
        service="cvm",
    )

    assert signature == DOC_SIGNATURE


def test_credential_date_is_the_utc_date() -> None:
    # 1551113065 is 2019-02-26 00:44:25 in Beijing but still 2019-02-25 in UTC.
    assert utc_date(DOC_TIMESTAMP) == "2019-02-25"


# -- small helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "expected"),
    [("+8613800000000", "13800000000"), ("13800000000", "13800000000")],
)
def test_mainland_phone(phone: str, expected: str) -> None:
    assert mainland_phone(phone) == expected


def test_scrub_replaces_long_values_and_lower_case_x() -> None:
    # The worked example of GB 11643-1999, which ends in X.
    example = "11010519491231002X"
    text = f"{example.lower()} and {CARD_A} and 测试甲"

    assert scrub(text, [example, CARD_A, "测试甲"]) == "*** and *** and 测试甲"


def test_enterprise_check_is_not_offered_by_faceid(fake):
    provider = _provider(fake.url)
    answer = provider.enterprise3(
        name="示例有限公司", uscc="91310000717860235R", legal_rep_name="示例"
    )
    assert (answer.outcome, answer.provider_code) == (Outcome.ERROR, "Unsupported")
    assert fake.requests == []
