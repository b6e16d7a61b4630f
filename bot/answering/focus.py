"""A question's focus — the content words that carry what is asked — and whether evidence has them.

"人才公寓可以养宠物吗" is about 宠物 in the 人才公寓; a passage on the apartment's eligibility
holds 人才公寓 but not 宠物, so it does not answer the question, however similar it looks.
The focus is what is left of the question once its scaffolding (请问, 可以, 吗), the words
that name the asked aspect (多久, 材料, 在哪 — checked separately, see `aspects`) and
function words are gone. Evidence supports a word when it contains the word itself or a
synonym from the editable list (`lexicon`).

Words most documents share (企业, 申请, 政策 …) are *generic*: their absence from a passage
says little. A missing word that is specific — rare in the knowledge base, or in no
document at all — means the passage does not speak about what was asked.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from bot.answering.aspects import STATISTIC_ASKED as _STATISTIC_ASKED
from bot.answering.aspects import asked_aspects
from bot.answering.lexicon import Lexicon
from bot.places import places_in
from bot.text import QUERY_STOP_PHRASES, bigram_set, normalize

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z][a-z0-9+#.-]*")

# Words that carry no topic: pronouns, modal and everyday verbs, adverbs, vague nouns.
# (Language, not the knowledge base: nothing here names a policy or a service.)
_STOP_WORDS = frozenset(
    """
    这个 那个 这些 那些 这种 那种 这样 那样 这边 那边 这里 那里 哪个 哪些 什么 怎么 怎样 如何
    我们 你们 他们 咱们 自己 大家 本人 个人 别人 人家 我司 贵司 本司 咱 俺
    可以 能够 能否 是否 需要 应该 应当 必须 想要 打算 准备好 希望 愿意 会不会 能不能 是不是
    有没有 可不可以 要不要 行不行 好不好 对不对
    现在 目前 今年 去年 明年 最近 马上 立刻 以后 之前 之后 已经 刚刚 刚才 然后 同时 一直 还是
    一般 通常 大概 大约 左右 具体 详细 一下 一些 有些 所有 全部 一起 一共 总共 多少 主要
    情况 问题 事情 事项 方面 东西 相关 有关 关于 对于 规定 说明 信息 内容 具体内容 详情
    请问 你好 您好 谢谢 麻烦 咨询 了解 知道 告诉 问问 请教 想问 问下 一问
    办理 申请 申报 办 弄 搞 做 干 用 去 来 到 给 让 把 被 要 能 会 想 找 问 看 说 拿 交 带
    怎么办 怎么样 为什么 为啥 多久 多长 时候 时间 地方 哪里 哪儿 这么 那么 多么
    的话 而且 但是 因为 所以 如果 假如 要是 或者 还有 以及 并且 另外 其他 其它 别的
    一个 一家 一次 一种 有的 没有 不是 就是 只是 还是 也是 都是 只有 才能 就能
    江岸 江岸区 本区 我区 区里 武汉 武汉市 湖北 湖北省 政府 区政府
    具备 满足 符合 属于 包括 包含 涉及 进行 实行 开展 给予 享受 获得 拥有 具有 达到 超过 完成
    允许 提供 需要 额外 特别 正常 合格 合法 正式 其中 有效 相应 对应 针对 通过 按照 根据 经过
    适合 适用 有关 涉及到 算不算 属不属于 算是 就算 还能 还要 还需 得到 拿到 要求 规定的
    市民 群众 居民 人们 公众 老百姓 民众 各界 社会各界 全市 全区 全省 全县
    最大 最小 最晚 最早 最多 最少 最长 最短 最高 最低 最快 最慢 最好 准备 打算 还是
    下来 出来 起来 上来 过来 进来 回来 时会 就会 也会 都会 将会 还会 便会 就能 也能 才能 时能
    清楚 不清楚 明白 不明白 不懂 搞不懂 疑问 困惑 办事 帮忙 帮 帮帮 只能 只要 只会 只可
    """.split()
)
# Nouns that name the kind of answer wanted, not its subject: "…的目的是什么", "有哪些
# 新举措", "取得了哪些成绩". The subject is elsewhere in the question.
_ANSWER_NOUNS = frozenset(
    """
    目的 意义 作用 成果 成绩 效果 成效 办法 方法 措施 举措 新举措 新措施 做法 要求 注意事项 事项
    内容 原则 目标 优势 特点 特色 模式 过程 变化 意见 指导意见 文件 情况 方式 方案 代表 指代 含义
    定义 界定 场合 人群 群体 品类 种类 类型 类别 范围 规定 问题 方面 任务 重点 途径 手段 机制 体系
    理念 思路 路径 区别 关系 影响 原因 结果 结论 经验 安排 部署 进展 动作 职责 责任 义务 权利
    标准 条件 依据 政策 新政 规则 程序 环节 步骤 名称 名单 数量 数据 金额 时间 地点 对象 主体
    意思 机理 方针 功能 形式 物品 现实意义 用途 好处 价值 前景 计划 打算 思考 建议 税种 险种 税费 负担 经济负担 团体 个体
    限制 年限 期限 时长 比例 幅度
    """.split()
)
# Words that qualify the kind of answer asked for (硬性要求, 具体流程, 必备材料): scaffolding
# when an answer noun or an aspect's cue follows them.
_QUALIFIERS = frozenset(
    "硬性 具体 详细 基本 主要 特殊 必备 必要 必须 一般 最新 其他 额外 相关 全部 完整 明确 特别 总体 大致 准确 确切 正式 完全".split()
)
# Question scaffolding, longest first (shared with lexical matching).
_SCAFFOLD = re.compile(
    "|".join(
        sorted(
            [
                *map(re.escape, QUERY_STOP_PHRASES),
                r"哪几[个项种类条位家批件样步]?",
                r"[少多](交|给|拿|补|花|收|付|缴)点",
                "那些",
                "哪类",
                "哪种",
                "何种",
                "何时",
                "何地",
                "何处",
                "怎样的",
                "什么样的",
                "百分之",
                # a colloquial particle ending the question (网上报哈？ 要花钱办不？)
                r"(?<=[\u4e00-\u9fff])[哈不没](?=[?!。.]*$)",
            ],
            key=len,
            reverse=True,
        )
    )
)


@dataclass(frozen=True)
class FocusTerm:
    word: str
    weight: float  # IDF-like: rarer in the knowledge base weighs more
    generic: bool  # most documents share it: its absence says little
    strong: bool = True  # a noun (宠物, 停车位); verbs and qualifiers (收取, 额外) are weak
    unknown: bool = False  # no document mentions it (nor a synonym)
    known: bool = True  # in the segmenter's dictionary (else a guess such as 家山科)
    around: str = ""  # the word with its neighbouring characters in the question
    head: bool = False  # the last specific noun: what the question is about
    # part of the head's noun phrase (担保 in 创业担保贷款, 排放 in 碳排放权质押贷款)
    modifier: bool = False
    # the title of another document found for the question names it (质量奖): it says which
    # document the question is about (set by the answerer, which knows what was found)
    titled: bool = False

    @property
    def decisive(self) -> bool:
        """Whether evidence without this word does not answer the question.

        A specific noun always is; a verb or qualifier only when no document uses it at
        all (汇算清缴 is a procedure the knowledge base lacks; 收取 and 具备 are wording).
        """
        return ((self.strong or self.modifier) and not self.generic) or self.unknown


# Above this focus coverage, a missing word beside the subject that other documents use
# is wording, not a different question (measured in docs/EVALUATION.md).
_TOLERATE = 0.5


@dataclass
class FocusCheck:
    """How well some evidence covers a question's focus."""

    terms: list[FocusTerm]
    supported: list[bool] = field(default_factory=list)
    # per term: missing, and the evidence names another of its kind instead (博士 for 硕士)
    replaced: list[bool] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        """Decisive focus words the evidence does not have (the answer would not be about them).

        One side detail of a long, well-covered question is forgiven — a question that
        restates a notice in its own words (…发出通知, …局长郭顺民要求…) — unless it is the
        subject itself: the head noun or a word of its noun phrase.
        """
        replaced = self.replaced or [False] * len(self.terms)
        swapped = {t.word for t, r in zip(self.terms, replaced, strict=True) if r}
        missing = [
            t
            for t, ok in zip(self.terms, self.supported, strict=True)
            if not ok and (t.decisive or t.word in swapped)
        ]
        if self.coverage >= _TOLERATE:
            # a word some other document uses, beside the subject, is a detail of wording —
            # unless the evidence speaks of another of its kind (硕士 asked, 博士 answered),
            # or the word names what another document is about (区长质量奖 asked, a passage
            # of the high-tech guide cited for 企业所得税)
            missing = [
                t
                for t in missing
                if t.unknown or t.head or t.modifier or t.titled or t.word in swapped
            ]
        decisive = [t for t in self.terms if t.decisive]
        if (
            len(missing) == 1
            and not (
                missing[0].head
                or missing[0].modifier
                or missing[0].titled
                or missing[0].word in swapped
            )
            and len(decisive) - 1 >= 4
            and self.coverage >= 0.75
        ):
            return []
        return [t.word for t in missing]

    @property
    def coverage(self) -> float:
        """Weighted share of the focus the evidence has (1.0 when there is no focus)."""
        total = sum(t.weight for t in self.terms)
        if not total:
            return 1.0
        have = sum(t.weight for t, ok in zip(self.terms, self.supported, strict=True) if ok)
        return have / total

    @property
    def specific_coverage(self) -> float:
        """Weighted share of the specific (not generic) terms the evidence has (1.0: none)."""
        pairs = [(t, ok) for t, ok in zip(self.terms, self.supported, strict=True) if not t.generic]
        total = sum(t.weight for t, _ in pairs)
        return sum(t.weight for t, ok in pairs if ok) / total if total else 1.0

    @property
    def passed(self) -> bool:
        return not self.missing


