"""The 代理报关委托书 and its 委托报关协议 as one PDF, and what each goods row holds.

The document's text is written for PortSign after the 委托报关协议通用条款 of common practice
(EPORT.md §4.2); it is in Chinese, the language customs reads, whatever the UI's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from portsign.common.text_pdf import Box, Document, Grid, Section, Signoff, render_placed

TITLE = "代理报关委托书 / 委托报关协议"
TERMS_TITLE = "委托报关协议通用条款"
TERMS: tuple[str, ...] = (
    "第一条　委托方应及时提供报关所需的全部单证，并对单证的真实性、准确性和完整性负责。",
    "第二条　委托方负责在报关企业办结海关手续后，及时履约支付代理报关费用，支付垫支费用，以及因"
    "委托方责任产生的滞报金、滞纳金和海关等执法单位依法处以的各种罚款。",
    "第三条　被委托方（报关企业）负责解答委托方有关向海关申报的疑问，对委托方提供的货物情况和"
    "单证的真实性、完整性进行合理审查，并按照约定的方式和时间办理海关手续。",
    "第四条　被委托方应在申报时于随附单证中填写本委托书编号；委托书在有效期内对约定货物有效。",
    "第五条　因被委托方未尽合理审查义务或违反约定造成委托方损失的，由被委托方依法承担责任。",
    "第六条　双方以各自电子口岸操作员卡签署本委托书及协议，具有与书面签章同等的法律效力。",
    "第七条　本协议未尽事宜，双方可另行约定；发生争议的，双方协商解决。",
)


@dataclass(frozen=True)
class GoodsField:
    key: str
    label: Promise
    printed: str  # the document's own column name


GOODS_FIELDS: tuple[GoodsField, ...] = (
    GoodsField("goods_name", gettext_lazy("Main goods"), "主要货物名称"),
    GoodsField("hs_code", gettext_lazy("HS code (10 digits)"), "HS编码"),
    GoodsField("total_price", gettext_lazy("Total price"), "货物总价"),
    GoodsField("currency", gettext_lazy("Currency"), "币制"),
    GoodsField("trade_mode", gettext_lazy("Trade mode"), "贸易方式"),
    GoodsField("import_export_date", gettext_lazy("Import/export date"), "进出口日期"),
    GoodsField("bill_of_lading", gettext_lazy("Bill of lading"), "提单号"),
    GoodsField("packages", gettext_lazy("Packages"), "件数"),
    GoodsField("weight_kg", gettext_lazy("Weight (kg)"), "重量（千克）"),
    GoodsField("packing", gettext_lazy("Packing"), "包装种类"),
    GoodsField("origin_destination", gettext_lazy("Origin / destination"), "原产地/目的地"),
)


@dataclass(frozen=True)
class EntrustmentFacts:
    number: str
    consignor: str
    consignor_uscc: str
    broker: str
    broker_customs_code: str
    district: str
    valid_until: dt.date
    initiator: str  # "委托方" or "被委托方"
    goods: list[dict[str, str]]


def _goods(index: int, row: dict[str, str]) -> Section:
    pairs = [(field.printed, row.get(field.key, "")) for field in GOODS_FIELDS]
    return Section(f"委托报关协议（{index}）", [Grid(pairs)])


def entrustment_pdf(facts: EntrustmentFacts) -> tuple[bytes, dict[str, Box]]:
    """The document, and where each side signs ("consignor", "broker")."""
    head = Grid(
        [
            ("委托书编号", facts.number),
            ("委托方（经营单位）", facts.consignor),
            ("统一社会信用代码", facts.consignor_uscc),
            ("被委托方（报关企业）", facts.broker),
            ("海关注册编码", facts.broker_customs_code),
            ("申报关区", facts.district),
            ("有效期至", facts.valid_until.isoformat()),
            ("发起方", facts.initiator),
        ]
    )
    authorisation = (
        f"现委托{facts.broker}代理本单位办理下列进出口货物的报关、查验、缴纳税费等海关手续，"
        f"委托有效期至{facts.valid_until.isoformat()}。"
    )
    signoff = Signoff(
        [("委托方签章：", "被委托方签章：")], widths=(0.5, 0.5), height=110,
        anchors=("consignor", "broker"),
    )  # fmt: skip
    return render_placed(
        Document(
            title=TITLE,
            preamble=[],
            sections=[
                Section("代理报关委托书", [head, authorisation]),
                *(_goods(i, row) for i, row in enumerate(facts.goods, start=1)),
                Section(TERMS_TITLE, list(TERMS)),
                Section("", [signoff]),
            ],
            footer=f"{TITLE} · {facts.number}",
            author=facts.consignor,
            page_marker="第 %(page)d 页 / 共 %(pages)d 页",
        )
    )
