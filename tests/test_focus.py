"""What a question asks: its focus words, its aspect, and whether a passage says it (no index)."""

from __future__ import annotations

import dataclasses

import pytest

from bot.answering.aspects import asked_aspects, heading_aspects, states
from bot.answering.focus import FocusChecker, focus_words
from bot.answering.lexicon import Lexicon, load_lexicon
from bot.answering.structure import layout, render
from bot.text import normalize

LEXICON = load_lexicon()


def _checker(shares: dict[str, float] | None = None) -> FocusChecker:
    """A checker over a pretend knowledge base where each word has the given document share."""
    shares = shares or {}
    return FocusChecker(LEXICON, lambda w: shares.get(w, 0.05))


@pytest.mark.parametrize(
    ("question", "aspect"),
    [
        ("企业开办要多久？", "time"),
        ("营业执照几天能拿到", "time"),
        ("什么时候能拿到执照", "time"),
        ("刻章要钱吗", "fee"),
        ("办这个免费吗？", "fee"),
        ("收不收费", "fee"),
        ("去哪办？", "place"),
        ("在哪个窗口办理", "place"),
        ("政务中心几点上班", "hours"),
        ("周六开门吗", "hours"),
        ("电话多少", "phone"),
        ("找谁咨询", "contact"),
        ("要带什么？", "materials"),
        ("需要准备啥材料", "materials"),
        ("怎么办理？步骤是什么", "steps"),
        ("申请流程", "steps"),
        ("申请条件是什么", "conditions"),
        ("什么企业能申请", "conditions"),
        ("奖励多少", "amount"),
        ("能补多少钱", "amount"),
        ("补贴标准是什么", "amount"),
        ("在江岸设立区域总部有什么支持", "amount"),
        ("什么时候申报", "deadline"),
        ("申报截止到哪天", "deadline"),
        ("网上能办吗", "online"),
        ("有多少家企业", "count"),
        ("统计月报每月几号前报？", "deadline"),
        ("现在去申请还赶趟不？", "deadline"),
        ("那每个季度啥时候之前要报？", "deadline"),
        ("报上去以后区里怎么审？", "steps"),
        ("开洗车店办排水许可有啥硬性要求", "conditions"),
        ("创业担保贷款个人最多能贷多少？", "amount"),
    ],
)
def test_the_asked_aspect_is_read_from_everyday_wording(question: str, aspect: str) -> None:
    assert aspect in asked_aspects(normalize(question)).aspects


def test_a_benefit_named_as_the_topic_is_not_the_asked_aspect() -> None:
    # 租金补贴怎么申请 asks for the steps; the notice's "哪些方面" is not a place
    assert asked_aspects("租金补贴怎么申请").aspects == frozenset({"steps"})
    assert "place" not in asked_aspects("工信部还在哪些方面加强扶持").aspects
    assert "fee" not in asked_aspects("补贴多少钱").aspects


@pytest.mark.parametrize(
    ("heading", "aspect"),
    [
        ("办理时限", "time"),
        ("服务内容与办理时限", "time"),
        ("收费标准", "fee"),
        ("奖励标准（示例）", "amount"),
        ("支持标准", "amount"),
        ("租金标准", "fee"),
        ("申报时间", "deadline"),
        ("办公时间", "hours"),
        ("申请材料", "materials"),
        ("办理流程", "steps"),
        ("申请条件", "conditions"),
        ("咨询电话", "phone"),
        ("办理地点", "place"),
        ("网上办理", "online"),
    ],
)
def test_headings_name_their_aspect(heading: str, aspect: str) -> None:
    assert aspect in heading_aspects(heading)
    assert "amount" not in heading_aspects("收费标准")
    assert "hours" not in heading_aspects("申报时间")


def test_a_passage_states_an_aspect_by_what_it_says() -> None:
    assert states("time", "材料齐全的，全流程0.5个工作日内办结")
    assert not states("time", "登录湖北政务服务网完成实名认证")
    assert states("phone", "咨询电话：027-5271-3301")
    assert states("fee", "首套印章由区财政买单，免费刻制")
    assert states("place", "江岸区后湖大道198号政务服务中心一楼")


