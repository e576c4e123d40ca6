"""The port trade kit (issue 15 §4): templates for the port community's daily documents,
written for this project — 集装箱设备交接单 (EIR), 港口作业委托单, 提货单, 代理报关委托书 and
委托报关协议. Names, places and numbers are invented.

They are laid out with the demo templates' machinery (`demo_templates.render` draws the PDF and
the definition from one layout). The port group keeps the first three, the other demo
enterprise — acting as the customs broker — the two customs documents.

The template engine checks text by length only: the HS code (10 digits), the unified social
credit code (18 characters) and the container number (11 characters) are text fields limited to
their length, not checked against a pattern.
"""

from __future__ import annotations

from portsign.contracts.demo_templates import (
    Blank,
    Box,
    DemoTemplate,
    Line,
    Segment,
    Tab,
    heading,
    signatures,
    text,
    title,
)

CHINESE_DATE = {"date_format": "YYYY年M月D日"}
SECOND = 650  # the second column of a two-field line


def _text(key: str, label: str, width: int, longest: int, *, required: bool = True) -> Blank:
    return Blank(key, label, width, required=required, options={"max_length": longest})


def _date(key: str, label: str, width: int = 260) -> Blank:
    return Blank(key, label, width, "date", options=CHINESE_DATE)


def _count(key: str, label: str, width: int = 180) -> Blank:
    """A whole number of packages, at least one."""
    return Blank(key, label, width, "number", options={"min_value": "1", "decimals": 0})


def _quantity(key: str, label: str, width: int, decimals: int, *, required: bool = True) -> Blank:
    """A weight or an amount: more than nothing, to *decimals* places."""
    least = "0.001" if decimals == 3 else "0.01"
    return Blank(
        key,
        label,
        width,
        "number",
        required=required,
        options={"min_value": least, "decimals": decimals},
    )


def _spaced(*segments: Segment) -> Line:
    return Line(tuple(segments), gap=24)


EIR = DemoTemplate(
    name="集装箱设备交接单",
    description="集装箱进出港区、堆场时，港区与用箱人、运箱人现场交接箱体及其设备的凭证。",
    owner="port",
    roles=(("用箱人/运箱人", 1, False), ("港区/堆场", 2, True)),
    body=(
        title("集装箱设备交接单"),
        Line(("EQUIPMENT INTERCHANGE RECEIPT",), size=18, centred=True, gap=26),
        text("港区/堆场：演示港务集团有限公司  演示一号集装箱堆场", gap=24),
        _spaced(
            "进/出场：",
            Box("gate_in", "进场"),
            "进场    ",
            Box("gate_out", "出场"),
            "出场",
            Tab(SECOND),
            "空/重：",
            Box("empty", "空箱"),
            "空箱    ",
            Box("laden", "重箱"),
            "重箱",
        ),
        _spaced(
            "箱号：",
            _text("container_no", "箱号", 300, 11),
            Tab(SECOND),
            "箱型/尺寸：",
            _text("container_type", "箱型/尺寸", 220, 10),
        ),
        _spaced(
            "铅封号：",
            _text("seal_no", "铅封号", 300, 20, required=False),
            Tab(SECOND),
            "提单号：",
            _text("bl_no", "提单号", 300, 30, required=False),
        ),
        _spaced("船名/航次：", _text("vessel", "船名/航次", 560, 40)),
        _spaced("用箱人：", _text("user", "用箱人", 680, 60)),
        _spaced(
            "运箱人：",
            _text("haulier", "运箱人", 420, 60),
            Tab(700),
            "车号：",
            _text("truck_no", "车号", 220, 10),
        ),
        _spaced(
            "交接时间：",
            _date("handover_date", "交接日期"),
            _text("handover_time", "交接时刻（时:分）", 120, 5),
            "（时:分）",
        ),
        heading("箱体状况（交接时双方现场检验，可多选）"),
        _spaced(
            Box("cond_sound", "箱体完好"),
            "完好    ",
            Box("cond_damaged", "箱体破损"),
            "破损    ",
            Box("cond_dented", "箱体凹瘪"),
            "凹瘪    ",
            Box("cond_dirty", "污箱"),
            "污箱    ",
            Box("cond_seal", "铅封异常"),
            "铅封异常",
        ),
        Line(
            ("残损描述：", _text("damage_note", "残损描述", 700, 100, required=False)),
            gap=30,
        ),
        heading("说明"),
        text("1. 本交接单为集装箱及其设备进出港区、堆场的交接凭证。双方现场核对箱号、"),
        text("   铅封及箱体状况后签署；未记载残损的，视为箱体完好交接。"),
        text("2. 用箱人、运箱人应按约定的时间和地点提箱、还箱，超期使用的，按船公司规定"),
        text("   计收超期使用费。"),
        text("3. 本交接单以可靠电子签名签署，与纸质交接单具有同等效力。"),
        *signatures("用箱人/运箱人", "港区/堆场"),
    ),
)

