"""kefu.textnorm: one rule per test, on inputs shaped like real posts, chats and phone transcripts."""

from __future__ import annotations

import pytest

from kefu.textnorm import normalize


def test_traditional_characters_become_simplified() -> None:
    assert normalize("我家寬帶斷網了，光貓紅燈一直閃") == "我家宽带断网了，光猫红灯一直闪"


def test_full_width_digits_and_latin_become_half_width() -> None:
    assert normalize("我的號碼是１３８００１３８０００，套餐５Ｇ畅享") == "我的号码是13800138000，套餐5G畅享"


def test_chinese_punctuation_is_kept() -> None:
    assert normalize("扣了我600元，为什么？") == "扣了我600元，为什么？"


def test_hashtags_are_removed() -> None:
    assert normalize("#中国移动# #宽带# 又断网了，修了三次") == "又断网了，修了三次"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@中国移动10086 话费怎么又多扣了20", "话费怎么又多扣了20"),
        ("@中国联通客服：我的宽带什么时候来修", "我的宽带什么时候来修"),
        ("帮我看看 @dx_kefu 流量包怎么退", "帮我看看 流量包怎么退"),
    ],
)
def test_mentions_are_removed(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_emoji_and_weibo_emoticons_are_removed() -> None:
    assert normalize("网速慢死了😡😡[怒][怒] 还收我199") == "网速慢死了 还收我199"


def test_share_picture_marker_is_removed() -> None:
    assert normalize("看看这个账单，莫名其妙多了30块 分享图片") == "看看这个账单，莫名其妙多了30块"


def test_trailing_location_tag_is_removed() -> None:
    assert normalize("小区里信号一格都没有 我在这里:长沙·岳麓区麓谷街道") == "小区里信号一格都没有"


def test_post_markers_are_removed() -> None:
    assert normalize("(1/2)上个月办的融合套餐，宽带到现在都没装") == "上个月办的融合套餐，宽带到现在都没装"
    assert normalize("营业厅说要等三天（2/2）") == "营业厅说要等三天"


def test_urls_are_removed() -> None:
    assert normalize("你们的活动页面 http://t.cn/A6xYz9 打不开") == "你们的活动页面 打不开"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("唉你好我想问一下流量套餐", "你好我想问一下流量套餐"),
        ("嗯 那个 就是我那个宽带又不行了", "我那个宽带又不行了"),
        ("啊对 就是就是这个号码", "对 这个号码"),
        ("没有了，嗯，谢谢", "没有了，谢谢"),
    ],
)
def test_asr_fillers_are_tamed(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_filler_words_inside_a_sentence_keep_their_meaning() -> None:
    assert normalize("我想退那个套餐") == "我想退那个套餐"
    assert normalize("就是这个流量包扣的钱") == "这个流量包扣的钱"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每个月五五十块的那个套餐", "每个月五十块的那个套餐"),
        ("我我我要投诉", "我要投诉"),
        ("请问请问宽带怎么移机", "请问宽带怎么移机"),
    ],
)
def test_stutters_are_tamed(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_reduplicated_words_stay() -> None:
    assert normalize("谢谢谢谢") == "谢谢谢谢"
    assert normalize("我们看看") == "我们看看"


def test_a_message_that_is_only_noise_keeps_its_text() -> None:
    assert normalize("嗯") == "嗯"
    assert normalize("😡") == "😡"
    assert normalize("") == ""