def test_focus_words_leave_out_scaffolding_aspect_words_and_places() -> None:
    assert focus_words("人才公寓可以养宠物吗？") == ["人才", "公寓", "宠物"]
    assert "停车位" in focus_words("人才公寓有没有停车位")
    assert focus_words("个人所得税汇算清缴怎么操作") == ["个人所得税", "汇算", "清缴"]
    # the asked aspect (多久, 材料) and the place (江岸) are not part of the focus
    assert focus_words("江岸企业开办要多久") == ["企业", "开办"]
    assert "材料" not in focus_words("贷款贴息需要什么材料")
    # answer-type nouns (措施, 目的) are what is asked for, not its subject
    assert "措施" not in focus_words("央行提供哪些补救措施")


def test_evidence_without_the_asked_subject_fails_the_check() -> None:
    checker = _checker({"人才": 0.5, "公寓": 0.05})
    passage = ["同时符合以下条件的人员可以申请入住人才公寓：持有《江岸人才服务卡》", "申请条件", "人才公寓申请办法"]
    pets = checker.check(checker.terms("人才公寓可以养宠物吗"), passage)
    assert not pets.passed and pets.missing == ["宠物"]
    rent = checker.check(checker.terms("人才公寓申请要什么条件"), passage)
    assert rent.passed and rent.coverage == 1.0


def test_a_synonym_from_the_editable_list_counts_and_the_list_can_be_replaced() -> None:
    checker = _checker()
    assert checker.check(checker.terms("个税怎么算"), ["个人所得税按月预扣"]).passed
    assert not checker.check(checker.terms("社保转移怎么办"), ["个人所得税按月预扣"]).passed
    # a district's own list: one line, one group
    own = FocusChecker(Lexicon.parse("# 本地说法\n创客 创业者\n"), lambda w: 0.05)
    assert own.check(own.terms("创客有补贴吗"), ["对创业者给予一次性补贴"]).passed
    assert not checker.check(checker.terms("创客有补贴吗"), ["对创业者给予一次性补贴"]).passed


def test_generic_words_do_not_decide_but_a_different_subject_does() -> None:
    # 企业 is in most documents: its absence says nothing; 高新技术 is the subject
    checker = _checker({"企业": 0.6, "高新技术": 0.05})
    entry = ["总部企业有什么奖励？", "经认定的总部企业，实缴注册资本1亿元以上奖励500万元"]
    check = checker.check(checker.terms("高新技术企业有什么奖励"), entry)
    assert not check.passed and "高新技术" in check.missing


def test_chinese_headings_lists_and_rows_are_kept_as_structure() -> None:
    text = (
        "江岸区某某扶持办法\n一、支持对象\n在江岸区注册的企业。\n二、申报材料\n申请人应提交：\n"
        "1. 申请表；\n2. 营业执照；\n3. 审计报告。\n三、支持标准\n博士：安家补贴6万元。\n硕士：安家补贴3万元。"
    )
    lay = layout(text)
    assert [s.heading for s in lay.sections] == ["", "支持对象", "申报材料", "支持标准"]
    materials = lay.sections[2]
    assert "materials" in materials.aspects
    lines = lay.section_lines(2)
    block = lay.block_lines(lines[0].block)
    assert render(block) == "申请人应提交：\n1. 申请表；\n2. 营业执照；\n3. 审计报告。"
    rows = lay.section_lines(3)
    assert all(line.item for line in rows) and rows[0].block == rows[1].block


def test_a_compound_no_document_uses_is_checked_as_its_parts() -> None:
    # 下级单位 is in no document, 下级 and 单位 are: it is checked as those two words
    shares = {"下级单位": 0.0, "下级": 0.05, "单位": 0.5, "职工": 0.05, "休假": 0.05}
    checker = _checker(shares)
    words = [t.word for t in checker.terms("如何要求下级单位合理安排职工休假")]
    assert "下级" in words and "单位" in words and "下级单位" not in words
    # a compound whose parts no document uses stays one unknown, decisive word
    pets = _checker({"宠物": 0.0, "公寓": 0.05})
    assert any(t.word == "宠物" and t.unknown for t in pets.terms("人才公寓可以养宠物吗"))


def test_a_leading_adverb_is_not_part_of_an_unknown_word() -> None:
    checker = _checker({"刚成立": 0.0, "成立": 0.05, "房租": 0.05})
    words = [t.word for t in checker.terms("刚成立的小公司房租怎么算")]
    assert "成立" in words and "刚成立" not in words


