"""Aliyun (Alibaba Cloud) SMS gateway: the Dysmsapi ``SendSms`` RPC call, API version 2017-05-25.

Protocol (Alibaba Cloud "RPC signature V2", SignatureMethod HMAC-SHA1, SignatureVersion 1.0):

1. The request is a flat set of string parameters: the common ones (``Action=SendSms``,
   ``Version=2017-05-25``, ``Format=JSON``, ``AccessKeyId``, ``SignatureMethod=HMAC-SHA1``,
   ``SignatureVersion=1.0``, ``SignatureNonce`` (unique per request; the server refuses a
   replayed one), ``Timestamp`` (UTC, ``YYYY-MM-DDTHH:MM:SSZ``), ``RegionId``) plus the
   operation's own: ``PhoneNumbers``, ``SignName``, ``TemplateCode`` and ``TemplateParam``
   (a JSON object of template variables).
2. Canonicalized query string: parameters (everything except ``Signature``) sorted by name,
   names and values percent-encoded as UTF-8 per RFC 3986 (only ``A-Z a-z 0-9 - _ . ~`` stay
   literal, so space is ``%20``, ``*`` is ``%2A`` and ``~`` is not escaped), joined as
   ``name=value`` pairs with ``&``.
3. ``StringToSign = METHOD + "&" + percent_encode("/") + "&" + percent_encode(canonicalized)``
   -- the canonical string is encoded a second time, so ``:`` in the timestamp ends up
   as ``%253A``.
4. ``Signature = base64(HMAC-SHA1(key=AccessKeySecret + "&", StringToSign))``, sent as one
   more parameter. Here the whole set goes in an ``application/x-www-form-urlencoded`` POST
   body.

The reply is JSON. Success: ``{"Code": "OK", "Message": "OK", "BizId": "...",
"RequestId": "..."}``; ``BizId`` is the id delivery receipts refer to. Business failures
(``isv.*``) come back with HTTP 200 and another ``Code``; gateway failures
(``SignatureDoesNotMatch``, ``InvalidAccessKeyId.NotFound``, ``Throttling.*``, ...) come with
a 4xx/5xx status and the same JSON shape.

The AccessKeySecret is only ever used as the HMAC key: it is never sent, logged or put into
an exception (error text is scrubbed of it in case a server echoes it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from portsign.common.notify.base import DeliveryError, OutgoingMessage

logger = logging.getLogger(__name__)

API_VERSION = "2017-05-25"
ACTION = "SendSms"
SIGNATURE_METHOD = "HMAC-SHA1"
SIGNATURE_VERSION = "1.0"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_MAINLAND_PREFIX = "+86"
# Codes for which trying again later can succeed; anything else from the API is permanent
# (bad number, sign or template, auth/signature failure, no balance, ...).
_TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",  # per-number frequency limit
        "isv.DAY_LIMIT_CONTROL",  # daily quota set in the console
        "isv.MONTH_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",  # a retry carries a fresh nonce
    }
)
_TRANSIENT_PREFIXES = ("Throttling",)
_MAX_DETAIL = 300


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of *value*'s UTF-8 bytes, as Aliyun's signature wants it."""
    out: list[str] = []
    for byte in value.encode("utf-8"):
        out.append(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}")
    return "".join(out)


def canonical_query(params: Mapping[str, str]) -> str:
    """Sorted, percent-encoded ``name=value`` pairs joined by ``&`` (``Signature`` excluded)."""
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def string_to_sign(params: Mapping[str, str], method: str = "POST") -> str:
    """``METHOD&%2F&<percent-encoded canonical query>``."""
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(params))}"