# Part-of-speech classes (jieba's tags): nouns and the like carry the subject; verbs,
# adjectives and qualifiers carry it weakly; pronouns, numerals, particles … not at all.
_STRONG_POS = ("n", "vn", "an", "l", "j", "i", "eng", "s", "x")
# Times of day and days off are what a question asks about (晚上能施工吗), not when it is
# asked: a passage that never mentions them does not answer it.
_WHEN_NOUNS = frozenset(
    "晚上 夜间 夜里 半夜 凌晨 清晨 早上 中午 周末 双休日 休息日 节假日 假期 春节 国庆 寒暑假 夏天 夏季 冬天 冬季".split()
)
# pronouns, numerals, measure and time words, prepositions, conjunctions, particles,
# adverbs, interjections, onomatopoeia, locatives: when, where and how much are aspects
# (checked on their own), the rest is grammar
_DROP_POS = ("r", "q", "p", "c", "u", "y", "d", "e", "o", "f", "w")
# numerals and time words, by their form (the tagger also calls 港澳台 a numeral, 青年 a time)
_NUMERIC = re.compile(r"[0-9一二三四五六七八九十百千万亿两几多少半第]")
_TEMPORAL = re.compile(
    r"^[0-9一二三四五六七八九十两上下本今去明前后每]*(月份|月|季度|年度|年|日|天|周|号|春|夏|秋|冬|春天|夏天|秋天|冬天|季)$"
)
# 每平米, 每人, 每千瓦: a rate says how an amount is counted, not what it is for
_PER_UNIT = re.compile(
    r"^每(平方米|平米|平方|亩|人|户|家|年|月|天|日|件|项|瓦|千瓦|度|吨|台|套|间|个)$"
)
# 可以提前还款吗 / 能否延期 / 能不能转让: a yes-or-no question about an action
_MAY_I = re.compile(
    r"(?:(?:可以|(?<![才就也都只])能|允许)([^,，。;；?？!！]{2,12}?)[吗么]"
    r"|(?:可不可以|能不能|能否|可否|是否可以|是否能)([^,，。;；?？!！]{2,12}?)(?:吗|么|[?？]|$)"
    r"|(?:需要|要不要|用不用|是否需要|(?<![需只还就也都])要)(?:去)?([^,，。;；?？!！]{2,12}?)[吗么])"
)
_FUNCTION_LEAD = "能要会可有没不想让把被给在去来那这就都还也又再才"
# A number that may name a programme (3551光谷人才计划), not a year or a quantity.
_PROGRAM_NUMBER = re.compile(r"(?!(19|20)\d\d$)\d{3,6}")
_UNIT_AFTER = re.compile(r"\s*[年月日号天万亿元个人家项件%‰平米吨度台套条次名岁户元]")
# Adverbs that say which occasion is asked about (再次申请 is not the first application).
_OCCASIONS = frozenset({"再次", "重新", "逾期"})
# Single characters that name a matter of their own (会罚多少钱 is about penalties):
# the word that names it.
_SINGLE_SUBJECTS = {"罚": "处罚", "赔": "赔偿"}
# Adverbs a segmenter leaves on a verb (刚成立, 最省心): the verb is the word.
_ADVERB_LEAD = "刚最很更太先正"
# More characters a segmenter's guess may carry at its edges (系统对, 复产前, 日起).
_OOV_EDGE = "对向从于为以与和及或时前后起中内里上的得地着过已将所些个件项条种次位张份"
# Everyday verb compounds: a light verb (办, 弄, 拿 …) or a result / direction complement
# (…好, …完, …到): wording, not a subject, even when no document uses them (办好, 批完).
_LIGHT_VERB = "办弄搞做干拿交领报批去来用给跑找问看打填开"
_COMPLEMENT = "好完定掉成到上下来去出起过住走进入回开"


