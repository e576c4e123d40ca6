"""Tencent Cloud FaceID (慧眼 / 人脸核身) as the real-name provider, API version 2018-03-01.

Protocol (TencentCloud API 3.0, "signature v3", TC3-HMAC-SHA256):

1. Every call is ``POST /`` to ``faceid.tencentcloudapi.com`` with a JSON body holding the
   action's own parameters. The common parameters travel as headers: ``X-TC-Action``,
   ``X-TC-Version: 2018-03-01``, ``X-TC-Timestamp`` (UNIX seconds; the server refuses a request
   more than 5 minutes off its clock), ``X-TC-Region`` and ``Authorization``.
2. ``CanonicalRequest`` is, joined with ``\\n``: the method ``POST``, the URI ``/``, an empty
   query string, the canonical headers ``content-type:application/json; charset=utf-8\\n``
   ``host:<host>\\n`` ``x-tc-action:<action in lower case>\\n`` (names and values lower-cased,
   sorted by name, each line ending in ``\\n`` -- hence the blank line after them), the signed
   header names ``content-type;host;x-tc-action`` and the lower-case hex SHA-256 of the exact
   body bytes.
3. ``StringToSign = "TC3-HMAC-SHA256\\n" + timestamp + "\\n" + <date>/faceid/tc3_request + "\\n"
   + hex(sha256(CanonicalRequest))``, where ``<date>`` is the UTC date (``YYYY-MM-DD``) of the
   timestamp, never a local one.
4. The key is derived: ``SecretDate = HMAC-SHA256("TC3" + SecretKey, date)``,
   ``SecretService = HMAC-SHA256(SecretDate, "faceid")``,
   ``SecretSigning = HMAC-SHA256(SecretService, "tc3_request")``; the signature is
   ``hex(HMAC-SHA256(SecretSigning, StringToSign))``.
5. ``Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/faceid/tc3_request,
   SignedHeaders=content-type;host;x-tc-action, Signature=<signature>``.

The reply is HTTP 200 with ``{"Response": {..., "RequestId": "..."}}``. A failed call (bad
signature, quota, internal error, ...) carries ``Response.Error = {"Code", "Message"}`` instead
of the action's fields. The element checks answer in ``Response.Result`` (a string code,
``"0"`` meaning that the elements belong together) plus ``Response.Description``; the codes
and the `Outcome` each one maps to are in the ``*_RESULTS`` tables below. A face session is
started with ``DetectAuth`` (its ``BizToken`` is the session id, ``Url`` the page the person
opens) and read back with ``GetDetectInfoEnhanced``, whose ``Text.ErrCode`` stays null until
the person has finished and is ``0`` on success.

The SecretKey is only ever an HMAC key: it is never sent, logged or put into an exception or an
`Answer`. Identity numbers and card numbers go to Tencent in the body and nowhere else: logs
carry the action, outcome, code and RequestId only, and text coming back from the server is
scrubbed of the secret and of every element of the request before it is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from portsign.accounts.realname.base import Answer, FaceSession, Outcome, RealNameProvider
from portsign.common.errors import DomainError

logger = logging.getLogger(__name__)

API_VERSION = "2018-03-01"
SERVICE = "faceid"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNED_HEADERS = "content-type;host;x-tc-action"
DEFAULT_ENDPOINT = "https://faceid.tencentcloudapi.com"

# The provider code of a face session the person has not finished; the domain layer waits on it.
FACE_WAITING = "Waiting"
# Ask GetDetectInfoEnhanced for the text part only, not the ID card photos, frames or video.
_FACE_INFO_TYPE = "1"
_FACE_PERSONAL_FIELDS = ("IdCard", "Name", "OcrIdCard", "OcrName", "Mobile")
_MAX_DETAIL = 300
_MIN_SCRUB_LENGTH = 4

# PhoneVerification.Result. 0 and -4 are the billed answers; -6/-7/-8 reject a malformed
# phone, ID number or name (they can never match, retrying will not help); -9 means the carrier
# has no record of the number, so it cannot belong to this person; -11/-12 mean the source did
# not answer (busy, daily limit).
CARRIER3_RESULTS: Mapping[str, Outcome] = {
    "0": Outcome.MATCH,  # 三要素信息一致
    "-4": Outcome.MISMATCH,  # 三要素信息不一致
    "-6": Outcome.MISMATCH,  # 手机号码不合法
    "-7": Outcome.MISMATCH,  # 身份证号码有误
    "-8": Outcome.MISMATCH,  # 姓名校验不通过
    "-9": Outcome.MISMATCH,  # 没有记录
    "-11": Outcome.ERROR,  # 验证中心服务繁忙
    "-12": Outcome.ERROR,  # 认证次数超过当日限制，请次日重试
}

# BankCard4EVerification.Result. -1 and -6..-17 are billed answers from the card's bank that it
# does not vouch for these elements; -2..-5 reject malformed input; -18/-19 mean the source did
# not answer; -20 means it cannot check this kind of document at all.
BANK4_RESULTS: Mapping[str, Outcome] = {
    "0": Outcome.MATCH,  # 认证通过
    "-1": Outcome.MISMATCH,  # 认证未通过
    "-2": Outcome.MISMATCH,  # 姓名校验不通过
    "-3": Outcome.MISMATCH,  # 身份证号码有误
    "-4": Outcome.MISMATCH,  # 银行卡号码有误
    "-5": Outcome.MISMATCH,  # 手机号码不合法
    "-6": Outcome.MISMATCH,  # 持卡人信息有误
    "-7": Outcome.MISMATCH,  # 未开通无卡支付
    "-8": Outcome.MISMATCH,  # 此卡被没收
    "-9": Outcome.MISMATCH,  # 无效卡号
    "-10": Outcome.MISMATCH,  # 此卡无对应发卡行
    "-11": Outcome.MISMATCH,  # 该卡未初始化或睡眠卡
    "-12": Outcome.MISMATCH,  # 作弊卡、吞卡
    "-13": Outcome.MISMATCH,  # 此卡已挂失
    "-14": Outcome.MISMATCH,  # 该卡已过期
    "-15": Outcome.MISMATCH,  # 受限制的卡
    "-16": Outcome.MISMATCH,  # 密码错误次数超限
    "-17": Outcome.MISMATCH,  # 发卡行不支持此交易
    "-18": Outcome.ERROR,  # 验证中心服务繁忙
    "-19": Outcome.ERROR,  # 验证次数超限，请次日重试
    "-20": Outcome.ERROR,  # 该证件号暂不支持核验，当前仅支持二代身份证
}

# IdCardVerification.Result. -5 (no such number in the public-security database) is a
# mismatch: the number was never issued to anyone.
ID2_RESULTS: Mapping[str, Outcome] = {
    "0": Outcome.MATCH,  # 姓名和身份证号一致
    "-1": Outcome.MISMATCH,  # 姓名和身份证号不一致
    "-2": Outcome.MISMATCH,  # 非法身份证号（长度、校验位等不正确）
    "-3": Outcome.MISMATCH,  # 非法姓名（长度、格式等不正确）
    "-4": Outcome.ERROR,  # 证件库服务异常
    "-5": Outcome.MISMATCH,  # 证件库中无此身份证记录
    "-6": Outcome.ERROR,  # 权威比对系统升级中，请稍后再试
    "-7": Outcome.ERROR,  # 认证次数超过当日限制
}

# Text.ErrCode values of a finished face session that report a fault on Tencent's side or in
# our request rather than a failed check of the person: 1-3 parameter errors, 4/8-11 internal
# service errors, 202 video could not be fetched, 1001 liveness engine call failed. Every other
# non-zero code is the documented "final verification result was not success" -> MISMATCH.
FACE_ERROR_CODES: frozenset[int] = frozenset({1, 2, 3, 4, 8, 9, 10, 11, 202, 1001})


class TencentFaceIdError(DomainError):
    """Tencent could not start a face session: an outage, a refused call or a bad reply.

    The message shown to the person is generic; `provider_code`, `request_id` and `detail`
    (already scrubbed of the secret and the person's elements) are for logs and support.
    """

    status = 503
    code = "realname_unavailable"

    def __init__(self, provider_code: str, detail: str = "", request_id: str = "") -> None:
        super().__init__(
            _("The identity verification service is unavailable right now. Try again later.")
        )
        self.provider_code = provider_code
        self.detail = detail
        self.request_id = request_id

    def __repr__(self) -> str:
        return (
            f"TencentFaceIdError(provider_code={self.provider_code!r}, "
            f"request_id={self.request_id!r}, detail={self.detail!r})"
        )

    def answer(self) -> Answer:
        return Answer(Outcome.ERROR, self.provider_code, self.detail, self.request_id)


# -- signing (pure functions) ---------------------------------------------------------------


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac_sha256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def utc_date(timestamp: int) -> str:
    """The UTC calendar date (``YYYY-MM-DD``) of a UNIX *timestamp*."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def credential_scope(timestamp: int, service: str = SERVICE) -> str:
    return f"{utc_date(timestamp)}/{service}/tc3_request"


def canonical_request(*, host: str, action: str, payload: bytes) -> str:
    """The CanonicalRequest of a JSON ``POST /`` signing content-type, host and x-tc-action."""
    headers = f"content-type:{CONTENT_TYPE}\nhost:{host.lower()}\nx-tc-action:{action.lower()}\n"
    return "\n".join(("POST", "/", "", headers, SIGNED_HEADERS, _sha256_hex(payload)))


def string_to_sign(*, timestamp: int, service: str, canonical: str) -> str:
    scope = credential_scope(timestamp, service)
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{_sha256_hex(canonical.encode('utf-8'))}"


def signing_key(secret_key: str, date: str, service: str = SERVICE) -> bytes:
    """SecretSigning: HMAC chain over the date, the service and ``tc3_request``."""
    secret_date = _hmac_sha256(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = _hmac_sha256(secret_date, service)
    return _hmac_sha256(secret_service, "tc3_request")


def authorization(
    *,
    secret_id: str,
    secret_key: str,
    host: str,
    action: str,
    payload: bytes,
    timestamp: int,
    service: str = SERVICE,
) -> str:
    """The ``Authorization`` header value of one request."""
    canonical = canonical_request(host=host, action=action, payload=payload)
    to_sign = string_to_sign(timestamp=timestamp, service=service, canonical=canonical)
    key = signing_key(secret_key, utc_date(timestamp), service)
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    scope = credential_scope(timestamp, service)
    return (
        f"{ALGORITHM} Credential={secret_id}/{scope}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )


# -- small helpers --------------------------------------------------------------------------


def mainland_phone(phone: str) -> str:
    """The 11-digit form Tencent expects: ``+8613800000000`` -> ``13800000000``."""
    number = phone.strip()
    return number[3:] if number.startswith("+86") else number


def scrub(text: str, sensitive: Iterable[str]) -> str:
    """*text* with every sensitive value (at least 4 characters long) replaced by ``***``."""
    values = {v for s in sensitive for v in (s, s.lower()) if len(s) >= _MIN_SCRUB_LENGTH}
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def map_result(code: str, table: Mapping[str, Outcome]) -> Outcome:
    """The outcome of an element check's Result *code*; unknown codes are errors."""
    return table.get(code, Outcome.ERROR)


def face_outcome(err_code: int) -> Outcome:
    """The outcome of a finished face session's ``Text.ErrCode``."""
    if err_code == 0:
        return Outcome.MATCH
    return Outcome.ERROR if err_code in FACE_ERROR_CODES else Outcome.MISMATCH


def _parse_json_object(body: bytes) -> dict[str, Any] | None:
    try:
        reply = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return reply if isinstance(reply, dict) else None


def _as_int(value: object) -> int | None:
    """*value* as an integer if it is one (or a string of one); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _text(value: object) -> str:
    return "" if value is None else str(value)


# -- the provider ---------------------------------------------------------------------------


class TencentFaceIdProvider:
    """`RealNameProvider` backed by Tencent Cloud FaceID."""

    name = "tencent"

    def __init__(
        self,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        secret_id: str,
        secret_key: str,
        region: str = "ap-guangzhou",
        rule_id: str = "",
        timeout: float = 10,
    ) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("Tencent FaceID endpoint must be an http(s) URL")
        self.endpoint = endpoint
        self.host = parts.netloc
        self.secret_id = secret_id
        self._secret_key = secret_key
        self.region = region
        self.rule_id = rule_id
        self.timeout = timeout
        self._opener = urllib.request.build_opener()

    def __repr__(self) -> str:
        return (
            f"TencentFaceIdProvider(endpoint={self.endpoint!r}, secret_id={self.secret_id!r}, "
            f"region={self.region!r})"
        )

    # -- RealNameProvider ----------------------------------------------------------------

    def carrier3(self, *, name: str, id_number: str, phone: str) -> Answer:
        params = {"IdCard": id_number, "Name": name, "Phone": mainland_phone(phone)}
        return self._check("PhoneVerification", params, CARRIER3_RESULTS)

    def bank4(self, *, name: str, id_number: str, card_number: str, phone: str) -> Answer:
        params = {
            "Name": name,
            "BankCard": card_number,
            "Phone": mainland_phone(phone),
            "IdCard": id_number,
        }
        return self._check("BankCard4EVerification", params, BANK4_RESULTS)

    def id2(self, *, name: str, id_number: str) -> Answer:
        params = {"IdCard": id_number, "Name": name}
        return self._check("IdCardVerification", params, ID2_RESULTS)

    def enterprise3(self, *, name: str, uscc: str, legal_rep_name: str) -> Answer:
        # FaceID has no business-registration check; an enterprise-data vendor must be added
        # before legal-representative verification can run against Tencent alone.
        return Answer(Outcome.ERROR, "Unsupported", "FaceID offers no enterprise check")

    def start_face(self, *, name: str, id_number: str, return_url: str) -> FaceSession:
        """Raise `TencentFaceIdError` when Tencent does not hand out a session."""
        if not self.rule_id:
            raise TencentFaceIdError("MissingRuleId", "no FaceID RuleId is configured")
        params = {
            "RuleId": self.rule_id,
            "IdCard": id_number,
            "Name": name,
            "RedirectUrl": return_url,
        }
        reply = self._call("DetectAuth", params)
        request_id = _text(reply.get("RequestId"))
        token, url = _text(reply.get("BizToken")), _text(reply.get("Url"))
        if not token or not url:
            raise self._failed("DetectAuth", "InvalidResponse", "no BizToken or Url", request_id)
        self._log("DetectAuth", "started", "0", request_id)
        return FaceSession(session_id=token, url=url)

    def face_result(self, *, session_id: str) -> Answer:
        if not self.rule_id:
            return Answer(Outcome.ERROR, "MissingRuleId", "no FaceID RuleId is configured")
        params = {"BizToken": session_id, "RuleId": self.rule_id, "InfoType": _FACE_INFO_TYPE}
        try:
            reply = self._call("GetDetectInfoEnhanced", params)
        except TencentFaceIdError as exc:
            return exc.answer()
        return self._conclude("GetDetectInfoEnhanced", self._face_answer(reply, params))

    # -- answers -------------------------------------------------------------------------

    def _check(self, action: str, params: dict[str, str], table: Mapping[str, Outcome]) -> Answer:
        try:
            reply = self._call(action, params)
        except TencentFaceIdError as exc:
            return exc.answer()
        request_id = _text(reply.get("RequestId"))
        code = _text(reply.get("Result"))
        if not code:
            answer = Answer(Outcome.ERROR, "InvalidResponse", "the reply has no Result", request_id)
        else:
            detail = self._detail(_text(reply.get("Description")), params.values())
            answer = Answer(map_result(code, table), code, detail, request_id)
        return self._conclude(action, answer)

    def _face_answer(self, reply: Mapping[str, Any], params: Mapping[str, str]) -> Answer:
        request_id = _text(reply.get("RequestId"))
        text = reply.get("Text")
        if not isinstance(text, dict) or text.get("ErrCode") is None:
            detail = "the person has not finished the face check"
            return Answer(Outcome.PENDING, FACE_WAITING, detail, request_id)
        err_code = _as_int(text["ErrCode"])
        if err_code is None:
            detail = "Text.ErrCode is not a number"
            return Answer(Outcome.ERROR, "InvalidResponse", detail, request_id)
        # The session's elements are not known here; the reply names them, so scrub those.
        echoed = (_text(text.get(key)) for key in _FACE_PERSONAL_FIELDS)
        detail = self._detail(_text(text.get("ErrMsg")), (*params.values(), *echoed))
        return Answer(face_outcome(err_code), str(err_code), detail, request_id)

    def _conclude(self, action: str, answer: Answer) -> Answer:
        self._log(action, answer.outcome.value, answer.provider_code, answer.request_id)
        return answer

    def _log(self, action: str, outcome: str, code: str, request_id: str) -> None:
        level = logging.WARNING if outcome == Outcome.ERROR.value else logging.INFO
        logger.log(
            level, "tencent faceid %s: %s Code=%s RequestId=%s", action, outcome, code, request_id
        )

    def _detail(self, text: str, sensitive: Iterable[str]) -> str:
        """Server text fit to keep: scrubbed of the secret and *sensitive*, and bounded."""
        return scrub(text, (self._secret_key, *sensitive))[:_MAX_DETAIL]

    def _failed(
        self, action: str, code: str, detail: str, request_id: str = ""
    ) -> TencentFaceIdError:
        self._log(action, Outcome.ERROR.value, code, request_id)
        return TencentFaceIdError(code, detail[:_MAX_DETAIL], request_id)

    # -- transport -----------------------------------------------------------------------

    def _now(self) -> int:
        return int(time.time())

    def _headers(self, action: str, payload: bytes) -> dict[str, str]:
        timestamp = self._now()
        headers = {
            "Authorization": authorization(
                secret_id=self.secret_id,
                secret_key=self._secret_key,
                host=self.host,
                action=action,
                payload=payload,
                timestamp=timestamp,
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": self.host,
            "X-TC-Action": action,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Version": API_VERSION,
        }
        if self.region:
            headers["X-TC-Region"] = self.region
        return headers

    def _call(self, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        """The ``Response`` object of a successful call; raise `TencentFaceIdError` otherwise."""
        payload = json.dumps(dict(params), ensure_ascii=False, separators=(",", ":")).encode()
        status, body = self._post(action, payload)
        reply = _parse_json_object(body)
        response = reply.get("Response") if reply is not None else None
        if not isinstance(response, dict):
            code = "InvalidResponse" if status == 200 else f"HTTP{status}"
            raise self._failed(action, code, f"HTTP {status} without a FaceID reply")
        request_id = _text(response.get("RequestId"))
        error = response.get("Error")
        if isinstance(error, dict):
            code = _text(error.get("Code")) or "UnknownError"
            detail = self._detail(_text(error.get("Message")), params.values())
            raise self._failed(action, code, detail, request_id)
        if status != 200:
            raise self._failed(action, f"HTTP{status}", f"HTTP {status}", request_id)
        return response

    def _post(self, action: str, payload: bytes) -> tuple[int, bytes]:
        """POST the signed request; return (HTTP status, body). Network failures raise."""
        # The scheme was checked to be http(s) in __init__.
        request = urllib.request.Request(  # noqa: S310
            self.endpoint, data=payload, method="POST", headers=self._headers(action, payload)
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                try:
                    return int(exc.code), bytes(exc.read())
                except (OSError, http.client.HTTPException):
                    return int(exc.code), b""
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            # URLError wraps connect-phase failures; a read timeout arrives bare.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            code = "Timeout" if isinstance(reason, TimeoutError) else "NetworkError"
            detail = scrub(f"FaceID endpoint unreachable: {reason}", (self._secret_key,))
            raise self._failed(action, code, detail) from None


if TYPE_CHECKING:
    _conforms: type[RealNameProvider] = TencentFaceIdProvider