def sign_rpc(params: Mapping[str, str], secret: str, method: str = "POST") -> str:
    """Base64 HMAC-SHA1 of the string-to-sign, keyed with ``secret + "&"``."""
    key = (secret + "&").encode("utf-8")
    digest = hmac.new(key, string_to_sign(params, method).encode("utf-8"), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def normalize_phone(e164: str) -> str:
    """Aliyun's PhoneNumbers form of an E.164 number.

    Mainland China numbers lose ``+86`` (``+8613800000000`` -> ``13800000000``); others keep
    their country code without the plus (``+85212345678`` -> ``85212345678``).
    Raise ValueError for anything that is not a single E.164 number.
    """
    number = e164.strip()
    if not _E164.fullmatch(number):
        raise ValueError("not an E.164 phone number")
    if number.startswith(_MAINLAND_PREFIX):
        return number[len(_MAINLAND_PREFIX) :]
    return number[1:]


def is_transient(code: str, http_status: int) -> bool:
    """Whether a failure with this API *code* and HTTP status may succeed if retried."""
    if code in _TRANSIENT_CODES or code.startswith(_TRANSIENT_PREFIXES):
        return True
    return http_status >= 500 or http_status == 429


def _mask_phone(number: str) -> str:
    return number[:3] + "*" * max(len(number) - 7, 0) + number[-4:] if len(number) > 7 else "***"


class AliyunSmsGateway:
    """`Gateway` that sends template SMS through Aliyun Dysmsapi ``SendSms``."""

    channel = "sms"

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        timeout: int = 10,
        region_id: str = "cn-hangzhou",
    ) -> None:
        scheme = urllib.parse.urlsplit(endpoint).scheme
        if scheme not in ("http", "https"):
            raise ValueError("Aliyun SMS endpoint must be an http(s) URL")
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.timeout = timeout
        self.region_id = region_id
        self._opener = urllib.request.build_opener()

    def __repr__(self) -> str:
        return f"AliyunSmsGateway(endpoint={self.endpoint!r}, access_key_id={self.access_key_id!r})"

    def send(self, message: OutgoingMessage) -> str:
        """Send *message* as a template SMS; return Aliyun's BizId. Raise DeliveryError."""
        if message.channel != self.channel:
            raise DeliveryError(
                f"Aliyun SMS cannot deliver channel {message.channel!r}",
                permanent=True,
                provider_code="UnsupportedChannel",
            )
        try:
            phone = normalize_phone(message.to)
        except ValueError:
            raise DeliveryError(
                "recipient is not an E.164 phone number (rejected before sending)",
                permanent=True,
                provider_code="isv.MOBILE_NUMBER_ILLEGAL",
            ) from None
        params = self._signed_params(phone, message.data)
        status, body = self._post(params)
        return self._handle_reply(status, body, phone)

    # -- request -------------------------------------------------------------------------

    def _new_nonce(self) -> str:
        return uuid.uuid4().hex

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _signed_params(self, phone: str, data: Mapping[str, str]) -> dict[str, str]:
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": ACTION,
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": self.region_id,
            "SignName": self.sign_name,
            "SignatureMethod": SIGNATURE_METHOD,
            "SignatureNonce": self._new_nonce(),
            "SignatureVersion": SIGNATURE_VERSION,
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps(dict(data), ensure_ascii=False, separators=(",", ":")),
            "Timestamp": self._now().strftime(TIMESTAMP_FORMAT),
            "Version": API_VERSION,
        }
        params["Signature"] = sign_rpc(params, self._secret, "POST")
        return params

    def _post(self, params: Mapping[str, str]) -> tuple[int, bytes]:
        """POST the form; return (HTTP status, body). Network failures -> transient error."""
        body = canonical_query(params) + "&Signature=" + percent_encode(params["Signature"])
        # The scheme was checked to be http(s) in __init__.
        request = urllib.request.Request(  # noqa: S310
            self.endpoint,
            data=body.encode("ascii"),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                "Accept": "application/json",
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return int(response.status), bytes(response.read())
        except urllib.error.HTTPError as exc:
            # 4xx/5xx: Aliyun still sends its JSON error body, which holds the Code.
            with exc:
                try:
                    return int(exc.code), bytes(exc.read())
                except (OSError, http.client.HTTPException):
                    return int(exc.code), b""
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            # URLError wraps connect-phase failures; a read timeout arrives bare.
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            code = "Timeout" if isinstance(reason, TimeoutError) else "NetworkError"
            raise self._error(
                f"Aliyun SMS endpoint unreachable ({code}): {reason}", permanent=False, code=code
            ) from None

    # -- reply ---------------------------------------------------------------------------

    def _handle_reply(self, status: int, body: bytes, phone: str) -> str:
        reply = _parse_json_object(body)
        if reply is None:
            # A 200 without JSON is a proxy or outage page rather than an answer from Aliyun.
            raise self._error(
                f"Aliyun SMS answered HTTP {status} without a JSON body",
                permanent=not (status == 200 or is_transient("", status)),
                code=f"HTTP{status}",
            )
        code = str(reply.get("Code", ""))
        request_id = str(reply.get("RequestId", ""))
        if code == "OK" and status == 200:
            biz_id = str(reply.get("BizId", ""))
            if not biz_id:
                # Accepted but no id: do not let a retry send the SMS a second time.
                raise self._error(
                    "Aliyun SMS accepted without a BizId", permanent=True, code="InvalidResponse"
                )
            logger.info(
                "aliyun sms sent to %s: BizId=%s RequestId=%s",
                _mask_phone(phone),
                biz_id,
                request_id,
            )
            return biz_id
        code = code or f"HTTP{status}"
        detail = str(reply.get("Message", ""))[:_MAX_DETAIL]
        permanent = not is_transient(code, status)
        logger.warning(
            "aliyun sms to %s failed: HTTP %s Code=%s RequestId=%s permanent=%s",
            _mask_phone(phone),
            status,
            code,
            request_id,
            permanent,
        )
        raise self._error(
            f"Aliyun SMS error {code} (HTTP {status}, RequestId {request_id}): {detail}",
            permanent=permanent,
            code=code,
        )

    def _error(self, text: str, *, permanent: bool, code: str) -> DeliveryError:
        """A DeliveryError whose text is scrubbed of the AccessKeySecret."""
        if self._secret:
            text = text.replace(self._secret, "***")
        return DeliveryError(text, permanent=permanent, provider_code=code)


def _parse_json_object(body: bytes) -> dict[str, Any] | None:
    try:
        reply = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return reply if isinstance(reply, dict) else None