@lru_cache(maxsize=4096)
def _tagged(text: str) -> tuple[tuple[str, str, int], ...]:
    """(word, part of speech, offset) for a normalised text."""
    import rjieba

    out: list[tuple[str, str, int]] = []
    offset = 0
    for word, pos in rjieba.tag(text):
        if out and word in _GRADE and re.fullmatch(r"[a-z0-9]", out[-1][0]):
            out[-1] = (out[-1][0] + word, "n", out[-1][2])  # A类, 3星: one word
        else:
            out.append((word, pos, offset))
        offset += len(word)
    return tuple(out)


_GRADE = ("类", "级", "档", "型", "星", "等")
# A grade written with a number or a letter (4a, b类, 3a级): what is asked of, and another
# grade of the same form in the evidence (4a for 5a) is another item of the same kind.
_GRADE_TOKEN = re.compile(r"[0-9]+[a-z]|[0-9]*[a-z][类级档型星等]")


def _grade_kin(word: str) -> re.Pattern[str] | None:
    """The form of a grade token (5a → a number and a), matched in evidence; None for words."""
    if not _GRADE_TOKEN.fullmatch(word):
        return None
    if "a" <= word[-1] <= "z":
        form = "[0-9]+" + re.escape(word[-1])
    else:
        form = re.sub("[0-9]+", "[0-9]+", word[:-2]) + "[a-z]" + re.escape(word[-1])
    return re.compile(rf"(?<![0-9a-z]){form}(?![0-9a-z])")


# sentence-final particles the scaffolding takes, which a noun may end in (网吧)
_PARTICLES = frozenset("吧吗呢啊呀嘛")
_PLACE_SUFFIX = re.compile(r"(省|市|区|县|州|盟|旗|镇|乡|村|街道)$")
_CITY = re.compile(r"^[\u4e00-\u9fff]{2,3}(省|市|县|州)$")


@lru_cache(maxsize=8192)
def _in_dictionary(word: str) -> bool:
    import rjieba

    return bool(rjieba.has_word(word))


def _mask(text: str) -> list[bool]:
    """Per character: part of the question's scaffolding or of an aspect cue."""
    masked = [False] * len(text)
    spans = [m.span() for m in _SCAFFOLD.finditer(text)]
    spans.extend(asked_aspects(text).spans)
    for start, end in spans:
        for i in range(start, end):
            masked[i] = True
    return masked


@dataclass(frozen=True)
class _Token:
    word: str
    strong: bool
    known: bool
    light: bool = False  # an everyday verb compound (办好, 拿到)
    around: str = ""  # the word with up to three characters either side, as the question has it
    start: int = 0  # where it starts in the normalised question
    end: int = 0
    pos: str = ""  # the segmenter's part of speech


