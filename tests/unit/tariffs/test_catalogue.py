"""The catalogue answers tariff questions from the table, and rejects a broken file clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tariffs import format as fmt
from tariffs.catalogue import Catalogue, CatalogueError

SAMPLE = Path(__file__).with_name("sample_tariffs.yml")


@pytest.fixture
def catalogue() -> Catalogue:
    return Catalogue.load(SAMPLE)


def test_find_by_name_alias_and_inside_a_sentence(catalogue: Catalogue) -> None:
    assert catalogue.find("5G畅享129元套餐").id == "5g-129"  # type: ignore[union-attr]
    assert catalogue.find("畅享99").id == "5g-99"  # type: ignore[union-attr]
    assert catalogue.find("我想换成尊享199那个").id == "5g-199"  # type: ignore[union-attr]
    assert catalogue.find("不存在的套餐") is None


def test_cheapest_5g_plan_is_the_lowest_monthly_fee(catalogue: Catalogue) -> None:
    assert catalogue.cheapest("mobile_5g").name == "青春校园卡"  # type: ignore[union-attr]


def test_filter_min_data_lists_only_plans_with_enough_data_cheapest_first(catalogue: Catalogue) -> None:
    names = [o.name for o in catalogue.filter(min_data_gb=30, kind=("mobile_5g", "mobile_4g"))]
    assert names == ["青春校园卡", "5G畅享59元套餐", "5G畅享99元套餐", "5G畅享129元套餐", "5G尊享199元套餐"]


def test_compare_two_plans_states_fee_and_data_difference(catalogue: Catalogue) -> None:
    text = fmt.comparison(catalogue.compare("畅享59", "畅享99"))
    assert "月费多40元" in text and "流量多30GB" in text


def test_find_all_lists_each_mentioned_offer_once(catalogue: Catalogue) -> None:
    assert [o.id for o in catalogue.find_all("5G畅享59元套餐和5G畅享99元套餐哪个好")] == ["5g-59", "5g-99"]


def test_recommend_respects_budget(catalogue: Catalogue) -> None:
    assert [o.id for o in catalogue.recommend(data_gb=20, budget=60)] == ["campus", "5g-59"]


def test_load_broken_file_raises_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "tariffs.yml"
    bad.write_text(
        "version: 1\noffers:\n  - {id: x, name: X, kind: spaceship, monthly_fee: 1}\n", encoding="utf-8"
    )
    with pytest.raises(CatalogueError, match="schema"):
        Catalogue.load(bad)
    with pytest.raises(CatalogueError, match="not found"):
        Catalogue.load(tmp_path / "missing.yml")


def test_offer_detail_says_when_it_takes_effect(catalogue: Catalogue) -> None:
    assert "次月1日起生效" in fmt.offer_detail(catalogue.find("畅享59"))  # type: ignore[arg-type]
    assert "立即生效" in fmt.offer_detail(catalogue.find("流量加油包"))  # type: ignore[arg-type]


def test_answer_tariff_question_cheapest_5g(catalogue: Catalogue) -> None:
    from tariffs.query import answer_tariff_question

    assert answer_tariff_question(catalogue, "最便宜的5G套餐是哪个").startswith("最便宜的是青春校园卡")


def test_answer_tariff_question_plans_with_30gb_or_more(catalogue: Catalogue) -> None:
    from tariffs.query import answer_tariff_question

    text = answer_tariff_question(catalogue, "有没有30G以上流量的套餐")
    assert "5G畅享59元套餐" in text and "4G轻享39元套餐" not in text


def test_answer_tariff_question_compares_two_plans(catalogue: Catalogue) -> None:
    from tariffs.query import answer_tariff_question

    assert "月费多40元" in answer_tariff_question(catalogue, "畅享59和畅享99有什么区别")


@pytest.mark.parametrize(
    ("question", "name", "first"),
    [
        ("动感地带潮玩卡有什么优惠", "动感地带潮玩卡", "银龄关爱卡"),
        ("18元30G头条抖音流量包介绍", "18元30G头条抖音流量包", "10GB流量加油包"),
        ("请问星耀卡多少钱一个月", "星耀卡", "银龄关爱卡"),
    ],
)
def test_an_offer_we_do_not_have_is_said_so_with_the_closest_we_do(
    catalogue: Catalogue, question: str, name: str, first: str
) -> None:
    from tariffs.query import answer_tariff_question

    lines = answer_tariff_question(catalogue, question).splitlines()
    assert lines[0] == f"抱歉，我们的资费目录里没有「{name}」。和它最接近的有："
    assert lines[1].startswith(f"· {first}：")


@pytest.mark.parametrize(
    "question",
    [
        "我这个月流量超出套餐了，会扣多少钱",
        "流量超出套餐怎么收费",
        "超出套餐的流量怎么算钱",
        "通话超过套餐以后怎么计费",
        "想升级套餐",
        "当前套餐还能用多久",
    ],
)
def test_going_over_or_changing_ones_own_plan_is_not_an_offer_we_lack(
    catalogue: Catalogue, question: str
) -> None:
    from tariffs.query import tariff_answer, unknown_offer_name

    assert unknown_offer_name(catalogue, question) is None
    assert not tariff_answer(catalogue, question).text.startswith("抱歉，我们的资费目录里没有")


@pytest.mark.parametrize(
    ("question", "name"),
    [
        ("动感地带潮玩卡", "动感地带潮玩卡"),
        ("腾讯大王卡怎么办理", "腾讯大王卡"),
        ("超值星耀套餐", "超值星耀套餐"),
    ],
)
def test_a_product_name_next_to_those_words_is_still_not_in_our_catalogue(
    catalogue: Catalogue, question: str, name: str
) -> None:
    from tariffs.query import unknown_offer_name

    assert unknown_offer_name(catalogue, question) == name


@pytest.mark.parametrize("question", ["青春校园卡多少钱", "有什么套餐", "流量卡资费", "加一张副卡每月多少钱"])
def test_known_offers_and_generic_questions_are_not_called_unknown(
    catalogue: Catalogue, question: str
) -> None:
    from tariffs.query import unknown_offer_name

    assert unknown_offer_name(catalogue, question) is None