def test_regulations_chapters_and_articles_are_structure() -> None:
    # 第二章 补贴标准 is a heading (the space after the number is not a paragraph break);
    # 第三条 stays with its own text
    text = (
        "某某实施细则\n第一章 总则\n第一条 为集聚人才，制定本细则。\n第二章 补贴标准\n"
        "第三条 安家补贴标准如下：\n（一）博士研究生，每人10万元；\n（二）硕士研究生，每人5万元。\n"
        "第三章 申请条件\n第四条 申请人应同时符合以下条件：\n（一）年龄不超过35周岁；"
    )
    lay = layout(text)
    assert [s.heading for s in lay.sections] == ["", "总则", "补贴标准", "申请条件"]
    assert "amount" in lay.sections[2].aspects and "conditions" in lay.sections[3].aspects
    standard = lay.section_lines(2)
    assert standard[0].text == "第三条 安家补贴标准如下："
    assert render(lay.block_lines(standard[0].block)).endswith("（二）硕士研究生，每人5万元。")


@pytest.mark.parametrize(
    ("question", "asked", "not_asked"),
    [
        ("研发投入奖励一般几月份报？", "deadline", "amount"),  # 几月 is a date, not 奖励几…
        ("企业上市奖励要在多长时间内申请？", "deadline", "time"),
        ("硕士申请安家补贴有年龄限制吗？", "conditions", "amount"),
        ("青年人才生活补贴网上能申请吗？", "online", "conditions"),
        ("人才就医绿色通道怎么用？", "steps", "place"),
        ("创业担保贷款最长能贷几年？", "time", "deadline"),
        ("江岸经济开发区有标准厂房可以买吗？", None, "amount"),  # 标准厂房 is a building
        ("江岸这几年主攻的是哪类产业？", None, "time"),
        ("户外广告许可去哪个窗口交材料？", "place", "materials"),  # 交材料: what is done there
        ("技术合同奖励有疑问找哪个科室？", "contact", "place"),
        ("退役军人创业补贴要跑哪去办？", "place", "steps"),
        ("危化品经营许可大概要走哪几步？", "steps", "place"),
        ("园区标准厂房一个月租金多少？", "fee", "count"),
        ("创业担保贷款要交担保费吗？", "fee", "amount"),
        ("社区食堂补贴多久报一次？", "deadline", "time"),  # a schedule, not a processing time
        ("新电梯装好了最晚多久要去登记？", "deadline", "time"),
        ("领首次就业补贴，社保要交满多久？", "conditions", "time"),  # a threshold
        ("成立几年的企业能申请？", "conditions", "time"),
        ("开单体药店，店面最少要多大？", "conditions", "amount"),
        ("哪些店要办公共场所卫生许可？", "conditions", "place"),
        ("注册多久能办好？", "time", "conditions"),
        ("户外广告审批通过后能设置几年？", "deadline", "time"),  # how long the permit lasts
        ("物流园入驻时押金要交多少？", "fee", "amount"),
        ("首贷贴息的材料交给谁？", "contact", "materials"),
        ("小作坊登记能在网上交材料吗？", "online", "materials"),
        ("技能补贴的事找人社局哪个科？", "contact", "amount"),  # 技能补贴 is no 能补
        ("人才公寓退租要提前多久申请？", "deadline", "time"),
        ("中午去政务中心办事要等到下午吗？", "hours", "time"),
        ("考证补贴的钱是打给公司还是打给个人？", None, "phone"),  # paid to, not phoned
        ("贷了3个月的短期贷款，能申请首贷贴息吗？", "conditions", "materials"),
        ("直播电商扶持找哪个部门问？", "contact", "place"),
        ("休闲农业奖补今年最晚哪天交材料", "deadline", "materials"),  # when, not what
        ("个转企手续能在网上弄吗", "online", "steps"),
        ("见习补贴网上在哪个平台申请？", "online", "place"),
    ],
)
def test_aspect_wording_that_looks_like_another(question: str, asked: str | None, not_asked: str) -> None:
    aspects = asked_aspects(normalize(question)).aspects
    assert asked is None or asked in aspects
    assert not_asked not in aspects
    assert "steps" in heading_aspects("使用方法")
    assert "time" not in heading_aspects("许可期限")  # how long the permit lasts
    assert "time" in heading_aspects("贷款额度与期限")
    assert states("deadline", "开业之日起12个月内提出申请")
    assert states("deadline", "会议空间需提前5个工作日预约")
    assert "deadline" in heading_aspects("设置期限")
    assert "deadline" in heading_aspects("报送时间") and "hours" in heading_aspects("办理时间")
    assert heading_aspects("占道期限") == frozenset({"deadline"})  # how long it may last
    assert "time" in heading_aspects("审批期限") and {"hours", "deadline"} <= heading_aspects("受理时间")
    assert "place" in asked_aspects(normalize("纸质材料要送到哪个办公室？")).aspects
    assert "部门" not in focus_words("直播电商扶持找哪个部门问？")