OPERATION_ORDER = DemoTemplate(
    name="港口作业委托单",
    description="委托人委托港口作业方对船舶货物进行装船、卸船、堆存等作业的委托单。",
    owner="port",
    roles=(("委托人", 1, False), ("港口作业方", 2, True)),
    body=(
        title("港口作业委托单"),
        Line(
            (
                "港口作业方：演示港务集团有限公司",
                Tab(SECOND),
                "委托编号：",
                _text("order_no", "委托编号", 280, 20, required=False),
            ),
            gap=26,
        ),
        _spaced("委托人：", _text("client", "委托人", 680, 60)),
        _spaced("船名航次：", _text("vessel", "船名航次", 560, 40)),
        _spaced(
            "货名：",
            _text("cargo", "货名", 340, 40),
            Tab(SECOND),
            "件数：",
            _count("packages", "件数"),
            "件",
        ),
        _spaced("重量：", _quantity("weight", "重量（吨）", 200, 3), "吨"),
        _spaced("作业地点/泊位：", _text("berth", "作业地点/泊位", 500, 40)),
        heading("作业内容（可多选）"),
        _spaced(
            Box("op_load", "装船"),
            "装船    ",
            Box("op_discharge", "卸船"),
            "卸船    ",
            Box("op_storage", "堆存"),
            "堆存    ",
            Box("op_stuffing", "装拆箱"),
            "装拆箱    ",
            Box("op_transfer", "港内驳运"),
            "港内驳运",
        ),
        _spaced("其他作业：", _text("op_other", "其他作业", 640, 60, required=False)),
        _spaced("要求完成日期：", _date("due", "要求完成日期", 280)),
        _spaced(
            "费用结算方式：",
            _text("settlement", "费用结算方式", 300, 20),
            "（现结/月结/预付）",
        ),
        Line(("备注：", _text("remarks", "备注", 800, 100, required=False)), gap=30),
        heading("委托须知"),
        text("1. 委托人应如实申报货名、件数、重量及危险品属性，并于船舶抵港前四十八小时"),
        text("   提交本委托单及货物单证。"),
        text("2. 港口作业方按本委托单及港口作业规程安排作业，作业完成后出具作业记录。"),
        text("3. 作业费用按港口公布的费率计收，按本委托单所列结算方式结算。"),
        *signatures("委托人", "港口作业方"),
    ),
)

DELIVERY_ORDER = DemoTemplate(
    name="提货单",
    description="船公司或货运代理签发给收货人，凭以在港区、堆场提取进口货物的放货凭证。",
    owner="port",
    roles=(("船公司/货代", 1, True), ("收货人", 2, False)),
    body=(
        title("提货单"),
        Line(("DELIVERY ORDER",), size=18, centred=True, gap=26),
        _spaced("签发人（船公司/货代）：", _text("issuer", "签发人", 560, 60)),
        _spaced("收货人：", _text("consignee", "收货人", 680, 60)),
        _spaced(
            "提单号：",
            _text("bl_no", "提单号", 300, 30),
            Tab(SECOND),
            "件数：",
            _count("packages", "件数"),
            "件",
        ),
        _spaced("船名航次：", _text("vessel", "船名航次", 560, 40)),
        _spaced(
            "货名：",
            _text("cargo", "货名", 340, 40),
            Tab(SECOND),
            "重量：",
            _quantity("weight", "重量（千克）", 220, 2),
            "千克",
        ),
        _spaced("箱号：", _text("container_nos", "箱号", 760, 200)),
        Line(
            (
                "放货日期：",
                _date("release_date", "放货日期"),
                Tab(SECOND),
                "有效期至：",
                _date("valid_until", "有效期至"),
            ),
            gap=30,
        ),
        heading("提货须知"),
        text("1. 收货人凭本提货单在有效期内至港区、堆场办理提货手续；逾期的，须重新办理"),
        text("   放货手续。"),
        text("2. 本提货单经签发人签章后生效；货物须经海关放行后方可提离港区。"),
        text("3. 收货人签收即确认收到本提货单；提货时应核对箱号、铅封及货物状况，发现"),
        text("   异常的，当场书面记录。"),
        *signatures("船公司/货代", "收货人"),
    ),
)

