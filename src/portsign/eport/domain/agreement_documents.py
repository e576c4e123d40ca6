"""The 通关无纸化网上签约三方协议 as a document: its terms (shown before signing, and printed)
and the PDF signed with the legal-person card. Written for PortSign from the rules in EPORT.md
§4.1; the document is in Chinese, the language the agreement is made in, whatever the UI's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portsign.common.text_pdf import Box, Document, Grid, Section, Signoff, render_placed

TITLE = "通关无纸化网上签约三方协议"
PLATFORM = "中国电子口岸数据中心（PortSign 平台代办）"
ANCHOR = "enterprise"
TERMS: tuple[str, ...] = (
    "第一条　甲方（企业）自愿采用通关无纸化方式向乙方（海关）办理报关手续，以电子数据代替纸质"
    "报关单及随附单证，丙方（电子口岸）提供网络传输与数据交换服务。",
    "第二条　甲方以其电子口岸法人卡签署本协议。甲方对其法人卡及操作员卡的保管与使用负责，经其"
    "卡片签名发送的电子数据视为甲方的行为，具有与加盖印章的纸质单证同等的法律效力。",
    "第三条　甲方应保证申报的电子数据真实、准确、完整，并按乙方要求在规定期限内提交或补充纸质"
    "单证；乙方可依法对电子数据及随附单证进行审核、查验和核查。",
    "第四条　本协议按直属海关关区签订，每一关区一份。乙方入库并审批通过后，甲方方可在该关区以"
    "通关无纸化方式申报。",
    "第五条　甲方可随时通过电子口岸申请解约，解约无需乙方审批；解约后甲方在该关区的通关无纸化"
    "申报资格即告终止，已申报的业务按原方式办结。",
    "第六条　丙方保障传输系统的安全与可用，保存电子数据的传输记录，并依法为各方提供查询。",
    "第七条　本协议自甲方签署并经乙方审批通过之日起生效，至甲方解约之日终止。",
)


@dataclass(frozen=True)
class AgreementFacts:
    enterprise: str
    uscc: str
    district_code: str
    district_name: str
    signed_on: dt.date
    card_number: str


def agreement_pdf(facts: AgreementFacts) -> tuple[bytes, Box]:
    """The agreement for one district, and where the enterprise's signature goes."""
    parties = Grid(
        [
            ("甲方（企业）", facts.enterprise),
            ("统一社会信用代码", facts.uscc),
            ("乙方（海关）", f"{facts.district_name}（关区代码 {facts.district_code}）"),
            ("丙方（电子口岸）", PLATFORM),
        ]
    )
    signoff = Signoff(
        [(f"甲方（法人卡 {facts.card_number} 签名）：", f"日期：{facts.signed_on.isoformat()}")],
        height=110,
        anchors=(ANCHOR, ""),
    )
    pdf, boxes = render_placed(
        Document(
            title=TITLE,
            preamble=[],
            sections=[
                Section("协议各方", [parties]),
                Section("协议条款", list(TERMS)),
                Section("", [signoff]),
            ],
            footer=f"{TITLE} · {facts.enterprise} · {facts.district_code}",
            author=facts.enterprise,
            page_marker="第 %(page)d 页 / 共 %(pages)d 页",
        )
    )
    return pdf, boxes[ANCHOR]
