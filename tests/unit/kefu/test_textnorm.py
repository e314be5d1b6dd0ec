"""kefu.textnorm: one rule per test, on inputs shaped like real posts, chats and phone transcripts."""

from __future__ import annotations

import pytest

from kefu.textnorm import normalize


def test_traditional_characters_become_simplified() -> None:
    assert normalize("我家寬帶斷網了，光貓紅燈一直閃") == "我家宽带断网了，光猫红灯一直闪"


def test_homophone_slips_of_pinyin_input_are_mended() -> None:
    # What the NLU and the forms read, not only the knowledge base (kefu.typos).
    assert normalize("頭訴多久有結過") == "投诉多久有结果"
    assert normalize("我家宽代断网了") == "我家宽带断网了"


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
    assert normalize("嗯呢") == "嗯呢"
    assert normalize("嗯哼，") == "嗯哼"
    assert normalize("😡") == "😡"
    assert normalize("") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的号码是一三九一二三四五六七八", "我的号码是13912345678"),
        ("嗯手机号是幺五零 零零幺二 三四五六", "手机号是15000123456"),
        ("验证码是三八二九", "验证码是3829"),
        ("打了好几次幺零零八六都没人接", "打了好几次10086都没人接"),
        ("二零二四年十一月开始扣的", "2024年十一月开始扣的"),
    ],
)
def test_numbers_read_out_digit_by_digit_become_digits(text: str, expected: str) -> None:
    assert normalize(text) == expected


@pytest.mark.parametrize("text", ["七七八八的问题一大堆", "一五一十说清楚", "三四百块钱", "四五六七十块"])
def test_number_words_that_are_not_digit_strings_stay(text: str) -> None:
    assert normalize(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("門號收不到簡訊，訊號也很差", "号码收不到短信，信号也很差"),
        ("家裡的寬頻網路一直斷線", "家里的宽带网络一直断线"),
        ("想攜碼到別家，綁約還沒到期", "想携号转网到别家，合约还没到期"),
    ],
)
def test_taiwanese_telecom_words_become_mainland_ones(text: str, expected: str) -> None:
    assert normalize(text) == expected