def test_the_gap_of_an_aspect_cue_keeps_the_subject() -> None:
    # 有…补贴吗 asks an amount; what sits between 有 and 补贴 is the subject
    checker = _checker({"见习": 0.05, "人员": 0.3, "住宿": 0.0})
    words = [t.word for t in checker.terms("见习人员有住宿补贴吗？")]
    assert "住宿" in words
    assert not checker.check(checker.terms("见习人员有住宿补贴吗？"), ["见习人员基本生活补贴按最低工资标准的60%发放"]).passed


def test_nouns_that_end_like_grammar_and_rates_and_light_verbs() -> None:
    # 储能 and 上市 (a word of the synonym list) are words, not 储+能 or 上+市
    checker = _checker({"储能": 0.0, "上市": 0.0, "企业": 0.6, "项目": 0.3, "专精": 0.05})
    assert any(t.word == "储能" and t.decisive for t in checker.terms("企业上储能项目有没有补贴？"))
    assert "上市" in [t.word for t in checker.terms("专精特新企业上市有没有奖励？")]
    # 每平米 says how an amount is counted; 交租金 is 交 + 租金
    rates = _checker({"办公室": 0.05, "租金": 0.05, "交租金": 0.0})
    assert "每平米" not in [t.word for t in rates.terms("租办公室每平米补多少？")]
    assert "租金" in [t.word for t in rates.terms("入驻孵化器要交租金吗？")]
    # everyday words the synonym list maps: 平米 → 平方米, 晚上 → 夜间
    assert rates.check(rates.terms("晚上营业有补贴吗"), ["夜间营业的给予补贴"]).passed


def test_a_yes_or_no_question_about_an_action_needs_the_action() -> None:
    # 可以提前还款吗: a passage on the loan that never speaks of repaying early does not answer
    checker = _checker({"创业": 0.3, "担保": 0.05, "贷款": 0.05, "提前": 0.05, "还款": 0.05})
    loan = ["创业担保贷款个人最高30万元，贷款期限最长不超过3年。"]
    check = checker.check(checker.terms("创业担保贷款可以提前还款吗？"), loan)
    assert not check.passed and "提前" in check.missing
    assert checker.check(checker.terms("创业担保贷款可以提前还款吗？"), ["创业担保贷款可提前还款，利息按实际天数计算。"]).passed


def test_numbered_markdown_headings_name_their_section_without_the_number() -> None:
    lay = layout("# 某某办法\n## 一、支持对象\n在本区注册的企业。\n## 二、支持内容\n每人补贴2000元。")
    assert [s.heading for s in lay.sections] == ["支持对象", "支持内容"]
    assert "amount" not in heading_aspects("支持对象") and "conditions" in heading_aspects("支持对象")
    assert "amount" in heading_aspects("支持内容")


def test_when_to_hand_in_is_a_deadline_and_the_word_before_stays() -> None:
    assert asked_aspects("招聘补贴什么时候可以报？").aspects == frozenset({"deadline"})
    checker = _checker({"年报": 0.0, "企业": 0.6})
    assert "年报" in [t.word for t in checker.terms("企业年报每年什么时候报？")]


def test_segmenter_boundaries_are_mended_with_the_documents_words() -> None:
    # 运输|证年|审: 运输证 is the documents' word, 年审 the asked one (in no document)
    checker = _checker({"运输证": 0.05, "运输": 0.05, "道路": 0.05, "证年": 0.0, "年审": 0.0})
    terms = checker.terms("货车的道路运输证年审怎么办？")
    assert any(t.word == "年审" and t.decisive for t in terms)
    # 科创板上|市区|里: 上市, not 市区
    listing = _checker({"上市": 0.05, "市区": 0.0, "企业": 0.6})
    words = [t.word for t in listing.terms("企业去科创板上市区里奖多少？")]
    assert "上市" in words and "市区" not in words
    # 临时 (an attribute) is a word even when no document uses it
    assert "临时" in [t.word for t in _checker({"临时": 0.0}).terms("临时建设工程规划许可怎么申请")]


