"""Three port-trade contract templates for the demo (issue 6 §1), written for this project: a
container tally agreement (集装箱理货协议), a port operation contract (港口作业合同) and a freight
forwarding agreement (货运代理协议). Names, places and numbers are invented.

Each is laid out once, and the same layout gives both the PDF (an A4 page drawn with Pillow in
Noto Serif CJK, blanks underlined) and the template's definition (where every blank and signing
area is, as fractions of the page), so the two always agree.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw

from portsign.seals.render import SERIF_FONT, font

WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
LEFT, RIGHT = 150, 1090
COLUMN = 650  # the second signing column
TOP = 140
FIELD_HEIGHT = 27  # px: a value set in about 10 pt sits on the blank's line


@dataclass(frozen=True)
class Blank:
    """A fill-in field drawn as an underlined blank of *width* pixels."""

    key: str
    label: str
    width: int
    kind: str = "text"
    required: bool = True
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Box:
    """A checkbox drawn as a square."""

    key: str
    label: str


@dataclass(frozen=True)
class Tab:
    """Continue the line at *x* pixels from the page's left."""

    x: int


Segment = str | Blank | Box | Tab


@dataclass(frozen=True)
class Line:
    segments: tuple[Segment, ...]
    size: int = 21
    centred: bool = False
    gap: int = 20  # space below the line


@dataclass(frozen=True)
class Area:
    """A signing area: *x* from the page's left, *dy* below the top of the line that precedes
    it, sizes in pixels."""

    role: str
    kind: str
    x: int
    dy: int
    width: int
    height: int


@dataclass(frozen=True)
class DemoTemplate:
    name: str
    description: str
    owner: str  # "port" or "tally": which demo enterprise keeps it
    roles: tuple[tuple[str, int, bool], ...]  # name, order, is the sender's own
    body: tuple[Line | Area, ...]


def text(value: str, size: int = 21, gap: int = 20) -> Line:
    return Line((value,), size=size, gap=gap)


def title(value: str) -> Line:
    return Line((value,), size=40, centred=True, gap=36)


def heading(value: str) -> Line:
    return Line((value,), size=23, gap=14)


def render(template: DemoTemplate) -> tuple[bytes, dict[str, Any]]:
    """The template's PDF and its definition (for `templates.create_template`)."""
    page = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(page)
    fields: list[dict[str, Any]] = []
    areas: list[dict[str, Any]] = []
    y, last_top = TOP, TOP
    for item in template.body:
        if isinstance(item, Area):
            areas.append(
                {
                    "role": item.role,
                    "kind": item.kind,
                    **_fractions(1, item.x, last_top + item.dy, item.width, item.height),
                }
            )
            continue
        face = font(SERIF_FONT, item.size)
        x = LEFT
        if item.centred:
            x = round(
                (
                    WIDTH
                    - sum(
                        draw.textlength(s, font=face) for s in item.segments if isinstance(s, str)
                    )
                )
                / 2
            )
        baseline = y + item.size
        for segment in item.segments:
            if isinstance(segment, Tab):
                x = max(x, segment.x)
            elif isinstance(segment, str):
                draw.text((x, baseline), segment, font=face, fill="black", anchor="ls")
                x += round(draw.textlength(segment, font=face))
            elif isinstance(segment, Blank):
                draw.line(
                    [(x + 4, baseline + 4), (x + segment.width - 4, baseline + 4)],
                    fill="black",
                    width=1,
                )
                fields.append(
                    {
                        "key": segment.key,
                        "label": segment.label,
                        "kind": segment.kind,
                        "required": segment.required,
                        **segment.options,
                        **_fractions(
                            1, x + 6, baseline + 4 - FIELD_HEIGHT, segment.width - 12, FIELD_HEIGHT
                        ),
                    }
                )
                x += segment.width
            else:
                side = item.size
                draw.rectangle(
                    [(x + 4, baseline - side + 2), (x + 4 + side, baseline + 2)],
                    outline="black",
                    width=2,
                )
                fields.append(
                    {
                        "key": segment.key,
                        "label": segment.label,
                        "kind": "checkbox",
                        "required": False,
                        **_fractions(1, x + 6, baseline - side + 4, side - 4, side - 4),
                    }
                )
                x += side + 12
        last_top = y
        y += item.size + item.gap
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=150)
    definition = {
        "name": template.name,
        "description": template.description,
        "ordering": "sequential",
        "roles": [{"name": n, "order": o, "is_sender": s} for n, o, s in template.roles],
        "fields": fields,
        "areas": areas,
    }
    return out.getvalue(), definition