def _unglue(word: str, cut: bool = False) -> str:
    """A segmenter's guess without the grammar characters at its edges (能领 → 领, 那要 → 要);
    when that leaves one character of a guess an aspect cue was cut from, the guess less
    only its function characters (上云|有补贴吗 → 上云; not 那|张卡能 → 张卡)."""
    bare = word.strip(_FUNCTION_LEAD + _OOV_EDGE)
    if len(bare) < 2 and cut:
        head = word.strip(_FUNCTION_LEAD)
        if len(head) >= 2 and not set(head) & _GRAMMAR_CHARS:
            return head
    return bare


def focus_tokens(question: str) -> list[_Token]:
    """The question's content words, in order, without repeats (the tokens are frozen; one
    question is read by the FAQ matcher, the retriever and the answerer: done once)."""
    return list(_focus_tokens(question))


@lru_cache(maxsize=512)
def _focus_tokens(question: str) -> tuple[_Token, ...]:
    return tuple(_read_tokens(question))


def _read_tokens(question: str) -> list[_Token]:
    text = normalize(question)
    masked = _mask(text)
    out: list[_Token] = []
    seen: set[str] = set()
    for raw, pos, offset in _tagged(text):
        word = raw.strip()
        if not word or not (
            _TOKEN.fullmatch(word)
            or _GRADE_TOKEN.fullmatch(word)
            or _PROGRAM_NUMBER.fullmatch(word)
        ):
            continue
        if (
            pos.startswith("n")
            and _in_dictionary(word)
            and all(c in _PARTICLES for c, m in zip(word, masked[offset:], strict=False) if m)
        ):
            masked = masked[:offset] + [False] * len(word) + masked[offset + len(word) :]  # 网吧
        if sum(masked[offset : offset + len(word)]) * 2 >= len(word):
            continue  # mostly scaffolding or the asked aspect's own words
        if any(masked[offset : offset + len(word)]):
            # the segmenter glued a cue to a word (多少家|高企 → 家高企): keep the rest
            kept = "".join(c for c, m in zip(word, masked[offset:], strict=False) if not m)
            offset += word.find(kept[:1]) if kept else 0
            word = kept
            if not _in_dictionary(word) and len(word) < 2:
                continue
        numeric = pos.startswith(("m", "t")) and bool(_NUMERIC.search(word))
        if (
            (pos.startswith(_DROP_POS) and word not in _OCCASIONS)
            or numeric
            or (_TEMPORAL.match(word) and word not in _WHEN_NOUNS)
            or _PER_UNIT.match(word)
        ) and _CJK.match(word):
            continue  # see _DROP_POS
        known = _in_dictionary(word)
        if not known and _CJK.match(word):
            # an unknown word glued to a function character by the segmenter (能领, 那要, 人能)
            word = _unglue(word, cut=len(word) < len(raw.strip()))
        if len(word) == 2 and word[0] in "不没未" and _CJK.match(word):
            continue  # 不会, 没有: a negated verb (会不会, 有没有) is grammar here
        if not known and _CJK.match(word) and re.search("[不没]", word[1:]):
            # 渣土|车不装|定位: the segmenter's guess runs across a negation; the longest
            # piece either side is the word, if it is one
            word = max(re.split("[不没]", word), key=len)
            if len(word) < 2:
                continue
        end = offset + len(raw.strip())
        if word in _QUALIFIERS and (
            (end < len(masked) and masked[end])
            or any(text.startswith(n, end) for n in _ANSWER_NOUNS)
        ):
            continue  # 硬性|要求, 详细|流程: a qualifier of the kind of answer asked for
        descriptor = False
        for noun in () if word in _ANSWER_NOUNS else _ANSWER_NOUNS:
            if len(word) - len(noun) >= 2 and word.endswith(noun):
                # 优惠政策 → 优惠, 补救措施 → 补救: it says what kind of answer, weakly
                word, descriptor = word[: -len(noun)], True
                break
        if len(word) >= 3 and word[0] in "可能要会将应需" and _CJK.match(word):
            word = word[1:]  # 可延长 → 延长: a modal verb stuck to the verb it governs
        if len(word) == 3 and word[0] in "交付缴领办拿给" and _CJK.match(word) and not known:
            word = word[1:]  # 交租金 → 租金: a light verb stuck to its object
        if len(word) >= 3 and word[-1] in "对向从于为给" and _CJK.match(word):
            word = word[:-1]  # 系统对 → 系统: a preposition stuck to the noun before it
        if not word or word in _STOP_WORDS or word in _ANSWER_NOUNS or word in seen:
            continue
        if _CITY.match(word):
            continue  # 大理市, 东营市: a place, checked on its own (bot/places.py)
        if pos.startswith("ns") and (
            places_in(word) or (len(word) >= 3 and _PLACE_SUFFIX.search(word))
        ):
            continue  # a place name: checked on its own (bot/places.py)
        said = word
        if word in _SINGLE_SUBJECTS:  # 会罚多少钱 asks about 处罚
            word, pos, known = _SINGLE_SUBJECTS[word], "n", True
        if _CJK.match(word) and len(word) < 2:
            prev = out[-1] if out else None
            if (
                prev is not None
                and raw.strip() == word  # the segmenter's own single character
                and word in _KIND_CHARS
                and pos.startswith("n")
                and not pos.startswith(("nr", "ns"))
                and word not in _GRAMMAR_CHARS
                and prev.end == offset
                and text[prev.start : prev.end] == prev.word
                and word not in _PARTICLES
            ):
                # a noun character the segmenter left alone names a kind of the word before
                # it (成员|社, 水资源|税): one word with it
                merged = prev.word + word
                seen.add(merged)
                start = max(0, prev.start - 3)
                out[-1] = dataclasses.replace(
                    prev,
                    word=merged,
                    known=_in_dictionary(merged),
                    strong=True,
                    light=False,
                    around=text[start : prev.end + 4],
                    end=prev.end + 1,
                )
            continue  # a single character (养, 开, 刻) carries too little on its own
        if (
            word.isdigit()
            and _PROGRAM_NUMBER.fullmatch(word)
            and not _UNIT_AFTER.match(text, offset + len(word))
        ):
            pass  # 3551: a number that names a programme (checked against titles by the caller)
        elif not _CJK.match(word) and (len(word) < 2 or word.isdigit()):
            continue
        if places_in(word) and len(word) <= 4:
            continue  # places are checked on their own (bot/places.py)
        strong = (
            not _CJK.match(word)
            or word in _WHEN_NOUNS
            or (pos.startswith(_STRONG_POS) and pos != "vd" and not descriptor)
        )
        light = not strong and (
            (len(word) == 2 and word[0] in _LIGHT_VERB)
            or (len(word) <= 3 and word[-1] in _COMPLEMENT)
        )
        seen.add(word)
        at = text.find(said, offset)
        start = max(0, at - 3)
        out.append(
            _Token(
                word,
                strong,
                known,
                light,
                text[start : at + len(said) + 3],
                at,
                at + len(said),
                pos,
            )
        )
    return out