CUSTOMS_POWER = DemoTemplate(
    name="代理报关委托书",
    description="经营单位委托报关企业代理办理报关、查验、缴纳税费等通关事宜的委托书。",
    owner="tally",
    roles=(("委托方", 1, False), ("被委托方", 2, True)),
    body=(
        title("代理报关委托书"),
        _spaced("委托方（经营单位）：", _text("client", "委托方（经营单位）", 600, 60)),
        _spaced("统一社会信用代码：", _text("client_uscc", "统一社会信用代码", 420, 18)),
        Line(
            ("被委托方（报关企业）：", _text("broker", "被委托方（报关企业）", 580, 60)),
            gap=30,
        ),
        text("我单位现委托贵公司代理下列通关事宜："),
        _spaced(
            "委托方式：",
            Box("per_shipment", "逐票委托"),
            "逐票委托    ",
            Box("long_term", "长期委托"),
            "长期委托",
        ),
        _spaced(
            "委托事项：",
            Box("m_declare", "填单申报"),
            "填单申报    ",
            Box("m_inspection", "报关查验"),
            "报关查验    ",
            Box("m_taxes", "缴纳税费"),
            "缴纳税费",
        ),
        _spaced(
            Tab(255),
            Box("m_certificates", "办理海关证明联"),
            "办理海关证明联    ",
            Box("m_manual", "办理手册（账册）"),
            "办理手册（账册）",
        ),
        _spaced(
            Tab(255),
            Box("m_documents", "领取海关相关单证"),
            "领取海关相关单证    ",
            Box("m_other", "其他事项"),
            "其他：",
            _text("other_matters", "其他事项", 260, 40, required=False),
        ),
        text("", gap=6),
        text("详细要求见双方签订的《委托报关协议》。我单位保证遵守海关有关法律、法规、"),
        text("规章，保证所提供的情况真实、完整、单货相符；否则，愿承担相关法律责任。"),
        Line(
            ("本委托书有效期自签字之日起至", _date("valid_until", "有效期至", 280), "止。"),
            gap=26,
        ),
        text("被委托方应在委托范围内办理通关事宜，不得转委托。"),
        *signatures("委托方", "被委托方"),
    ),
)

CUSTOMS_AGREEMENT = DemoTemplate(
    name="委托报关协议",
    description="与代理报关委托书配套使用，约定委托报关货物的申报要素及双方责任。",
    owner="tally",
    roles=(("委托方", 1, False), ("被委托方", 2, True)),
    body=(
        title("委托报关协议"),
        _spaced("委托方：", _text("client", "委托方", 680, 60)),
        Line(("被委托方：", _text("broker", "被委托方", 660, 60)), gap=26),
        text("为明确委托报关的具体事项和各自责任，双方经平等协商，签订本协议如下：", gap=24),
        heading("一、委托报关货物"),
        _spaced(
            "进/出口：",
            Box("import", "进口"),
            "进口    ",
            Box("export", "出口"),
            "出口",
            Tab(SECOND),
            "进出口日期：",
            _date("ie_date", "进出口日期", 230),
        ),
        _spaced(
            "主要货物名称：",
            _text("goods", "主要货物名称", 340, 40),
            Tab(SECOND),
            "HS编码：",
            _text("hs_code", "HS编码", 200, 10),
        ),
        _spaced(
            "货物总价：",
            _quantity("total_value", "货物总价", 260, 2),
            Tab(SECOND),
            "币制：",
            _text("currency", "币制", 200, 10),
        ),
        _spaced(
            "贸易方式：",
            _text("trade_mode", "贸易方式", 260, 20),
            Tab(SECOND),
            "提单号：",
            _text("bl_no", "提单号", 300, 30),
        ),
        _spaced(
            "件数：",
            _count("packages", "件数", 200),
            "件",
            Tab(SECOND),
            "重量：",
            _quantity("weight", "重量（千克）", 220, 2),
            "千克",
        ),
        Line(
            (
                "包装种类：",
                _text("packing", "包装种类", 260, 20),
                Tab(SECOND),
                "原产地/目的地：",
                _text("origin_destination", "原产地/目的地", 240, 40),
            ),
            gap=30,
        ),
        heading("二、双方责任"),
        text("委托方应及时提供报关所需的全部单证，并对其真实性、准确性和完整性负责。"),
        text("被委托方应按海关规定如实申报，对委托方提供的单证进行合理审查，并及时告知"),
        text("委托方通关进展；因被委托方过错造成委托方损失的，被委托方承担赔偿责任。", gap=26),
        heading("三、费用"),
        Line(
            (
                "代理报关费为人民币",
                _quantity("fee", "代理报关费（元）", 180, 2, required=False),
                "元；海关依法征收的税费由委托方承担。",
            ),
            gap=26,
        ),
        heading("四、其他"),
        text("本协议与《代理报关委托书》配套使用，自双方签章之日起生效；未尽事宜，双方"),
        text("协商解决。"),
        *signatures("委托方", "被委托方"),
    ),
)

TRADE_KIT = (EIR, OPERATION_ORDER, DELIVERY_ORDER, CUSTOMS_POWER, CUSTOMS_AGREEMENT)