def _fractions(page: int, x: float, y: float, width: float, height: float) -> dict[str, Any]:
    return {
        "page": page,
        "x": round(x / WIDTH, 4),
        "y": round(y / HEIGHT, 4),
        "width": round(width / WIDTH, 4),
        "height": round(height / HEIGHT, 4),
    }


def signatures(first: str, second: str) -> tuple[Line | Area, ...]:
    """The signing block: two columns, each role's seal area and date stamp area."""
    return (
        text("", gap=30),
        Line((f"{first}（盖章）：", Tab(COLUMN), f"{second}（盖章）："), size=22, gap=190),
        Area(first, "seal", LEFT + 20, 36, 250, 160),
        Area(second, "seal", COLUMN + 20, 36, 250, 160),
        Line(("日期：", Tab(COLUMN), "日期："), size=22, gap=20),
        Area(first, "date", LEFT + 70, -8, 200, 40),
        Area(second, "date", COLUMN + 70, -8, 200, 40),
    )


TALLY = DemoTemplate(
    name="集装箱理货协议",
    description="委托外轮理货公司对进出口集装箱理货，按标准箱计费。",
    owner="tally",
    roles=(("甲方", 1, False), ("乙方", 2, True)),
    body=(
        title("集装箱理货协议"),
        Line(("甲方（委托方）：", Blank("client", "委托方名称", 520))),
        text("乙方（理货方）：演示外轮理货有限公司", gap=26),
        heading("第一条  委托事项"),
        Line(
            (
                "甲方委托乙方在",
                Blank("terminal", "作业码头", 300),
                "对其装卸的进出口集装箱进行理货，",
            )
        ),
        text("包括箱号核对、铅封检查、箱体残损记录及理货单证的制作与交接。"),
        Line(
            (
                "本协议涉及危险货物集装箱",
                Box("dangerous", "含危险货物集装箱"),
                "（勾选即适用第四条第二款）。",
            ),
            gap=26,
        ),
        heading("第二条  作业要求"),
        text("乙方应按船舶作业计划派员到场，理货数据在作业结束后两小时内通过电子口岸"),
        text("报送甲方；发现残损或铅封异常时，应当场拍照并书面通知甲方值班调度。", gap=26),
        heading("第三条  费用与结算"),
        Line(
            (
                "理货费按每标准箱人民币",
                Blank(
                    "rate",
                    "每标准箱理货费（元）",
                    140,
                    "number",
                    options={"min_value": "0", "max_value": "1000", "decimals": 2},
                ),
                "元计收，按月结算。甲方收到乙方对账单",
            )
        ),
        text("后十个工作日内核对确认并支付。", gap=26),
        heading("第四条  责任"),
        text("因乙方理货差错造成甲方损失的，乙方按实际损失承担赔偿责任，但每箱以理货费的"),
        text("二十倍为限。危险货物集装箱的理货须由持证理货员担任，并另行记录。", gap=26),
        heading("第五条  期限"),
        Line(
            (
                "本协议自",
                Blank(
                    "start", "协议开始日期", 230, "date", options={"date_format": "YYYY年M月D日"}
                ),
                "起至",
                Blank("end", "协议结束日期", 230, "date", options={"date_format": "YYYY年M月D日"}),
                "止。",
            )
        ),
        text("双方以可靠电子签名签署，与手写签名或者盖章具有同等效力。"),
        *signatures("甲方", "乙方"),
    ),
)

