"""The card office's printable documents (issue 14 point 7; seed 004 附件2 and 附件3): the IC
card registration form and the courier hand-over form, as A4 text PDFs.

Their text layer is read back with poppler's `pdftotext -layout`: every value, each permission
line with its tick (☑ / ☐: drawn boxes whose text reads as those characters), the page count and
"第 n 页 / 共 m 页". A long permission list flows onto further pages, its header repeated, every
line once. Made-up people only.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pypdfium2
import pytest

from portsign.eport.domain.card_documents import (
    CourierForm,
    Declarant,
    LegalPersonCard,
    MailedCard,
    OperatorCard,
    Permission,
    RegistrationForm,
    Verifier,
    courier_form_pdf,
    registration_form_pdf,
)
from tests.helpers import synthetic_id_number, synthetic_uscc

# EPORT.md §3.3, in the seed's order.
CATALOGUE = (
    *(("报关单", a) for a in ("上载", "审核申报", "申报确认", "委托书确认", "异地报关备案申请")),
    *(("网上支付", a) for a in ("查阅", "指定缴款单位", "支付初审", "支付复审", "支付确认")),
    *(("快件管理", a) for a in ("录入", "申报")),
    *(("出口收汇", a) for a in ("录入", "申报")),
)
GRANTED = {
    ("报关单", "上载"): ("4200", "2300"),
    ("报关单", "委托书确认"): (),
    ("网上支付", "支付确认"): ("4200",),
    ("出口收汇", "申报"): (),
}
LEGAL_PERSON_ID = synthetic_id_number(1, birth="19800101")
OPERATOR_ID = synthetic_id_number(2, birth="19900307")
LEGAL_CARD, OPERATOR_CARD = "8000000000000001", "8000000000000002"
SPARE = "8000000000000003"  # a replacement card


def pdf_text(pdf: bytes, tmp_path, *pages: int) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    first_last = ["-f", str(pages[0]), "-l", str(pages[-1])] if pages else []
    result = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", *first_last, str(path), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def page_count(pdf: bytes) -> int:
    return len(pypdfium2.PdfDocument(pdf))


def has_line(text: str, *cells: str) -> bool:
    """A line of the layout holding *cells* in that order, only blanks between them."""
    pattern = r"\s+".join(re.escape(cell) for cell in cells)
    return any(re.fullmatch(rf"\s*{pattern}\s*", line) for line in text.splitlines())


def permission_cells(permission: Permission) -> tuple[str, ...]:
    tick = "☑" if permission.ticked else "☐"
    districts = "、".join(permission.districts) or ("全部关区" if permission.ticked else "—")
    return (permission.subsystem, tick, permission.action, districts)


def catalogue() -> tuple[Permission, ...]:
    return tuple(Permission(s, a, (s, a) in GRANTED, GRANTED.get((s, a), ())) for s, a in CATALOGUE)


def registration(**changes) -> RegistrationForm:
    fields = {
        "applicant": "测试港务有限公司",
        "uscc": synthetic_uscc(1, region="460100"),
        "legal_person": LegalPersonCard(
            name="测试法人",
            sex="male",
            nationality="中国",
            position="董事长",
            phone="13800000000",
            id_type="resident_id",
            id_number=LEGAL_PERSON_ID,
            card_number=LEGAL_CARD,
        ),
        "operator": OperatorCard(
            medium="ukey",
            name="测试操作员",
            sex="female",
            education="本科",
            id_type="resident_id",
            id_number=OPERATOR_ID,
            birth_date=dt.date(1990, 3, 7),
            nationality="中国",
            position="关务专员",
            household_address="海南省海口市测试路1号",
            user_address="海南省海口市测试大道2号",
            postcode="570100",
            email="operator@example.cn",
            phone="13800000001",
            fax="0898-00000000",
            card_number=OPERATOR_CARD,
        ),
        "declarant": Declarant(
            exam_score="88",
            barcode="TM0001",
            certificate="BG46000001",
            category="专业报关",
            issued_on=dt.date(2020, 5, 6),
            valid_until=dt.date(2030, 5, 5),
            note="测试备注",
        ),
        "verifier": Verifier(certificate="HX46000001", note="核销测试"),
        "permissions": catalogue(),
        "signed_on": dt.date(2025, 1, 2),
    }
    return RegistrationForm(**{**fields, **changes})


def courier(**changes) -> CourierForm:
    fields = {
        "case_number": "BJ20250001",
        "order_number": "DD20250001",
        "tracking_number": "EA123456789CN",
        "office": "海口海关电子口岸",
        "mailed_on": dt.date(2025, 1, 3),
        "cards": (
            MailedCard(kind="legal_person", number=LEGAL_CARD),
            MailedCard(kind="operator", number=OPERATOR_CARD),
        ),
        "enterprise": "测试港务有限公司",
        "address": "海南省海口市测试路1号",
        "postcode": "570100",
        "recipient": "测试收件人",
        "phone": "13800000000",
        "service_centre": "海南省人民政府政务服务中心",
    }
    return CourierForm(**{**fields, **changes})


def test_registration_form_prints_every_section_and_value(tmp_path):
    form = registration()
    pdf = registration_form_pdf(form)
    text = pdf_text(pdf, tmp_path)

    assert pdf.startswith(b"%PDF-")
    assert page_count(pdf) == 2
    assert "中国电子口岸企业IC卡登记表" in text
    assert has_line(text, "申请单位", "测试港务有限公司")
    assert has_line(text, "统一社会信用代码", form.uscc)
    for title in (
        "法人卡持卡人基本信息",
        "操作员卡持卡人基本信息",
        "报关员备案信息",
        "操作员向海关申请权限",
        "核销员备案信息",
        "操作员向外汇局申请权限",
    ):
        assert has_line(text, title)
    # 法人卡
    assert has_line(text, "持卡人姓名", "测试法人", "性别", "男")
    assert has_line(text, "国籍/地区", "中国", "职务", "董事长")
    assert has_line(text, "联系电话", "13800000000", "证件类别", "居民身份证")
    assert has_line(text, "证件号码", LEGAL_PERSON_ID, "卡号", LEGAL_CARD)
    # 操作员卡: the medium as two boxes, the one given ticked
    assert has_line(text, "操作员卡类型", "☐", "IC卡", "☑", "IKEY", "卡号", OPERATOR_CARD)
    assert has_line(text, "持卡人姓名", "测试操作员", "性别", "女")
    assert has_line(text, "学历", "本科", "证件类别", "居民身份证")
    assert has_line(text, "证件号码", OPERATOR_ID, "出生日期", "1990年3月7日")
    assert has_line(text, "国籍（地区）", "中国", "职务", "关务专员")
    assert has_line(text, "户口地址", "海南省海口市测试路1号")
    assert has_line(text, "用户地址", "海南省海口市测试大道2号")
    assert has_line(text, "邮编", "570100", "电子信箱", "operator@example.cn")
    assert has_line(text, "联系电话", "13800000001", "传真", "0898-00000000")
    # 报关员 and 核销员
    assert has_line(text, "考试成绩", "88", "条码号", "TM0001")
    assert has_line(text, "报关员证号", "BG46000001", "报关类别", "专业报关")
    assert has_line(text, "发证日期", "2020年5月6日", "注册有效期", "2030年5月5日")
    assert has_line(text, "备注", "测试备注")
    assert has_line(text, "核销员证号", "HX46000001")
    assert has_line(text, "备注", "核销测试")
    # signature and seal, dated; page numbers
    assert has_line(text, "申请单位签章：", "日期：2025年1月2日")
    assert "第 1 页 / 共 2 页" in text
    assert "第 2 页 / 共 2 页" in text


def test_every_permission_line_has_its_tick(tmp_path):
    text = pdf_text(registration_form_pdf(registration()), tmp_path)

    for permission in catalogue():
        assert has_line(text, *permission_cells(permission)), permission
    assert text.count("☑") == len(GRANTED) + 1  # and the operator card's medium
    # 出口收汇 is asked of the forex bureau: its lines come after that section's title
    forex = text.index("操作员向外汇局申请权限")
    assert text.index("出口收汇") > forex > text.index("快件管理")


def test_ticks_read_back_with_pdfium_too():
    """The boxes are drawn; the ☑/☐ of the text layer is ActualText, which PDFium reads too."""
    pdf = registration_form_pdf(registration())
    document = pypdfium2.PdfDocument(pdf)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    assert "☑ 上载" in text
    assert "☐ 审核申报" in text


def test_blank_sections_and_date_print_as_blanks(tmp_path):
    form = registration(declarant=Declarant(), verifier=Verifier(), signed_on=None)
    text = pdf_text(registration_form_pdf(form), tmp_path)

    assert has_line(text, "考试成绩", "—", "条码号", "—")
    assert has_line(text, "核销员证号", "—")
    assert has_line(text, "申请单位签章：", "日期：", "年", "月", "日")


def test_a_long_permission_list_flows_onto_further_pages(tmp_path):
    many = tuple(
        Permission("报关单", f"测试权限{n:03d}", n % 2 == 0, (f"{4200 + n:04d}",) if n % 2 else ())
        for n in range(120)
    )
    pdf = registration_form_pdf(registration(permissions=many))
    text = pdf_text(pdf, tmp_path)
    pages = page_count(pdf)

    assert pages >= 4
    for permission in many:
        assert has_line(text, *permission_cells(permission)), permission
        assert text.count(permission.action) == 1
    # the table's header again on each page it continues on
    continued = pdf_text(pdf, tmp_path, 3)
    assert has_line(continued, "子系统", "申请权限", "可使用的关区")
    assert f"第 3 页 / 共 {pages} 页" in continued
    assert has_line(pdf_text(pdf, tmp_path, pages), "申请单位签章：", "日期：2025年1月2日")


def test_courier_form_prints_the_cards_and_the_recipient(tmp_path):
    pdf = courier_form_pdf(courier())
    text = pdf_text(pdf, tmp_path)

    assert page_count(pdf) == 1
    assert "全程互联网“不见面审批”快递交接单" in text
    assert "(1式3份)" in text
    assert has_line(text, "办件编号", "订单号", "快递单号")
    assert has_line(text, "BJ20250001", "DD20250001", "EA123456789CN")
    assert has_line(text, "寄送部门", "海口海关电子口岸")
    assert has_line(text, "寄送日期", "2025年1月3日")
    assert has_line(text, "使用说明一张", "—")
    assert has_line(text, "法人UKEY卡一张", LEGAL_CARD)
    assert has_line(text, "操作UKEY卡一张", OPERATOR_CARD)
    assert has_line(text, "企业公司名称", "测试港务有限公司")
    assert has_line(text, "收件人地址", "海南省海口市测试路1号")
    assert has_line(text, "邮编", "570100")
    assert has_line(text, "收件人姓名", "测试收件人")
    assert has_line(text, "收件人联系电话", "13800000000")
    for signer in (
        "审批办人员（签名）：",
        "不见面审批快递窗口人员（签名）：",
        "邮政工作人员（签名）：",
    ):
        assert has_line(text, signer, "日期：", "年", "月", "日")
    assert has_line(text, "海南省人民政府政务服务中心", "第 1 页 / 共 1 页")


@pytest.mark.parametrize(
    ("card", "line"),
    [
        (MailedCard(kind="operator", number=SPARE), "操作UKEY卡一张"),
        (MailedCard(kind="operator", number=SPARE, medium="ic"), "操作IC卡一张"),
        (MailedCard(kind="legal_person", number=SPARE, medium="ikey"), "法人UKEY卡一张"),
    ],
)
def test_courier_form_for_one_replacement_card(tmp_path, card, line):
    text = pdf_text(courier_form_pdf(courier(cards=(card,), case_number="")), tmp_path)

    assert has_line(text, line, SPARE)
    assert has_line(text, "—", "DD20250001", "EA123456789CN")
    assert text.count("卡一张") == 1  # only the card mailed
