"""Question-to-question matching with the real embedder: rewordings match, near misses do not."""

from __future__ import annotations

import pytest

from bot.answering.faq import FaqMatcher, swapped_terms
from bot.embedding import Embedder
from bot.models import Document

HOME = frozenset({"江岸", "武汉"})

# (entry's question, a question that is the same one in other words)
REWORDED = [
    ("岳飞街1号是做什么的？", "岳飞街1号是干什么的"),
    ("人才公寓租金怎么收？", "人才公寓的租金是怎么收的？"),
    ("新公司刻章要钱吗？", "新开的公司刻章要不要钱"),
    ("人才的孩子上学怎么安排？", "人才的子女上学怎么解决？"),
    ("拿了地多久能开工？", "拿地以后要多久才能开工建设？"),
]
# (entry's question, nearly the same words but another question)
NEAR_MISSES = [
    ("博士来江岸有多少补贴？", "硕士来江岸有多少补贴？"),  # a word swapped
    ("本科毕业生有补贴吗？", "专科毕业生有补贴吗？"),
    ("2023年度小微企业房租补贴申请", "2024年度小微企业房租补贴申请"),
    ("创业担保贷款额度是多少", "创业担保贷款利率是多少"),
    ("小微企业可以享受房租补贴吗", "小微企业不可以享受房租补贴吗"),  # negated
    ("新公司刻章要钱吗？", "新公司刻章要多长时间？"),  # another kind of answer
    ("什么是告知承诺制？", "告知承诺制怎么办？步骤是什么？"),  # what it is, not how
    ("江岸区人才驿站可以免费住几天", "江岸区人才驿站可以免费住几次"),
    ("周末能去政务中心办事吗？", "周末能去政务中心办哪些事？"),
    ("政务服务中心在哪？几点上班？", "汉阳区政务服务中心在哪里，几点下班"),  # another place
]


def _matcher(embedder: Embedder, question: str) -> FaqMatcher:
    entry = Document(doc_id="faq-1", title=question, text="江岸区的答复。", kind="faq")
    return FaqMatcher([entry], embedder)


@pytest.mark.parametrize(("entry", "asked"), REWORDED)
def test_rewordings_match(embedder: Embedder, entry: str, asked: str) -> None:
    match = _matcher(embedder, entry).match(asked, HOME)
    assert match is not None and match.phrasing == entry


@pytest.mark.parametrize(("entry", "asked"), NEAR_MISSES)
def test_near_misses_do_not_match(embedder: Embedder, entry: str, asked: str) -> None:
    assert _matcher(embedder, entry).match(asked, HOME) is None


def test_swapped_terms_ignore_function_words_and_synonyms() -> None:
    assert swapped_terms("硕士来江岸有多少补贴", "博士来江岸有多少补贴") == [("硕", "博")]
    assert swapped_terms("公司上市区里奖多少", "企业上市区里奖励多少") == []
    assert swapped_terms("人才公寓能住多久", "人才公寓可以住多久") == []


def test_odd_input_never_matches(embedder: Embedder) -> None:
    matcher = _matcher(embedder, "新公司刻章要钱吗？")
    for asked in ("", "？？！", "🙂🙂", "hello", "刻" * 1000, "\0"):
        assert matcher.match(asked, HOME) is None