def test_a_flattened_notice_splits_before_an_item_numbered_by_a_bare_digit() -> None:
    lay = layout("（4）周围聚集性发病。 3以下检查项目停检： （1）普通胃肠镜检查 （2）肺功能检测")
    texts = [line.text for line in lay.lines]
    assert "3以下检查项目停检：" in texts
    block = lay.block_lines(lay.lines[texts.index("3以下检查项目停检：")].block)
    assert render(block) == "3以下检查项目停检：\n（1）普通胃肠镜检查\n（2）肺功能检测"


def test_mailing_is_a_subject_and_online_is_checked_by_what_a_passage_says() -> None:
    # 能邮寄吗 asks about mailing: the passage must speak of it (邮寄, 寄递, 快递 …)
    assert "邮寄" in focus_words("办好的证照能邮寄到公司吗？")
    checker = _checker({"证照": 0.05, "邮寄": 0.05, "公司": 0.6})
    terms = checker.terms("办好的证照能邮寄到公司吗？")
    assert checker.check(terms, ["证照可选择免费寄递送达"]).passed
    assert not checker.check(terms, ["证照在窗口当场领取，也可登录平台下载电子证照"]).passed
    assert states("online", "登录“金融服务直通车”平台提交")
    from bot.answering.extractive import CHECKED_ASPECTS

    assert "online" in CHECKED_ASPECTS  # 网上能办吗 is not answered by a passage naming no channel


def test_several_is_not_a_count_question() -> None:
    # 好几家 is "several", not a question of how many
    assert "count" not in asked_aspects("有没有线上平台能一次对接好几家银行？").aspects


def test_an_abbreviation_is_supported_by_the_term_it_shortens() -> None:
    checker = _checker({"危化品": 0.0, "经营": 0.05, "许可证": 0.05})
    terms = checker.terms("危化品经营许可证去哪办？")
    assert checker.check(terms, ["危险化学品经营许可证由区应急管理局核发"]).passed
    assert not checker.check(terms, ["烟花爆竹经营许可证由区应急管理局核发"]).passed
    # two characters are too few to tell 工地 from 工业用地
    from bot.answering.focus import supports

    assert not supports("工地", "工业用地", set(), LEXICON)


def test_a_dictionary_word_no_document_uses_is_read_as_an_abbreviation_of_word_initials() -> None:
    from bot.answering.focus import supports

    # 技改 is in the dictionary but no document says it: 技术|改造 starts with its characters
    assert supports("技改", "工业企业技术改造补贴", set(), LEXICON, absent=True)
    assert not supports("技改", "工业企业技术改造补贴", set(), LEXICON)
    # 工地 is not 工业用地: 地 does not start a word of it
    assert not supports("工地", "工业用地出让", set(), LEXICON, absent=True)


def test_a_word_that_names_another_documents_subject_is_never_forgiven() -> None:
    # 区长质量奖 asked, a passage of the high-tech guide holds 企业所得税: without the rule
    # the well-covered question forgives the missing side words
    shares = {"区长": 0.15, "质量奖": 0.15, "奖金": 0.3, "企业": 0.9, "所得税": 0.02}
    question = "区长质量奖的奖金要交企业所得税吗？"
    evidence = ["（四）2024年度财务审计报告及企业所得税年度纳税申报表"]
    plain = FocusChecker(LEXICON, lambda w: shares.get(w, 0.05))
    assert plain.check(plain.terms(question), evidence).passed
    # the answerer marks the words another document found is titled with
    terms = [dataclasses.replace(t, titled=t.word in "区长质量奖评选办法") for t in plain.terms(question)]
    assert set(plain.check(terms, evidence).missing) == {"区长", "质量奖"}


def test_an_abbreviation_the_dictionary_lacks_is_read_from_two_characters_or_across_a_cut() -> None:
    from bot.answering.focus import abbreviation_expansions, supports

    # 高企 and 安标 are in no dictionary: two characters are an abbreviation there
    assert supports("高企", "首次通过国家高新技术企业认定的", set(), LEXICON, known=False)
    assert supports("安标", "安全生产标准化一级达标", set(), LEXICON, known=False)
    assert not supports("安标", "安全生产许可证", set(), LEXICON, known=False)
    # 投|促局: the segmenter cut 投 off; with it the word shortens 投资促进局
    assert supports("促局", "区投资促进局项目服务科", set(), LEXICON, known=False, around="找投促局哪个科")
    # retrieval adds the full term, when the documents use it more than once
    texts = ["首次通过国家高新技术企业认定", "高新技术企业资格期满", "高温补贴"]
    assert abbreviation_expansions("高企", "评上高企区里", texts)[0] == "高新技术企"
    assert abbreviation_expansions("高企", "评上高企区里", texts[2:]) == []