@lru_cache(maxsize=4096)
def _tag_boundaries(text: str) -> frozenset[int]:
    return frozenset(offset for _, _, offset in _tagged(text)) | {len(text)}


def _missed_nouns(text: str, masked: list[bool]) -> list[tuple[str, int]]:
    """Dictionary nouns of three or more characters that a token runs on into (博士后 in
    博士|后来|洪山), with where they start. Not numbers or dates (七八|月份), and not words
    begun inside a token (长三角|学习 holds no 三角学)."""
    bounds = _tag_boundaries(text)
    # the token each character is in, and its part of speech
    pos_at = [pos for word, pos, _ in _tagged(text) for _ in word]
    out = []
    for i in sorted(bounds):
        for size in (5, 4, 3):
            j = i + size
            if j > len(text) or j in bounds or _NUMERIC.search(text[i:j]):
                continue  # whole tokens: their parts are the focus already
            if pos_at[j - 1].startswith(_STRONG_POS):
                continue  # 申请人|才 runs into 人才, a word itself: the segmenter was right
            word = text[i:j]
            if (
                not any(b in bounds for b in range(i + 1, j))
                or any(masked[i:j])
                or not all(_CJK.match(c) for c in word)
                or not _in_dictionary(word)
            ):
                continue
            if _noun(word):
                out.append((word, i))
                break
    return out


def _split_words(text: str, masked: list[bool]) -> list[tuple[str, int]]:
    """Two single content characters side by side (年|审, 弄|丢), with where they start: a
    word the segmenter may have cut (the caller decides which are words)."""
    tags = _tagged(text)
    out = []
    for (a, _, at), (b, _, _) in zip(tags, tags[1:], strict=False):
        word = a + b
        if (
            len(a) == len(b) == 1
            and _CJK.match(a)
            and _CJK.match(b)
            and not ({a, b} & _GRAMMAR_CHARS)
            and not masked[at]
            and not masked[at + 1]
            and not _NUMERIC.search(word)
            and word not in _STOP_WORDS
        ):
            out.append((word, at))
    return out


@lru_cache(maxsize=4096)
def _noun(word: str) -> bool:
    tags = _tagged(word)
    return len(tags) == 1 and tags[0][1].startswith("n") and not tags[0][1].startswith("ns")


def focus_words(question: str) -> list[str]:
    """The question's content words, in order, without repeats."""
    return [t.word for t in focus_tokens(question)]


# 许可证 is what 许可 grants, 申请表 the 申请's form: a three-character word whose head is
# in the evidence and whose last character only says what kind of thing it is.
_KIND_SUFFIX = "证书表费区位点所处类型式性化金款率期额单号生者"
# Characters that name a kind of thing after the word for what it is of (成员社, 消费券,
# 水资源税): a noun the segmenter left alone joins the word before it.
_KIND_CHARS = frozenset("社税券费证卡站库款金房厂店馆码表单章照牌室楼园网险箱车")
# 电池厂, 烧烤店: a business named by what it makes or sells
_BUSINESS_SUFFIX = "厂店坊馆"


