from __future__ import annotations

from bot.places import foreign_places


def test_question_about_another_city_is_foreign_to_jiangan_evidence() -> None:
    assert foreign_places("上海浦东新区的人才公寓怎么申请", "江岸区人才公寓申请办法") == {
        "上海",
        "浦东",
    }


def test_parents_of_named_places_are_covered() -> None:
    assert foreign_places("武汉的人才公寓", "江岸区人才公寓") == set()
    assert foreign_places("湖北省有什么补贴", "江岸区的补贴") == set()
    assert foreign_places("广东省防控物资", "李希到广州调研检查疫情防控工作") == set()


def test_evidence_naming_no_place_gets_the_benefit_of_the_doubt() -> None:
    assert foreign_places("山东省对哪些场所开展排查", "省委办公室下发通知，对全省场所排查") == set()


def test_no_place_in_question() -> None:
    assert foreign_places("人才公寓怎么申请", "上海的人才公寓") == set()


def test_evidence_without_places_takes_the_knowledge_base_home() -> None:
    from bot.places import home_places

    home = home_places(["江岸区人才公寓", "江岸区企业开办", "武汉市江岸区孵化器", "总部奖励"])
    assert home == {"江岸", "武汉"} or home == {"江岸"}
    assert foreign_places("武汉洪山区孵化器房租补贴", "孵化器房租减半", home) == {"洪山"}
    assert foreign_places("江岸的孵化器房租", "孵化器房租减半", home) == set()


def test_other_places_knows_a_city_lies_in_its_province() -> None:
    from bot.places import other_places

    assert other_places({"湖北"}, {"重庆"})
    assert not other_places({"成都"}, {"四川"})  # a city and its province: one region
    assert not other_places({"湖北"}, {"武汉"})
    assert not other_places({"湖北", "武汉"}, {"湖北"})
    assert not other_places({"上海"}, set())  # a title naming no place says nothing