def test_dictionary_nouns_keep_their_edges_and_guesses_lose_their_grammar() -> None:
    # 地铁, 所得税 are nouns, not 地 + 铁 or 所 + 得税 (地, 所 are also grammar characters)
    checker = _checker({"技改": 0.05, "补贴": 0.6, "企业": 0.6})
    assert any(t.word == "地铁" and t.decisive for t in checker.terms("青山区现在有几条地铁？"))
    assert any(t.word == "所得税" and t.decisive for t in checker.terms("技改补贴拿到后要交企业所得税吗？"))
    # 上云|有补贴吗: the cue took 有; what is left is the word
    assert "上云" in [t.word for t in checker.terms("企业上云有补贴吗？")]
    # 渣土|车不装|定位: no word across a negation
    words = [t.word for t in _checker({"渣土": 0.05, "定位": 0.05}).terms("渣土车不装定位行不行？")]
    assert words == ["渣土", "定位"]
    # 月租金 is the 租金 of a month; 哪几件事 is scaffolding
    rent = _checker({"租金": 0.05, "园区": 0.05, "标准厂房": 0.05, "月租金": 0.0})
    assert "租金" in [t.word for t in rent.terms("园区标准厂房的月租金按季度预付吗？")]
    assert "件事" not in focus_words("那个计划具体要干哪几件事？")


def test_a_time_of_day_is_what_is_asked() -> None:
    # 晚上能施工吗: a passage on repairing the road that never says 夜间 does not answer
    checker = _checker({"晚上": 0.05, "马路": 0.05, "马路上": 0.0, "施工": 0.3, "开挖": 0.05})
    terms = checker.terms("晚上能在马路上开挖施工吗？")
    assert not checker.check(terms, ["挖开的马路由区城管执法局统一组织修复，施工单位缴纳修复费。"]).passed
    assert checker.check(terms, ["夜间在城市道路上开挖施工的，须另行办理夜间施工许可。"]).passed


def test_a_noun_the_segmenter_ran_into_the_next_word_is_found() -> None:
    # 博士|后来|洪山: the question is about 博士后, which no document mentions
    checker = _checker({"博士": 0.05, "安家": 0.05, "博士后": 0.0})
    terms = checker.terms("博士后来洪山工作有安家补贴吗？")
    assert any(t.word == "博士后" and t.decisive for t in terms)
    assert not checker.check(terms, ["博士研究生安家补贴每人10万元"]).passed
    # 申请人|才公寓: 人才 is a word itself; the segmenter was right
    assert "申请人" not in [t.word for t in _checker().terms("申请人才公寓要准备什么材料？")]


def test_a_passage_naming_another_of_the_asked_kind_does_not_answer() -> None:
    # 硕士 asked, 博士 answered: however well the rest is covered, that is another subject
    checker = _checker({"硕士": 0.05, "毕业生": 0.05, "就业": 0.05, "安家": 0.05})
    terms = checker.terms("硕士毕业生来江岸就业有安家补贴吗？")
    doctor = ["毕业5年内的博士研究生首次在江岸就业创业，可享受一次性安家补贴6万元"]
    check = checker.check(terms, doctor)
    assert not check.passed and "硕士" in check.missing
    assert checker.check(terms, ["博士研究生安家补贴6万元，硕士研究生3万元，毕业生就业后申领"]).passed


def test_a_noun_beside_the_subject_needs_one_mention_in_the_document() -> None:
    # 楼顶装个广告牌多久批: the guide names 楼顶 once, in its scope; its time-limit section answers
    checker = _checker({"楼顶": 0.05, "广告牌": 0.05, "审批": 0.3, "退租": 0.05, "公寓": 0.05})
    guide = "户外广告牌设置审批\n适用范围：建筑物楼顶、墙面设置的广告牌。\n承诺时限：8个工作日。"
    terms = checker.terms("楼顶装个大广告牌，审批多久能批下来？")
    assert checker.check(terms, ["承诺时限：8个工作日。"], guide).passed
    # a verb is what is asked (退租): one mention elsewhere in the document is not enough
    lease = checker.terms("公寓退租要办什么手续？")
    flat = "主动退租的，应提前30日申请。\n入住手续：签订租赁合同。"
    check = checker.check(lease, ["入住手续：签订租赁合同。"], flat)
    assert not check.supported[[t.word for t in lease].index("退租")]