def supports(
    word: str,
    evidence: str,
    grams: set[str],
    lexicon: Lexicon,
    known: bool = True,
    around: str = "",
    absent: bool = False,
) -> bool:
    """Whether normalised evidence mentions the word, a synonym, or (long words) nearly all of it.

    `absent`: no document uses the word (技改 where the documents say 技术改造)."""
    if word in evidence or any(s in evidence for s in lexicon.same(word)):
        return True
    if len(word) >= 2 and word in _compact(evidence):
        return True  # 水电 in "水、电、燃气"
    if not _CJK.match(word):
        return False
    if len(word) == 2 and word[0] in _FUNCTION_LEAD and word[1] in evidence:
        return True  # 有奖, 能领: a function character and the word that matters
    if len(word) >= 3 and _abbreviates(word, evidence):
        return True  # 危化品 for 危险化学品, 文创园 for 文化创意产业园
    if absent and len(word) == 2 and _abbreviates(word, evidence):
        return True  # 技改 for 技术改造: a dictionary word no document uses, abbreviated
    if (
        not known
        and _CJK.match(word)
        and any(_abbreviates(w, evidence) for w in _abbreviation_forms(word, around))
    ):
        return True  # 高企 for 高新技术企业, 安标 for 安全生产标准化, 投|促局 for 投资促进局
    if (
        len(word) == 3
        and word[2] in _KIND_SUFFIX + _BUSINESS_SUFFIX
        and (word[:2] in evidence or ((absent or not known) and _abbreviates(word[:2], evidence)))
    ):
        return True  # 电池厂 where the evidence has 电池; 危化证 where it has 危险化学品…许可证
    if not known:
        # a segmenter's guess (家山科 from 岱家山科创城, 进众 from 进众创空间): half of it or
        # more lies in a stretch of three or more characters that the evidence repeats
        return _covered_chars(word, around or word, evidence) * 2 >= len(word)
    if len(word) >= 4:
        # a long word made of parts ("高新技术"): all but one of its bigrams must be there
        parts = bigram_set(word)
        return len(parts) >= 3 and len(parts & grams) >= len(parts) - 1
    return False


@lru_cache(maxsize=4096)
def _abbreviation_re(word: str) -> re.Pattern[str]:
    gaps = "".join(re.escape(c) + "[\u4e00-\u9fff]{0,3}" for c in word[:-1])
    return re.compile(gaps + re.escape(word[-1]))


def _abbreviates(word: str, evidence: str) -> bool:
    """Whether the word is a Chinese abbreviation of a term in the evidence: its characters
    in order, the first and last the term's own, within a term at most twice as long
    (危化品 → 危险化学品, 文创园 → 文化创意产业园; not 工地 → 工业用地: three characters or more)."""
    if not _CJK.fullmatch(word[0]) or any(c in _GRAMMAR_CHARS for c in _loose_chars(word)):
        return False
    for m in _abbreviation_re(word).finditer(evidence):
        term = m.group(0)
        if len(term) > 2 * len(word) + 1:
            continue
        if len(word) == 2 and not _word_initials(word, term):
            continue  # 工地 is not 工业用地 (地 does not start a word of it); 技改 is 技术改造
        return True
    return False


def _loose_chars(word: str) -> str:
    """The characters of a word outside the dictionary words it holds (人才|卡 → 卡): a
    grammar character there (能|领) is no part of a term."""
    return "".join(w for w, _, _ in _tagged(word) if len(w) < 2 or not _in_dictionary(w))


def _word_initials(word: str, term: str) -> bool:
    """Whether each character of a two-character word starts a word of the term (技术|改造,
    高新|技术|企业; not 工业|用地)."""
    starts = {w[0] for w, _, _ in _tagged(term)}
    return word[0] == term[0] and word[1] in starts


def _abbreviation_forms(word: str, around: str) -> list[str]:
    """A word the dictionary lacks, read as an abbreviation: itself (高企, two characters
    are enough when the segmenter does not know it), and with the character the segmenter
    cut off before or after it (投|促局 → 投促局)."""
    forms = [word]
    at = around.find(word)
    if at > 0 and _CJK.match(around[at - 1]) and around[at - 1] not in _GRAMMAR_CHARS:
        forms.append(around[at - 1] + word)
    end = at + len(word)
    if (
        0 <= at
        and end < len(around)
        and _CJK.match(around[end])
        and around[end] not in _GRAMMAR_CHARS
    ):
        forms.append(word + around[end])
    return forms


def abbreviation_expansions(word: str, around: str, texts: Iterable[str]) -> list[str]:
    """The terms of some texts a word the dictionary lacks abbreviates (高企 → 高新技术企…),
    most used first: what retrieval adds to the question's words."""
    counts: dict[str, int] = {}
    for form in _abbreviation_forms(word, around):
        if any(c in _GRAMMAR_CHARS for c in form):
            continue
        pattern = _abbreviation_re(form)
        for text in texts:
            for m in pattern.finditer(text):
                term = m.group(0)
                if len(form) == 2 and not _word_initials(form, term):
                    continue
                if len(term) > len(form) and len(term) <= 2 * len(form) + 1:
                    counts[term] = counts.get(term, 0) + 1
    # a term used once may be words that happen to meet (找|到本|区); a term is repeated
    return sorted((t for t in counts if counts[t] >= 2), key=lambda t: -counts[t])


def _names_itself(document: str, word: str) -> bool:
    """Whether a (normalised) document gives the word as its own name for what it speaks of:
    食品生产许可(俗称"sc证"), …(以下简称"专项资金")."""
    return bool(re.search(rf"(简称|俗称|又称|下称|统称)[\"“「']?{re.escape(word)}", document))


def _content_char(char: str, masked: list[bool], at: int) -> bool:
    """A Chinese character that belongs to the question's content (not grammar, not a cue)."""
    return bool(_CJK.match(char)) and char not in _GRAMMAR_CHARS and not masked[at]


@lru_cache(maxsize=256)
def _compact(evidence: str) -> str:
    return re.sub(r"[、，,·/\s]+", "", evidence)


_GRAMMAR_CHARS = set(_FUNCTION_LEAD) | set("的了吗呢吧啊呀么是和与及或之已将均曾正所对向从于为以")


