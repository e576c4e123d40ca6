"""The paper between a seal's ring and its arc lettering (issue 13 item 10): EPORT.md §5 gives
0.5 mm from the rim (the 发票专用章 rule, kept on every round and oval seal). Before the fix,
the corners of the name's characters reached into the ring.

The gap is measured on the rendered PNG alone, with no knowledge of how it was drawn: ink is
alpha ≥ 128 (the middle of every anti-aliased edge). From the image's centre, rays every
0.25° find the ring as the outermost run of ink and its inner edge as where that run ends.
A ray whose run is thicker than the ring's usual thickness (the median over all rays) has
lettering fused with the ring: gap 0. Every other ink pixel more than 1.5 px inside the inner
edge is lettering or star; the gap is its Euclidean distance to the nearest inner-edge point
(pixel centre to edge: minus one pixel, so the measure never flatters). An oval works the same
way: the distance is Euclidean, not along the ray.
"""

from __future__ import annotations

import io
import math
import statistics
from dataclasses import dataclass

import pytest
from PIL import Image

from portsign.seals import render

PX_PER_MM = render.DPI / 25.4
RAYS = 1440  # 0.25° apart: neighbouring inner-edge points ≤ 1.2 px apart on a 45 mm oval
STEP = 0.25  # px along a ray
WINDOW = 20  # rays each side (5°) searched for the nearest inner-edge point
BAND_PX = 3 * PX_PER_MM  # lettering deeper than 3 mm inside the ring cannot be the nearest


@dataclass(frozen=True)
class Gap:
    smallest_mm: float  # paper between the ring's inner edge and the nearest other ink
    fused_rays: int  # rays on which lettering touches the ring
    ring_mm: float  # the ring's thickness (median), to show the ring was found
    at: tuple[int, int]  # the ink pixel nearest the ring, for the failure message


def _ink(png: bytes) -> tuple[bytes, int, int]:
    image = Image.open(io.BytesIO(png))
    alpha = image.getchannel("A")
    return alpha.point(lambda v: 255 if v >= 128 else 0).tobytes(), image.width, image.height


def _measure(png: bytes) -> Gap:
    ink, width, height = _ink(png)
    cx, cy = width / 2, height / 2

    def inked(x: float, y: float) -> bool:
        ix, iy = math.floor(x), math.floor(y)
        return 0 <= ix < width and 0 <= iy < height and ink[iy * width + ix] != 0

    edge: list[tuple[float, float, float]] = []  # per ray: inner-edge point and its radius
    thickness: list[float] = []
    for k in range(RAYS):
        dx, dy = math.sin(2 * math.pi * k / RAYS), -math.cos(2 * math.pi * k / RAYS)
        r = math.hypot(cx, cy)
        while r > 0 and not inked(cx + r * dx, cy + r * dy):
            r -= STEP
        outer = r
        while r > 0 and inked(cx + r * dx, cy + r * dy):
            r -= STEP
        inner = r + STEP  # the last inked sample
        thickness.append(outer - inner)
        edge.append((cx + inner * dx, cy + inner * dy, inner))
    ring = statistics.median(thickness)
    fused = sum(1 for t in thickness if t > ring + 2)
    smallest, at = math.inf, (-1, -1)
    for y in range(height):
        for x in range(width):
            if not ink[y * width + x]:
                continue
            px, py = x + 0.5, y + 0.5
            radius = math.hypot(px - cx, py - cy)
            k = round(math.atan2(px - cx, cy - py) / (2 * math.pi) * RAYS) % RAYS
            depth = edge[k][2] - radius
            if depth < 1.5 or depth > BAND_PX:
                continue  # the ring itself, or too deep to matter
            for j in range(k - WINDOW, k + WINDOW + 1):
                ex, ey, _r = edge[j % RAYS]
                distance = math.hypot(px - ex, py - ey) - 1
                if distance < smallest:
                    smallest, at = distance, (x, y)
    return Gap(smallest / PX_PER_MM, fused, ring / PX_PER_MM, at)


SHORT = "港务"
MIDDLE = "宁波测试港口物流有限公司"
LONG = "宁波测试港口国际集装箱码头物流供应链管理有限公司"


@pytest.mark.parametrize(
    "draw",
    [
        pytest.param(lambda: render.round_seal(name=SHORT, kind_text="合同专用章"), id="round-2"),
        pytest.param(
            lambda: render.round_seal(name=MIDDLE, kind_text="合同专用章", code="3302030012345"),
            id="round-12-code",
        ),
        pytest.param(lambda: render.round_seal(name=LONG, kind_text="公章"), id="round-24"),
        pytest.param(
            lambda: render.round_seal(name=MIDDLE, kind_text="人事专用章", diameter_mm=38),
            id="round-38mm",
        ),
        pytest.param(lambda: render.oval_seal(name=SHORT, kind_text="财务专用章"), id="oval-2"),
        pytest.param(
            lambda: render.oval_seal(name=MIDDLE, kind_text="财务专用章", code="3302030012345"),
            id="oval-12-code",
        ),
        pytest.param(lambda: render.oval_seal(name=LONG, kind_text="财务专用章"), id="oval-24"),
    ],
)
def test_arc_lettering_keeps_half_a_millimetre_from_the_ring(draw):
    gap = _measure(draw().png)

    assert gap.fused_rays == 0
    assert 1.0 < gap.ring_mm < 1.6  # the ring was found: 3.2 % of Ø / 4 % of the height
    # At least the 0.5 mm of paper, and less than 0.95 mm (the name hugs the ring).
    assert 0.5 <= gap.smallest_mm <= 0.95, gap


def _with_ink(png: bytes, box: tuple[int, int, int, int]) -> bytes:
    image = Image.open(io.BytesIO(png))
    alpha = image.getchannel("A")
    alpha.paste(255, box)
    image.putalpha(alpha)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_measure_sees_ink_near_or_on_the_ring():
    """The measure can fail: a speck 2 px inside the ring (0.17 mm of paper) at 3 o'clock, where
    a two-character name leaves the ring bare, and a bar across the ring at 12 o'clock."""
    png = render.round_seal(name=SHORT, kind_text="").png  # ring inner edge at x = 472
    assert _measure(png).smallest_mm >= 0.5

    near = _measure(_with_ink(png, (467, 247, 470, 250)))
    fused = _measure(_with_ink(png, (244, 10, 252, 60)))

    assert near.fused_rays == 0
    assert near.smallest_mm < 0.2
    assert near.at[0] == 469  # the speck's column nearest the ring
    assert 247 <= near.at[1] <= 249
    assert fused.fused_rays > 0