def test_verbs_ending_like_grammar_and_single_character_matters() -> None:
    # 转让 is a verb, not 转 + 让; 会罚多少钱 is about 处罚; 少交点 is scaffolding
    checker = _checker({"转让": 0.0, "户外广告": 0.05, "处罚": 0.05, "广告牌": 0.05})
    assert any(t.word == "转让" and t.decisive for t in checker.terms("户外广告审批通过后能转让给别的公司吗？"))
    terms = checker.terms("没审批就挂了广告牌，会罚多少钱？")
    assert "处罚" in [t.word for t in terms]
    assert not checker.check(terms, ["户外广告牌设置审批不收费。"]).passed
    assert checker.check(terms, ["未经审批擅自设置广告牌的，处以5000元以上罚款。"]).passed
    assert "交点" not in focus_words("办排水许可材料能少交点吗？")
    # the subject of a yes-or-no application question stays (首贷贴息)
    assert "首贷" in focus_words("贷了3个月的短期贷款，能申请首贷贴息吗？")


def test_a_statistic_asked_is_a_number_to_state_and_its_noun_stays_the_subject() -> None:
    asked = asked_aspects(normalize("硚口区常住人口有多少？"))
    assert asked.aspects == frozenset({"count"})
    assert "常住人口" in focus_words("硚口区常住人口有多少？")
    assert "count" in asked_aspects(normalize("黄孝河PPP项目总投资多少？")).aspects
    assert states("count", "项目总投资约62亿元") and not states("count", "荣获国际银奖")
    # the turnover an applicant must reach is a condition, not a statistic
    assert asked_aspects(normalize("营业收入多少能申请？")).aspects == frozenset({"conditions"})
    assert "网吧" in focus_words("开网吧能办一业一证吗？")  # 吧 ends the noun here


def test_words_the_segmenter_cut_into_characters_are_found() -> None:
    # 每年要年|审吗: 年审 (a word of the synonym list) is what is asked; 评|上 is a verb
    checker = _checker({"年审": 0.0, "年检": 0.0, "年度审验": 0.0, "道路": 0.05, "货车": 0.05})
    terms = checker.terms("货车的道路运输证每年要年审吗？")
    assert any(t.word == "年审" and t.decisive for t in terms)
    assert "评上" not in [t.word for t in _checker().terms("评上国家级绿色工厂能奖多少钱？")]
    # 弄丢了能补吗 asks for a new copy, not a subsidy; 资格证 is a certificate, not 资格
    assert "amount" not in asked_aspects(normalize("消防验收意见书弄丢了能补吗？")).aspects
    assert "资格证" in focus_words("货运从业资格证在哪考？")


def test_a_markdown_chapter_heading_with_a_wide_space_is_one_heading() -> None:
    lay = layout("# 某某办法\n## 第三章\u3000申报与审核\n第十条 每年申报一次。\n## 第四章\u3000附则\n本办法自发布之日起施行。")
    assert [s.heading for s in lay.sections] == ["申报与审核", "附则"]


def test_the_occasion_and_the_statistic_asked_are_the_subject() -> None:
    # 还能再次申请吗: a passage on applying does not say whether one may apply again
    checker = _checker({"创业": 0.05, "担保": 0.05, "贷款": 0.05, "再次": 0.0})
    assert any(t.word == "再次" and t.decisive for t in checker.terms("创业担保贷款还清以后还能再次申请吗？"))
    # 一般公共预算收入是多少: 收入 (a verb to the segmenter) is what is asked
    terms = _checker({"收入": 0.05, "预算": 0.05, "公共": 0.05}).terms("去年的一般公共预算收入是多少？")
    assert any(t.word == "收入" and t.decisive for t in terms)


def test_a_bare_is_there_a_subsidy_question_asks_the_amount_and_keeps_the_subject_head() -> None:
    from bot.answering.aspects import plainly_asked

    # 区里补贴吗: 补贴 is the cue, so 保险 is the subject a passage must have
    checker = _checker({"安全": 0.3, "生产": 0.05, "责任": 0.05, "保险": 0.05})
    terms = checker.terms("买安全生产责任保险区里补贴吗？")
    assert any(t.word.endswith("保险") and t.head for t in terms)
    assert not checker.check(terms, ["为落实企业安全生产主体责任，对达标企业给予补贴。"]).passed
    # 也能拿…奖励吗 asks whether one qualifies: an FAQ entry so worded has not answered 多少
    assert "amount" not in plainly_asked(normalize("技术咨询合同也能拿技术合同登记奖励吗？"))
    assert {"amount", "conditions"} <= asked_aspects(normalize("本科学历能领安家补贴吗？")).aspects


