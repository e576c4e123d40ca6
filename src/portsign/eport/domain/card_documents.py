"""The E-Port card office's two printable documents (issue 14 point 7; seed 004 附件2 and 附件3):
the 中国电子口岸企业IC卡登记表 and the 全程互联网“不见面审批”快递交接单, as A4 text PDFs.

Each is described by a frozen dataclass holding exactly what it prints, in plain values (str,
date, tuples; no models), and drawn by `common.text_pdf`. The labels are the seed's Chinese
labels as printed on the official forms, whatever the reader's language; they are not UI
strings. Fields are named after them (each field's docstring gives its label). A text field
left "" prints as "—"; a date left None prints as "　年　月　日" where the seed has one, to be
filled in by hand.

Codes from the office's data are printed in words: `sex` male/female (forms.SEX), `id_type`
resident_id… (forms.ID_TYPES) and the card medium; any other value is printed as given, so a
caller may also pass the words themselves ("居民身份证").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from portsign.common.text_pdf import Check, Document, Grid, Section, Signoff, render

CardKind = Literal["legal_person", "operator"]  # enums.CardKind: 法人卡 / 操作员卡
# enums.CardMedium says "ukey", forms.CARD_MEDIA "ikey": the same UKey (IKEY) medium.
CardMedium = Literal["ukey", "ikey", "ic"]

REGISTRATION_TITLE = "中国电子口岸企业IC卡登记表"
COURIER_TITLE = "全程互联网“不见面审批”快递交接单"
PAGE_MARKER = "第 %(page)d 页 / 共 %(pages)d 页"
# The seed's 操作员向外汇局申请权限; every other subsystem is one of 操作员向海关申请权限.
FOREX_SUBSYSTEMS = frozenset({"出口收汇"})
ALL_DISTRICTS = "全部关区"  # a ticked permission with no districts (CardPermission: every one)

SEX_WORDS = {"male": "男", "female": "女"}
ID_TYPE_WORDS = {
    "resident_id": "居民身份证",
    "passport": "护照",
    "hk_macao_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "foreign_permanent": "外国人永久居留身份证",
}
BLANK_DATE = "　　年　　月　　日"  # ideographic spaces: room to write the date by hand


@dataclass(frozen=True, kw_only=True)
class LegalPersonCard:
    """法人卡持卡人基本信息."""

    name: str
    """持卡人姓名"""
    sex: str
    """性别 (male / female, or the word)"""
    nationality: str
    """国籍/地区"""
    position: str
    """职务"""
    phone: str
    """联系电话"""
    id_type: str
    """证件类别 (a forms.ID_TYPES key, or the words)"""
    id_number: str
    """证件号码"""
    card_number: str = ""
    """卡号 (附件3's word; "" before the card is issued)"""


@dataclass(frozen=True, kw_only=True)
class OperatorCard:
    """操作员卡持卡人基本信息."""

    medium: CardMedium
    """操作员卡类型: ☐ IC卡 ☐ IKEY, the one given ticked"""
    name: str
    """持卡人姓名"""
    sex: str
    """性别"""
    education: str = ""
    """学历"""
    id_type: str
    """证件类别"""
    id_number: str
    """证件号码"""
    birth_date: dt.date | None
    """出生日期"""
    nationality: str
    """国籍（地区）"""
    position: str
    """职务"""
    household_address: str
    """户口地址"""
    user_address: str
    """用户地址"""
    postcode: str
    """邮编"""
    email: str
    """电子信箱"""
    phone: str
    """联系电话"""
    fax: str = ""
    """传真"""
    card_number: str = ""
    """卡号 (附件3's word; "" before the card is issued)"""


@dataclass(frozen=True, kw_only=True)
class Declarant:
    """报关员备案信息 (printed blank when the operator is no customs declarant)."""

    exam_score: str = ""
    """考试成绩"""
    barcode: str = ""
    """条码号"""
    certificate: str = ""
    """报关员证号"""
    category: str = ""
    """报关类别"""
    issued_on: dt.date | None = None
    """发证日期"""
    valid_until: dt.date | None = None
    """注册有效期"""
    note: str = ""
    """备注"""


@dataclass(frozen=True, kw_only=True)
class Verifier:
    """核销员备案信息 (printed blank when the operator is no verification clerk)."""

    certificate: str = ""
    """核销员证号"""
    note: str = ""
    """备注"""


@dataclass(frozen=True)
class Permission:
    """One (subsystem, action) line of 操作员向海关申请权限 / 操作员向外汇局申请权限: "☑ 上载"."""

    subsystem: str
    """报关单, 网上支付, 快件管理, 出口收汇 (出口收汇 goes to the forex section)"""
    action: str
    """上载, 审核申报, …"""
    ticked: bool
    """applied for (granted): ☑; otherwise ☐"""
    districts: tuple[str, ...] = ()
    """可使用的关区 (codes or names); none on a ticked line prints 全部关区"""


@dataclass(frozen=True, kw_only=True)
class RegistrationForm:
    """附件2 中国电子口岸企业IC卡登记表."""

    applicant: str
    """申请单位 (the enterprise's name)"""
    uscc: str
    """统一社会信用代码"""
    legal_person: LegalPersonCard
    operator: OperatorCard
    declarant: Declarant = field(default_factory=Declarant)
    verifier: Verifier = field(default_factory=Verifier)
    permissions: tuple[Permission, ...]
    """the whole catalogue, in print order, the granted ones ticked"""
    signed_on: dt.date | None = None
    """日期 (beside 申请单位签章)"""


@dataclass(frozen=True, kw_only=True)
class MailedCard:
    """One card of 寄送材料清单: "法人UKEY卡一张，卡号：…"."""

    kind: CardKind
    number: str
    """卡号"""
    medium: CardMedium = "ukey"


@dataclass(frozen=True, kw_only=True)
class CourierForm:
    """附件3 全程互联网“不见面审批”快递交接单 (1式3份)."""

    case_number: str = ""
    """办件编号"""
    order_number: str = ""
    """订单号"""
    tracking_number: str
    """快递单号 (EMS)"""
    office: str
    """寄送部门 (海口海关电子口岸)"""
    mailed_on: dt.date | None = None
    """寄送日期 (not a label of the seed, which leaves the date to the signatures)"""
    cards: tuple[MailedCard, ...]
    """寄送材料清单, after 使用说明一张"""
    enterprise: str
    """企业公司名称"""
    address: str
    """收件人地址"""
    postcode: str = ""
    """邮编"""
    recipient: str
    """收件人姓名"""
    phone: str
    """收件人联系电话"""
    service_centre: str = ""
    """the form's sign-off line (海南省人民政府政务服务中心), under every page"""


def _date(value: dt.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def _medium(medium: CardMedium) -> tuple[Check, Check]:
    return (Check(medium == "ic", "IC卡"), Check(medium in ("ukey", "ikey"), "IKEY"))


def _pairs(*rows: tuple[str | tuple[Check, ...], ...]) -> Grid:
    """Two label/value pairs a row, as the seed's form lays them out."""
    return Grid(rows, widths=(0.15, 0.35, 0.15, 0.35), label_columns=(0, 2))


def _legal_person(card: LegalPersonCard) -> Section:
    return Section(
        "法人卡持卡人基本信息",
        [
            _pairs(
                ("持卡人姓名", card.name, "性别", SEX_WORDS.get(card.sex, card.sex)),
                ("国籍/地区", card.nationality, "职务", card.position),
                ("联系电话", card.phone, "证件类别", ID_TYPE_WORDS.get(card.id_type, card.id_type)),
                ("证件号码", card.id_number, "卡号", card.card_number),
            )
        ],
    )


def _operator(card: OperatorCard) -> Section:
    return Section(
        "操作员卡持卡人基本信息",
        [
            _pairs(
                ("操作员卡类型", _medium(card.medium), "卡号", card.card_number),
                ("持卡人姓名", card.name, "性别", SEX_WORDS.get(card.sex, card.sex)),
                ("学历", card.education, "证件类别", ID_TYPE_WORDS.get(card.id_type, card.id_type)),
                ("证件号码", card.id_number, "出生日期", _date(card.birth_date)),
                ("国籍（地区）", card.nationality, "职务", card.position),
                ("户口地址", card.household_address),
                ("用户地址", card.user_address),
                ("邮编", card.postcode, "电子信箱", card.email),
                ("联系电话", card.phone, "传真", card.fax),
            )
        ],
    )


def _declarant(declarant: Declarant) -> Section:
    return Section(
        "报关员备案信息",
        [
            _pairs(
                ("考试成绩", declarant.exam_score, "条码号", declarant.barcode),
                ("报关员证号", declarant.certificate, "报关类别", declarant.category),
                (
                    "发证日期",
                    _date(declarant.issued_on),
                    "注册有效期",
                    _date(declarant.valid_until),
                ),
                ("备注", declarant.note),
            )
        ],
    )


def _verifier(verifier: Verifier) -> Section:
    return Section(
        "核销员备案信息", [_pairs(("核销员证号", verifier.certificate), ("备注", verifier.note))]
    )


def _permissions(title: str, permissions: list[Permission]) -> Section:
    rows = [
        (
            p.subsystem,
            Check(p.ticked, p.action),
            "、".join(p.districts) or (ALL_DISTRICTS if p.ticked else ""),
        )
        for p in permissions
    ]
    header = ("子系统", "申请权限", "可使用的关区")
    return Section(title, [Grid(rows, widths=(0.2, 0.35, 0.45), header=header)])


def registration_form_pdf(form: RegistrationForm) -> bytes:
    customs = [p for p in form.permissions if p.subsystem not in FOREX_SUBSYSTEMS]
    forex = [p for p in form.permissions if p.subsystem in FOREX_SUBSYSTEMS]
    signed_on = _date(form.signed_on) or BLANK_DATE
    return render(
        Document(
            title=REGISTRATION_TITLE,
            preamble=[],
            sections=[
                Section(
                    "", [Grid([("申请单位", form.applicant), ("统一社会信用代码", form.uscc)])]
                ),
                _legal_person(form.legal_person),
                _operator(form.operator),
                _declarant(form.declarant),
                _permissions("操作员向海关申请权限", customs),
                _verifier(form.verifier),
                _permissions("操作员向外汇局申请权限", forex),
                Section("", [Signoff([("申请单位签章：", f"日期：{signed_on}")], height=90)]),
            ],
            footer=f"{REGISTRATION_TITLE} · {form.applicant}",
            author=form.applicant,
            page_marker=PAGE_MARKER,
        )
    )


def _card_line(card: MailedCard) -> str:
    kind = "法人" if card.kind == "legal_person" else "操作"
    medium = "IC" if card.medium == "ic" else "UKEY"
    return f"{kind}{medium}卡一张"


def courier_form_pdf(form: CourierForm) -> bytes:
    materials: list[tuple[str, ...]] = [("使用说明一张", "")]
    materials += [(_card_line(card), card.number) for card in form.cards]
    signers = ("审批办人员（签名）：", "不见面审批快递窗口人员（签名）：", "邮政工作人员（签名）：")
    return render(
        Document(
            title=COURIER_TITLE,
            subtitle="(1式3份)",
            preamble=[],
            sections=[
                Section(
                    "",
                    [
                        Grid(
                            [(form.case_number, form.order_number, form.tracking_number)],
                            widths=(1 / 3, 1 / 3, 1 / 3),
                            header=("办件编号", "订单号", "快递单号"),
                        ),
                        Grid([("寄送部门", form.office), ("寄送日期", _date(form.mailed_on))]),
                    ],
                ),
                Section(
                    "寄送材料清单",
                    [Grid(materials, widths=(0.5, 0.5), header=("材料", "卡号"))],
                ),
                Section(
                    "（以下由申请人填写）",
                    [
                        Grid(
                            [
                                ("企业公司名称", form.enterprise),
                                ("收件人地址", form.address),
                                ("邮编", form.postcode),
                                ("收件人姓名", form.recipient),
                                ("收件人联系电话", form.phone),
                            ]
                        )
                    ],
                ),
                Section(
                    "（以下无需填写）",
                    [Signoff([(signer, f"日期：{BLANK_DATE}") for signer in signers], height=40)],
                ),
            ],
            footer=form.service_centre,
            author=form.office,
            page_marker=PAGE_MARKER,
        )
    )
