"""Reading order of OCR boxes (ingest/ocr_layout.py): single column top-to-bottom, two
columns left first with spanning lines in place, a line run across the gutter cut in two."""

from __future__ import annotations

import random

from ingest.ocr_layout import Box, reading_order, split_at_gaps


def _two_column_page() -> tuple[list[Box], list[str]]:
    boxes = [Box(300, 100, 1350, 150, "标题")]
    expected = ["标题"]
    for i in range(8):
        y = 250 + i * 55
        boxes.append(Box(190, y, 790 - (200 if i == 7 else 0), y + 34, f"左{i}"))
        boxes.append(Box(860, y, 1460, y + 34, f"右{i}"))
    expected += [f"左{i}" for i in range(8)] + [f"右{i}" for i in range(8)]
    # a full-width line between two column sections, then a second section
    boxes.append(Box(190, 720, 1460, 754, "通栏"))
    expected.append("通栏")
    for i in range(4):
        y = 800 + i * 55
        boxes.append(Box(190, y, 790, y + 34, f"下左{i}"))
        boxes.append(Box(860, y, 1460, y + 34, f"下右{i}"))
    expected += [f"下左{i}" for i in range(4)] + [f"下右{i}" for i in range(4)]
    boxes.append(Box(1100, 1100, 1440, 1134, "江岸区人民政府"))
    expected.append("江岸区人民政府")
    return boxes, expected


def test_two_columns_left_first_spanning_lines_in_place():
    boxes, expected = _two_column_page()
    random.Random(3).shuffle(boxes)
    assert reading_order(boxes) == expected


def test_single_column_top_to_bottom_and_pieces_of_a_line_joined_left_to_right():
    boxes = [Box(190, 100 + i * 55, 1460, 134 + i * 55, f"行{i}") for i in range(10)]
    # a line detected in two pieces, slightly offset vertically (a rotated scan)
    boxes.append(Box(900, 652, 1460, 688, "后半"))
    boxes.append(Box(190, 650, 880, 684, "前半"))
    # a short right-aligned signature does not make a second column
    boxes.append(Box(1100, 800, 1440, 834, "签名"))
    random.Random(5).shuffle(boxes)
    assert reading_order(boxes) == [f"行{i}" for i in range(10)] + ["前半后半", "签名"]


def test_line_across_the_gutter_cut_into_its_columns():
    words = [
        Box(190, 300, 400, 334, "核结果将"),
        Box(400, 300, 790, 334, "通过短信通知"),
        Box(860, 301, 1460, 335, "支持企业开展"),
    ]
    assert [b.text for b in split_at_gaps(words)] == ["核结果将通过短信通知", "支持企业开展"]
    title = [Box(300, 100, 700, 150, "关于开展"), Box(720, 100, 1350, 150, "创新券申报")]
    assert [b.text for b in split_at_gaps(title)] == ["关于开展创新券申报"]
