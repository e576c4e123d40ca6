"""Alipay (支付宝) open platform: alipay.trade.page.pay (电脑网站支付), its asynchronous
notification, alipay.trade.query and alipay.trade.refund, signed with RSA2.

The published scheme: every request parameter except `sign` with a non-empty value, sorted by
key, joined as `key=value` with `&` (values raw, not URL-encoded), signed with RSA-SHA256 under
the merchant's private key, base64. A notification is checked the same way without `sign` and
`sign_type`, against Alipay's public key. An API answer `{"<method>_response": {...}, "sign"}`
is signed over the exact JSON text of the `_response` value as Alipay sent it.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from portsign.billing.payments import (
    Checkout,
    InvalidNotice,
    Notice,
    Outcome,
    PaymentError,
    fen,
    yuan,
)
from portsign.pki.vendor_keys import rsa2_sign, rsa2_valid

log = logging.getLogger(__name__)
_PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")
SUCCESS = "10000"


def canonical(params: Mapping[str, str], *, exclude: tuple[str, ...] = ("sign",)) -> str:
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key not in exclude and params[key]
    )


def response_text(body: str, key: str) -> str:
    """The exact JSON text of `body[key]`: what Alipay signed (re-serialising would not do)."""
    marker = f'"{key}"'
    start = body.find(marker)
    if start < 0:
        raise PaymentError(f"no {key} in the answer", code="provider_answer")
    colon = body.index(":", start + len(marker))
    begin = colon + 1
    while body[begin] in " \t\r\n":
        begin += 1
    _value, end = json.JSONDecoder().raw_decode(body, begin)
    return body[begin:end]


@dataclass(frozen=True)
class AlipayPayments:
    app_id: str
    gateway: str
    private_key_file: str
    alipay_public_key_file: str
    timeout: int = 10
    name: str = "alipay"
    acknowledgement: str = "success"

    def __post_init__(self) -> None:
        if urllib.parse.urlsplit(self.gateway).scheme not in ("https", "http"):
            raise ValueError(f"the Alipay gateway must be an http(s) URL, not {self.gateway!r}")

    @classmethod
    def from_settings(cls) -> AlipayPayments:
        conf = settings.ALIPAY
        if not (conf["app_id"] and conf["private_key_file"] and conf["public_key_file"]):
            # A sandbox deployment still answers posts to the Alipay notify URL: refused.
            raise LookupError("the alipay provider is not configured")
        return cls(
            app_id=conf["app_id"],
            gateway=conf["gateway"],
            private_key_file=conf["private_key_file"],
            alipay_public_key_file=conf["public_key_file"],
        )

    def _signed(self, method: str, biz: dict[str, str], **extra: str) -> dict[str, str]:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
            **extra,
        }
        params["sign"] = rsa2_sign(key_file=self.private_key_file, message=canonical(params))
        return params

    def checkout_url(self, checkout: Checkout) -> str:
        biz = {
            "out_trade_no": checkout.order_id,
            "product_code": "FAST_INSTANT_TRADE_PAY",
            "total_amount": yuan(checkout.amount_fen),
            "subject": checkout.subject,
        }
        params = self._signed(
            "alipay.trade.page.pay",
            biz,
            notify_url=checkout.notify_url,
            return_url=checkout.return_url,
        )
        joiner = "&" if urllib.parse.urlsplit(self.gateway).query else "?"
        return self.gateway + joiner + urllib.parse.urlencode(params)

    def read_notice(self, params: Mapping[str, str]) -> Notice | None:
        message = canonical(params, exclude=("sign", "sign_type"))
        if params.get("sign_type") != "RSA2" or not rsa2_valid(
            public_key_file=self.alipay_public_key_file,
            message=message,
            signature=params.get("sign", ""),
        ):
            raise InvalidNotice("bad signature")
        if params.get("app_id") != self.app_id:
            raise InvalidNotice("another merchant's notification")
        return self._notice(params)

    def _notice(self, fields: Mapping[str, Any]) -> Notice | None:
        status = str(fields.get("trade_status", ""))
        outcome: Outcome
        if status in _PAID:
            outcome = "paid"
        elif status == "TRADE_CLOSED":
            # Closed unpaid, or closed by a full refund: the order's state tells which.
            outcome = "refunded" if fields.get("refund_fee") else "failed"
        else:
            return None  # WAIT_BUYER_PAY: nothing happened yet
        return Notice(
            order_id=str(fields.get("out_trade_no", "")),
            trade_no=str(fields.get("trade_no", "")),
            outcome=outcome,
            amount_fen=fen(str(fields.get("total_amount", ""))),
        )

    def _call(self, method: str, biz: dict[str, str]) -> dict[str, Any]:
        data = urllib.parse.urlencode(self._signed(method, biz)).encode()
        # The gateway's scheme is checked in __post_init__: http(s) only.
        request = urllib.request.Request(  # noqa: S310
            self.gateway,
            data=data,
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                body = answer.read().decode("utf-8", errors="replace")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise PaymentError(f"Alipay unreachable: {exc}", code="provider_unreachable") from exc
        key = method.replace(".", "_") + "_response"
        try:
            signed = response_text(body, key)
            signature = str(json.loads(body).get("sign", ""))
        except (ValueError, IndexError, AttributeError) as exc:  # cut off, not JSON, not an object
            raise PaymentError(f"unreadable answer: {exc}", code="provider_answer") from exc
        if not rsa2_valid(
            public_key_file=self.alipay_public_key_file, message=signed, signature=signature
        ):
            raise PaymentError("the answer's signature does not check", code="provider_answer")
        result = json.loads(signed)
        if not isinstance(result, dict):
            raise PaymentError("the answer is not an object", code="provider_answer")
        return result

    def query(self, *, order_id: str) -> Notice | None:
        result = self._call("alipay.trade.query", {"out_trade_no": order_id})
        if result.get("sub_code") == "ACQ.TRADE_NOT_EXIST":
            return None  # the payer never reached the cashier
        if result.get("code") != SUCCESS:  # a refused signature, a service error: say so
            raise PaymentError(str(result.get("sub_msg") or "refused"), code="query_refused")
        return self._notice(result)

    def refund(self, *, order_id: str, amount_fen: int) -> None:
        # One refund request number per order: a retried refund is the same refund to Alipay.
        biz = {
            "out_trade_no": order_id,
            "refund_amount": yuan(amount_fen),
            "out_request_no": f"{order_id}-refund",
        }
        result = self._call("alipay.trade.refund", biz)
        if result.get("code") != SUCCESS:
            log.warning("alipay refund of %s refused: %s", order_id, result.get("sub_code"))
            raise PaymentError(str(result.get("sub_msg") or "refused"), code="refund_refused")