PORT_OPERATION = DemoTemplate(
    name="港口作业合同",
    description="港口经营人为作业委托人装卸、堆存货物，按吨计费。",
    owner="port",
    roles=(("甲方", 1, False), ("乙方", 2, True)),
    body=(
        title("港口作业合同"),
        Line(("甲方（作业委托人）：", Blank("client", "作业委托人名称", 480))),
        text("乙方（港口经营人）：演示港务集团有限公司", gap=26),
        heading("第一条  货物与船舶"),
        Line(
            (
                "货物名称：",
                Blank("cargo", "货物名称", 300),
                "  数量：",
                Blank(
                    "tons",
                    "货物数量（吨）",
                    160,
                    "number",
                    options={"min_value": "0.001", "decimals": 3},
                ),
                "吨",
            )
        ),
        Line(
            (
                "船名航次：",
                Blank("vessel", "船名航次", 300),
                "  预计到港：",
                Blank("eta", "预计到港日期", 200, "date"),
            )
        ),
        Line(
            ("需要港区堆存", Box("storage", "需要港区堆存"), "（勾选即适用第三条第二款堆存费）。"),
            gap=26,
        ),
        heading("第二条  作业内容"),
        text("乙方负责船舶的靠泊安排、货物装卸、港内搬移及交付，作业过程遵守港口安全"),
        text("作业规程；甲方应在船舶抵港前四十八小时提交货物单证及作业委托单。", gap=26),
        heading("第三条  费用"),
        Line(
            (
                "装卸作业费按每吨人民币",
                Blank(
                    "rate",
                    "装卸费率（元/吨）",
                    140,
                    "number",
                    options={"min_value": "0", "max_value": "500", "decimals": 2},
                ),
                "元计收；堆存超过七日的，按港口公布",
            )
        ),
        text("的堆存费率另行计收。费用于船舶离港后十五日内结清。", gap=26),
        heading("第四条  货损货差"),
        text("货物在乙方责任期间发生灭失、损坏的，乙方按实际损失赔偿；因货物本身性质、"),
        text("包装不良或甲方申报不实造成的损失，由甲方自行承担。", gap=26),
        heading("第五条  争议解决"),
        text("因本合同发生的争议，双方协商解决；协商不成的，提交港口所在地海事法院诉讼。"),
        *signatures("甲方", "乙方"),
    ),
)

FORWARDING = DemoTemplate(
    name="货运代理协议",
    description="委托货运代理人办理订舱、报关、拖车等出口货运代理事务。",
    owner="port",
    roles=(("甲方", 1, True), ("乙方", 2, False)),
    body=(
        title("货运代理协议"),
        text("甲方（委托人）：演示港务集团有限公司"),
        Line(("乙方（货运代理人）：", Blank("agent", "货运代理人名称", 480)), gap=26),
        heading("第一条  代理事项"),
        text("甲方委托乙方办理下列出口货物的订舱、装箱、港区进港及单证交接等事务："),
        Line(
            (
                "起运港：",
                Blank("origin", "起运港", 220),
                "  目的港：",
                Blank("destination", "目的港", 260),
            )
        ),
        Line(
            (
                "货物品名：",
                Blank("goods", "货物品名", 300),
                "  箱型箱量：",
                Blank("containers", "箱型箱量", 200),
            )
        ),
        Line(
            (
                "预计开航日期：",
                Blank("etd", "预计开航日期", 220, "date"),
                "  需代理报关",
                Box("customs", "需代理报关"),
            )
        ),
        text("", gap=6),
        heading("第二条  双方义务"),
        text("甲方应如实申报货物品名、重量及危险品属性，并按时提供报关所需单证；乙方应"),
        text("谨慎选择承运人，及时通报船期变化，不得擅自变更甲方的订舱指示。"),
        Line(
            (
                "乙方业务联络人及电话：",
                # Filled in by the forwarder itself after the contract is sent, before signing.
                Blank(
                    "agent_contact",
                    "乙方联络人及电话",
                    420,
                    options={"filled_by": "party", "role": "乙方", "max_length": 40},
                ),
            ),
            gap=26,
        ),
        heading("第三条  代理费与垫付费用"),
        Line(
            (
                "代理费为每票人民币",
                Blank(
                    "fee",
                    "代理费（元/票）",
                    160,
                    "number",
                    options={"min_value": "0", "decimals": 2},
                ),
                "元。乙方代甲方垫付的海运费、港杂费等",
            )
        ),
        text("凭有效票据于开航后三十日内结算。", gap=26),
        heading("第四条  责任"),
        text("乙方因过错造成甲方货物延误、灭失或单证差错的，承担相应赔偿责任；承运人"),
        text("责任期间发生的货损，乙方应协助甲方向承运人索赔。", gap=26),
        heading("第五条  其他"),
        text("本协议一式电子文本，经双方可靠电子签名后生效，各方可随时下载核验。"),
        *signatures("甲方", "乙方"),
    ),
)

DEMO_TEMPLATES = (TALLY, PORT_OPERATION, FORWARDING)
