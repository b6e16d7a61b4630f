"""Answers as WeChat plain text: Markdown gone, citation marks and a source list, byte-safe
parts for WeChat's ~2 KB text messages."""

from __future__ import annotations

import random
import re

import pytest

from bot.models import Source
from web.wechat.plaintext import plain_text, reply_parts, split_bytes

SOURCES = [
    {"title": "江岸区企业开办服务指南", "section": "办理时限", "url": "https://zwfw.example.cn/kb"},
    {"title": "政务服务中心办公时间", "section": "", "url": ""},
    {"title": "人才公寓申请办法", "section": "人才公寓申请办法", "url": "javascript:alert(1)"},
]

MARKDOWN = """# 企业开办

## 办理时限

企业开办实行**一网通办**，详见[江岸政务网](https://zwfw.example.cn/startup)或 <https://a.example.cn/x>：

- 材料齐全的，`0.5`个工作日内办结；[1]
- 全程*网上*办理，最多~~跑两次~~跑一次。[1][3]
  - 可选免费寄递
1. 网上申请
2) 窗口领取

> 温馨提示：周末不办公[2]

---

| 事项 | 时限 |
|:---|---:|
| 营业执照 | 0.5天 |
| 公章刻制 | 当天 |

```
代码块 **保持**
```
"""


def test_markdown_is_stripped_and_structure_kept():
    out = plain_text(MARKDOWN, SOURCES)
    body = out.split("\n\n来源：")[0]
    for symbol in ("**", "##", "`", "~~", "](", "|", "> ", "---", "<http"):
        assert symbol not in body.replace("代码块 **保持**", ""), symbol
    lines = body.splitlines()
    assert "【企业开办】" in lines and "【办理时限】" in lines
    assert (
        "企业开办实行一网通办，详见江岸政务网（https://zwfw.example.cn/startup）或 https://a.example.cn/x："
        in lines
    )
    assert "· 材料齐全的，0.5个工作日内办结；〔1〕" in lines
    assert "· 全程网上办理，最多跑两次跑一次。〔1〕〔2〕" in lines
    assert "  · 可选免费寄递" in lines
    assert "1. 网上申请" in lines and "2. 窗口领取" in lines
    assert "温馨提示：周末不办公〔3〕" in lines
    assert "事项：营业执照；时限：0.5天" in lines and "事项：公章刻制；时限：当天" in lines
    assert "代码块 **保持**" in lines  # code is shown as written


def test_markers_become_a_numbered_source_list():
    out = plain_text("办结时限0.5天[1]，周末不办公[2]，另见【3】[1]。", SOURCES)
    body, sources = out.split("\n\n来源：\n")
    assert body == "办结时限0.5天〔1〕，周末不办公〔2〕，另见〔3〕〔1〕。"
    assert sources.splitlines() == [
        "〔1〕江岸区企业开办服务指南（办理时限）",
        "https://zwfw.example.cn/kb",
        "〔2〕政务服务中心办公时间",
        "〔3〕人才公寓申请办法",  # section equal to the title is not repeated; no javascript: url
    ]


def test_only_cited_sources_in_order_of_first_use():
    out = plain_text("先看这个[3]，再看那个[1]，不存在的[9]。", SOURCES)
    assert out.startswith("先看这个〔1〕，再看那个〔2〕，不存在的。")
    assert out.endswith(
        "来源：\n〔1〕人才公寓申请办法\n〔2〕江岸区企业开办服务指南（办理时限）\nhttps://zwfw.example.cn/kb"
    )
    assert "政务服务中心" not in out


def test_uncited_answer_lists_all_sources_and_none_lists_nothing():
    out = plain_text("请致电咨询。", SOURCES)
    assert out.count("〔") == 3 and "〔3〕人才公寓申请办法" in out
    assert plain_text("没有找到相关内容。", []) == "没有找到相关内容。"


def test_source_objects_and_public_dicts_agree():
    src = Source(
        doc_id="business-startup",
        title="企业开办指南",
        section="办理时限",
        snippet="…",
        url="https://zwfw.example.cn/a?b=1",
        score=0.5,
    )
    bad = Source(doc_id="x", title="资料", section="", snippet="", url="data:text/html,x", score=0)
    text = "0.5个工作日[1]，见资料[2]"
    assert plain_text(text, [src, bad]) == plain_text(text, [src.public(), bad.public()])
    assert "data:" not in plain_text(text, [src, bad])
    assert "https://zwfw.example.cn/a?b=1" in plain_text(text, [src, bad])


def test_a_real_answer(assistant):
    answer = assistant.ask("企业开办要几天？")
    assert answer.answered and answer.sources
    out = plain_text(answer.text, answer.sources)
    assert "[1]" not in out and "〔1〕" in out and "\n\n来源：\n〔1〕" in out
    assert re.search(r"^· ", out, re.M)  # the answer's "- " list is kept as lines
    cited_title = answer.sources[0].title
    assert f"〔1〕{cited_title}" in out
    # only the cited source is listed, not all five retrieved
    assert out.count("〔2〕") == 0 or "[2]" in answer.text
    parts = reply_parts(answer.text, [s.public() for s in answer.sources], limit=300)
    assert all(len(p.encode()) <= 300 for p in parts)
    assert _squash("".join(parts)) == _squash(out)