def test_colloquial_particles_qualifiers_and_seasons() -> None:
    # 哈 and 不 ending a question are particles, not words
    assert "报哈" not in focus_words("刚上规的厂子那个奖励能不能网上报哈？")
    # 硬性要求, 详细流程: the qualifier says what kind of answer, not what about
    assert focus_words("开洗车店办排水许可有啥硬性要求") == ["洗车", "店办", "排水", "许可"]
    assert focus_words("必备材料有哪些") == []
    assert "基本" in focus_words("基本养老保险怎么交")  # a qualifier inside the subject stays
    # a season asked of is the subject, like a time of day (夏天下午几点开门)
    assert "夏天" in focus_words("政务中心夏天下午几点开门？")


def test_a_grade_written_with_a_letter_is_a_subject_and_another_grade_replaces_it() -> None:
    checker = _checker({"景区": 0.1})
    terms = checker.terms("景区评上5A能奖多少？")
    assert "5a" in [t.word for t in terms]
    four = checker.check(terms, ["新评定的国家4A级旅游景区一次性奖励100万元"])
    assert "5a" in four.missing
    five = checker.check(terms, ["新评定为国家5A级旅游景区的，一次性奖励500万元"])
    assert five.passed


def test_a_business_is_named_by_what_it_makes_and_a_licence_by_its_abbreviation() -> None:
    from bot.answering.focus import supports

    assert supports("电池厂", "动力电池、电机、电控等零部件企业", set(), LEXICON)
    assert not supports("电池厂", "电机、电控等零部件企业", set(), LEXICON)
    assert supports("危化证", "危险化学品经营许可证核发", set(), LEXICON, known=False)


def test_a_noun_character_left_alone_joins_the_word_before_it() -> None:
    # 成员|社, 消费|券: the segmenter's single noun character names a kind of the word before
    assert "成员社" in focus_words("联合社报示范社奖补，成员社至少要有几家？")
    assert "消费券" in focus_words("夜间经济有没有发放消费券？")
    # not a character a segmenter's guess left behind (能|领 → 领)
    assert focus_words("本科学历能领安家补贴吗？") == ["本科学历", "安家"]


def test_punctuation_is_no_stretch_of_words_a_guess_may_lean_on() -> None:
    from bot.answering.focus import supports

    # ",成员" is in both the question and the evidence: it says nothing about 成员社
    evidence = "1. 依法登记满2年,成员人数在50户以上;"
    assert not supports("成员社", evidence, set(), LEXICON, known=False, around="奖补,成员社至少要")


def test_a_document_that_names_itself_so_supports_the_name() -> None:
    checker = _checker({"sc证": 0.0})
    terms = checker.terms("新办SC证一般要多少个工作日？")
    document = '本指南适用于首次申请食品生产许可（俗称"SC证"）的企业。\n承诺办结时限：8个工作日。'
    assert checker.check(terms, ["承诺办结时限：8个工作日。"], document).passed
    assert not checker.check(terms, ["承诺办结时限：8个工作日。"], "承诺办结时限：8个工作日。").passed


def test_a_number_names_a_programme_only_when_a_document_is_titled_with_it() -> None:
    question = "3551今年申报截止到啥时候？"
    titled = FocusChecker(LEXICON, lambda w: 0.05, titled=lambda w: w in "3551光谷人才计划申报指南")
    assert "3551" in [t.word for t in titled.terms(question)]
    assert "3551" not in [t.word for t in _checker().terms(question)]
    # years and quantities are no programmes
    assert not any(t.word.isdigit() for t in titled.terms("2025年补贴1000元吗"))


def test_a_grammar_character_inside_a_dictionary_word_does_not_stop_an_abbreviation() -> None:
    from bot.answering.focus import _abbreviates, supports

    # 才 is grammar (才能), but inside 人才 it is not: 人才卡 shortens 人才服务卡
    assert supports("人才卡", "持《江岸人才服务卡》可享受预约挂号", set(), LEXICON, known=False)
    assert not _abbreviates("能领取", "能够申请领取")


def test_a_sum_given_states_no_fee() -> None:
    assert not states("fee", "首次达到安全生产标准化一级的企业，一次性奖补30万元；")
    assert states("fee", "证书工本费10元") and states("fee", "本事项不收费")
    assert states("fee", "给予最高50万元补贴，申请免费")  # 免费 says it