def _covered_chars(word: str, around: str, evidence: str) -> int:
    """Characters of the word inside a stretch the evidence repeats: three or more
    characters, or two that reach into the neighbouring word without a grammar character
    (会费 from 交会|费; not 店有 from 闪店|有)."""
    lead = max(0, around.find(word))
    covered = [False] * len(around)
    for i in range(len(around)):
        for j in range(i + 2, min(len(around), i + 8) + 1):
            piece = around[i:j]
            if len(piece) == 2 and (
                set(piece) & _GRAMMAR_CHARS or lead <= i and j <= lead + len(word)
            ):
                continue
            if not all(_CJK.match(c) for c in piece):
                break  # punctuation (2年,成员 in the evidence) is no stretch of words
            if piece in evidence:
                for k in range(i, j):
                    covered[k] = True
    return sum(covered[lead : lead + len(word)])


class FocusChecker:
    """Focus terms of a question, weighted by the knowledge base, checked against evidence."""

    def __init__(
        self,
        lexicon: Lexicon,
        document_share: Callable[[str], float],
        generic_share: float = 0.2,
        titled: Callable[[str], bool] | None = None,
    ) -> None:
        """`document_share(word)`: the share of documents that mention the word (0–1);
        `titled(word)`: whether some document's title names it."""
        self.lexicon = lexicon
        self.document_share = document_share
        self.generic_share = generic_share
        self.titled = titled or (lambda word: False)

    def known_as_synonym(self, word: str) -> bool:
        """Whether some document uses a synonym of the word (IPO → 上市)."""
        return any(self.document_share(s) > 0 for s in self.lexicon.same(normalize(word)))

    def _share(self, word: str) -> float:
        return max(
            [self.document_share(word), *(self.document_share(s) for s in self.lexicon.same(word))]
        )

    def _parts(self, word: str) -> tuple[str, str] | None:
        """Two dictionary words of two or more characters that make up a long word, one of
        them used by some document (下级单位 → 下级, 单位); None if there are none."""
        if len(word) < 4 or not _CJK.match(word):
            return None
        for cut in range(2, len(word) - 1):
            left, right = word[:cut], word[cut:]
            if (
                _in_dictionary(left)
                and _in_dictionary(right)
                and (self._share(left) > 0 or self._share(right) > 0)
            ):
                return left, right
        return None

    def terms(self, question: str) -> list[FocusTerm]:
        """The question's focus terms, weighted and classified by the knowledge base."""
        text = normalize(question)
        masked = _mask(text)
        out: list[FocusTerm] = []
        tokens: list[_Token] = []

        def add(token: _Token, word: str, share: float) -> None:
            weight = (1.0 if token.strong else 0.5) / (0.05 + share)  # rarer: carries more
            tokens.append(token)
            out.append(
                FocusTerm(
                    word,
                    weight,
                    generic=share >= self.generic_share,
                    strong=token.strong,
                    unknown=share == 0.0 and (token.known or token.strong) and not token.light,
                    known=token.known,
                    around=token.around,
                )
            )

        previous: _Token | None = None
        for token in focus_tokens(question):
            if token.word.isdigit() and not self.titled(token.word):
                continue  # a number names a programme only when a document is titled with it
            before, previous = previous, token
            word, share = token.word, self._share(token.word)
            parts = self._parts(word) if share == 0.0 else None
            if parts:
                # a compound no document uses, made of words they do (下级单位 → 下级 + 单位)
                for part in parts:
                    at = text.find(part, token.start)
                    piece = dataclasses.replace(token, word=part, start=at, end=at + len(part))
                    add(piece, part, self._share(part))
                continue
            if (
                share == 0.0
                and not token.known
                and len(word) == 2
                and before is not None
                and before.end == token.start
                and token.end < len(text)
                and _content_char(text[token.end], masked, token.end)
                and self._share(before.word + word[0]) > 0
            ):
                # 运输|证年|审: 证 ends the word before (运输证, which the documents use), and
                # 年 starts the next one with the character after it (年审)
                word = word[1] + text[token.end]
                share = self._share(word)
            elif share == 0.0 and len(word) == 2 and token.start > 0 and _CJK.match(word):
                # 科创板上|市区|里: the character before and this one's first make the word the
                # documents use (上市); the rest is grammar the segmenter took for a word
                left = text[token.start - 1] + word[0]
                if not masked[token.start - 1] and _in_dictionary(left) and self._share(left) > 0:
                    word, share = left, self._share(left)
            if (
                share == 0.0
                and len(word) == 3
                and word[0] in "交付缴领办拿给租买"
                and self._share(word[1:])
            ):
                word, share = (
                    word[1:],
                    self._share(word[1:]),
                )  # 交租金 → 租金: a light verb and its object
            if (
                share == 0.0
                and len(word) == 3
                and word[0] in "月年日周季总单"
                and self._share(word[1:])
            ):
                word, share = (
                    word[1:],
                    self._share(word[1:]),
                )  # 月租金 → 租金: a unit before the noun
            if share == 0.0 and _CJK.match(word):
                # in no document: perhaps a word with a grammar character stuck to it (时会, 可延长)
                if not token.known:
                    bare = _unglue(word, cut=True)  # as focus_tokens left it
                elif token.pos.startswith("n") and token.pos != "ns":
                    # a dictionary noun (地铁, 所得税) loses only grammar, not 地 or 所, and
                    # the 里 of a place (厂里)
                    bare = word.strip(_FUNCTION_LEAD)
                    bare = bare[:-1] if bare.endswith(("里", "内")) else bare
                else:
                    bare = word.strip(_FUNCTION_LEAD + _OOV_EDGE)
                if bare != word:
                    if len(bare) >= 2:
                        word, share = bare, self._share(bare)
                    elif not (
                        word in self.lexicon.synonyms  # 上市: a word of the synonym list
                        or word in self.lexicon.siblings
                        or (token.known and token.pos == "b")  # 临时, 新型: an attribute
                        or (
                            token.known
                            and len(word) == 2
                            and word[0] not in _FUNCTION_LEAD + _OOV_EDGE + _LIGHT_VERB
                            and word[1] in _FUNCTION_LEAD
                        )
                    ):
                        # 储能, 商会, 技能 are nouns and 转让 a verb; 能领, 时会, 交会(费), 家里
                        # are grammar stuck to a word
                        continue
                elif len(word) >= 3 and word[0] in _ADVERB_LEAD and self._share(word[1:]) > 0:
                    word, share = word[1:], self._share(word[1:])  # 刚成立 → 成立
            add(token, word, share)

        def recovered(word: str, start: int) -> None:
            """A noun the segmenter cut apart, added as a term of its own."""
            if not any(word in t.word for t in out):
                around = text[max(0, start - 3) : start + len(word) + 3]
                add(
                    _Token(word, True, True, False, around, start, start + len(word), "n"),
                    word,
                    self._share(word),
                )

        for word, start in _missed_nouns(text, masked):
            if self._share(word) == 0.0:
                recovered(
                    word, start
                )  # 博士|后来: 后来 took the 后 of 博士后, which no document uses
        for word, start in _split_words(text, masked):
            # 每年要年|审吗: two characters that make a word of the synonym list, or a
            # dictionary noun (not 评|上, 考|到: a verb and its complement)
            if word in self.lexicon.synonyms or (_in_dictionary(word) and _noun(word)):
                recovered(word, start)
        heads = [i for i, t in enumerate(out) if t.strong and not t.generic]
        if heads:
            h = heads[-1]
            out[h] = dataclasses.replace(out[h], head=True)
            # the words right before the head make one noun phrase with it (创业担保贷款,
            # 碳排放权质押贷款); a verb that opens the phrase governs it instead (处置哄抬物价)
            start = tokens[h].start
            for i in range(h - 1, -1, -1):
                between = text[tokens[i].end : start]
                if len(between) > 1 or (
                    between and not _content_char(between, masked, tokens[i].end)
                ):
                    break
                at = tokens[i].start - 1
                inside = at >= 0 and _content_char(text[at], masked, at)
                if tokens[i].strong or (inside and not tokens[i].light):
                    out[i] = dataclasses.replace(out[i], modifier=True)
                start = tokens[i].start
        stat = _STATISTIC_ASKED.search(text)
        if stat:
            # 一般公共预算收入是多少: the statistic's noun is what is asked, verb-like or not
            for i, token in enumerate(tokens):
                if token.end == stat.start() and not out[i].generic:
                    out[i] = dataclasses.replace(out[i], modifier=True)
        if not asked_aspects(text).aspects:
            # 可以提前还款吗: a yes-or-no question about doing something asks about that
            # action; a passage about the loan that never mentions it does not answer
            for m in _MAY_I.finditer(text):
                group = next(g for g in (1, 2, 3) if m.group(g))
                for i, token in enumerate(tokens):
                    t = out[i]
                    if m.start(group) <= token.start < m.end(group) and not (
                        t.strong or t.generic or token.light
                    ):
                        out[i] = dataclasses.replace(t, modifier=True)
        return out

    def check(
        self, terms: list[FocusTerm], evidence: Iterable[str], document: str = ""
    ) -> FocusCheck:
        """Which focus terms the evidence supports.

        `document`: the whole document the evidence is part of. A word the document
        repeats (twice or more) is what the document is about — 许可证 in a permit guide —
        and counts as supported by any passage of it; the asked subject itself (宠物) is
        never in a document that does not answer it.
        """
        text = normalize("\n".join(evidence))
        grams = bigram_set(text)
        whole = normalize(document) if document else ""
        supported = []
        for t in terms:
            # a word the document never uses may be its abbreviation (技改 for 技术改造)
            absent = t.unknown or bool(whole) and t.word not in whole
            ok = supports(t.word, text, grams, self.lexicon, t.known, t.around, absent)
            if not ok and whole:
                # a noun beside the subject (楼顶 in 楼顶装个广告牌要多久批) needs the
                # document to mention it once; the subject, and any verb (退租), twice
                times = 2 if t.head or t.modifier or not t.strong else 1
                forms = (t.word, *self.lexicon.same(t.word))
                if len(t.word) == 3 and t.word[2] in _KIND_SUFFIX + _BUSINESS_SUFFIX:
                    forms = (*forms, t.word[:2])  # 电池厂: a document that repeats 电池
                ok = (
                    any(whole.count(w) >= times for w in forms)
                    or _names_itself(whole, t.word)
                    or (
                        len(t.word) >= 4
                        and supports(
                            t.word,
                            whole,
                            bigram_set(whole),
                            self.lexicon,
                            t.known,
                            t.around,
                            absent,
                        )
                    )
                )
            supported.append(ok)
        replaced = [
            not ok
            and (
                any(len(k) >= 2 and k in text for k in self.lexicon.kin(t.word))
                or bool((kin := _grade_kin(t.word)) and kin.search(text))  # 4a where 5a is asked
            )
            for t, ok in zip(terms, supported, strict=True)
        ]
        return FocusCheck(terms, supported, replaced)