# --- byte splitting ---
def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _check(parts: list[str], original: str, limit: int) -> None:
    assert parts and all(parts)
    for part in parts:
        assert len(part.encode("utf-8")) <= limit
        assert part == part.strip()
        part.encode("utf-8").decode("utf-8")  # whole characters only
    assert _squash("".join(parts)) == _squash(original)


@pytest.mark.parametrize(("char", "width"), [("a", 1), ("é", 2), ("中", 3), ("😀", 4), ("𠀀", 4)])
@pytest.mark.parametrize("limit", [4, 5, 7, 10, 2000])
def test_hard_cuts_never_break_a_character(char, width, limit):
    assert len(char.encode()) == width
    text = char * 3001
    parts = split_bytes(text, limit)
    _check(parts, text, limit)
    assert all(len(p.encode()) > limit - width for p in parts[:-1])  # cuts are as late as possible


def test_mixed_widths_random_text():
    rng = random.Random(7)
    alphabet = "aZ9 é中文。！？；😀👍🏽\n𠀀"
    for limit in (4, 13, 64, 500):
        text = "".join(rng.choice(alphabet) for _ in range(3000))
        _check(split_bytes(text, limit), text, limit)


def test_boundaries_preferred_in_order():
    para = "第一段第一句。第一段第二句。"
    text = f"{para}\n\n第二段。"
    assert split_bytes(text, len(text.encode()) - 1) == [para, "第二段。"]
    lines = "第一行内容很长很长\n第二行\n第三行内容"
    assert split_bytes(lines, 40) == ["第一行内容很长很长\n第二行", "第三行内容"]
    sentences = "第一句话说完了。第二句话也说完了！第三句还没说完"
    assert split_bytes(sentences, 60) == ["第一句话说完了。第二句话也说完了！", "第三句还没说完"]
    quoted = "他说“办完了。”然后走了"
    assert split_bytes(quoted, 25)[0] == "他说“办完了。”"
    # a paragraph break too early in the window loses to a later line break
    early = "短。\n\n" + "长" * 30 + "\n" + "尾" * 10
    assert split_bytes(early, 110)[0] == "短。\n\n" + "长" * 30


def test_emoji_sequences_kept_whole_on_hard_cut():
    text = "👍🏽" * 50  # thumbs up + skin tone modifier (not a combining mark) - whole code points
    _check(split_bytes(text, 10), text, 10)
    text = "e\u0301" * 100  # e + combining acute: a cut never leaves the accent alone
    parts = split_bytes(text, 9)
    _check(parts, text, 9)
    assert not any(p[0] == "\u0301" for p in parts)


def test_short_and_empty():
    assert split_bytes("  你好  ") == ["你好"]
    assert split_bytes("") == [] and split_bytes(" \n\n ") == []
    with pytest.raises(ValueError):
        split_bytes("abc", 3)


def test_ten_thousand_characters():
    paragraph = "企业开办实行一网通办，材料齐全的0.5个工作日内办结。全程网上办理，最多跑一次！"
    text = "\n\n".join(f"{i}. {paragraph * 3}" for i in range(10_000 // (len(paragraph) * 3) + 1))
    assert len(text) >= 10_000
    parts = split_bytes(text, 2000)
    _check(parts, text, 2000)
    assert all(p.endswith(("。", "！")) for p in parts)  # every cut at a paragraph or sentence end
    assert len(parts) == pytest.approx(len(text.encode()) / 2000, abs=3)


def test_reply_parts_leave_room_for_the_prompt():
    prompt = "回复“继续”查看更多"
    answer = "\n\n".join(f"- 第{i}项材料：身份证件、营业执照、申请表。[1]" for i in range(300))
    parts = reply_parts(answer, SOURCES, limit=600, more_prompt=prompt)
    assert len(parts) > 3
    for part in parts[:-1]:
        assert len((part + "\n\n" + prompt).encode()) <= 600
    assert len(parts[-1].encode()) <= 600
    assert parts[-1].endswith("https://zwfw.example.cn/kb")  # the source list comes last
    full = plain_text(answer, SOURCES)
    assert _squash("".join(parts)) == _squash(full)
    # a short answer is one part, with no room reserved
    assert reply_parts("办结时限0.5天[1]", SOURCES) == [plain_text("办结时限0.5天[1]", SOURCES)]
    # the last part may use the whole limit: exactly `limit` bytes is one part
    exact = "字" * 200
    assert reply_parts(exact, [], limit=600) == [exact]
    with pytest.raises(ValueError):
        reply_parts(answer, SOURCES, limit=20, more_prompt=prompt)
