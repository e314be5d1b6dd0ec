"""Jieba tokenization with the shared telecom dictionary, plus light query normalization."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

import jieba

from kefu.textnorm import normalize, to_simplified
from retrieval.product_aliases import official_names
from retrieval.settings import REPO_ROOT

DICT_DIR = REPO_ROOT / "knowledge_base" / "dictionary"
_lock = threading.Lock()

STOPWORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "呀",
        "么",
        "嘛",
        "我",
        "你",
        "他",
        "她",
        "它",
        "我们",
        "你们",
        "是",
        "在",
        "有",
        "和",
        "与",
        "及",
        "或",
        "就",
        "都",
        "也",
        "还",
        "要",
        "想",
        "请问",
        "请",
        "问",
        "一下",
        "怎么",
        "怎么办",
        "怎样",
        "如何",
        "什么",
        "哪些",
        "哪个",
        "多少",
        "为什么",
        "能",
        "能不能",
        "可以",
        "可不可以",
        "会",
        "一个",
        "这个",
        "那个",
        "这",
        "那",
        "个",
        "下",
        "给",
        "让",
        "把",
        "被",
        "对",
        "到",
        "从",
        "又",
        "很",
        "太",
        "好",
        "呗",
        "哦",
        "嗯",
        "哈",
        "啦",
        "，",
        "。",
        "？",
        "！",
        "、",
        "：",
        "；",
        "“",
        "”",
        "（",
        "）",
        ",",
        ".",
        "?",
        "!",
        ":",
        ";",
        "(",
        ")",
        "-",
    ]
)

# Customer wording -> guide wording (applied to queries before embedding and BM25).
SYNONYMS: dict[str, str] = {
    "携转": "携号转网",
    "转网": "携号转网",
    "换运营商": "携号转网",
    "带号转网": "携号转网",
    "网速慢": "网络故障 网速慢",
    "断网": "网络故障 断网",
    "没网": "网络故障",
    "没信号": "信号弱 网络故障",
    "信号差": "信号弱",
    "上不了网": "网络故障 无法连接",
    "网络不好": "网络不稳定",
    "wifi": "宽带",
    "WiFi": "宽带",
    "光猫": "宽带 设备",
    "路由器": "宽带 路由器",
    "销户": "号码注销",
    "注销": "号码注销",
    "停机": "停用",
    "退订": "退订 业务停用",
    "话费": "费用 资费",
    "扣费": "费用异常",
    "乱扣费": "费用异常 投诉",
    "多扣": "费用异常",
    "套餐": "套餐",
    "换套餐": "套餐变更",
    "改套餐": "套餐变更",
    "升级套餐": "套餐升级",
    "流量包": "流量包",
    "没到账": "未到账",
    "投诉": "投诉",
    "态度差": "服务态度差",
    "证件": "身份证明 材料",
    "带什么": "材料",
    "带啥": "带什么 材料",  # colloquial wording must reach the same answers as the formal one
    "要啥": "需要什么 材料",
    "咋": "怎么",
    "啥时候": "什么时候",
    "新号": "办理新号",
    "开户": "办理新号",
    "人工": "人工 客服",
    "客服": "客服",
    "多久": "时限 时间",
    "几天": "时限 时间",
    "满意度": "满意度",
    "评价": "评价 反馈",
    "隐私": "隐私保护 个人信息",
    "突发": "应急 突发",  # the guide says 应急 where customers say 突发 (chapter 7)
    "练习": "演练 练习",
    "泄露": "泄露 数据安全",
    # A card just opened is the guide's 新卡 (1.4: how soon it works), whatever the customer calls it.
    "新开的": "新卡",
    "新办的": "新卡",
    "刚办的": "新卡",
    # Customers say 超标 and 限速; the guide says 超出 and 降速 (2.4.1: per-GB rate, 降速 after the cap).
    "超标": "超出",
    "限速": "降速",
    "赔": "补偿",  # customers say 赔 (赔钱, 能赔吗); the guide says 补偿 (3.3.4)
}


# One answer reads the same question through ranking, the gate and answer selection, each cleaning
# it again (five normalisations of ~0.4 ms, tariff alias lookup included): a few entries keep those
# to one; too few to carry over between different customers' questions (no cache to warm in a bench).
_PER_ANSWER = 8


@lru_cache(maxsize=_PER_ANSWER)
def clean_query(text: str) -> str:
    """The question as the customer meant it, in simplified characters (kefu.textnorm: t2s, full-width,
    Weibo noise, fillers, homophone slips: kefu.typos) without synonym expansion: what answer
    selection reads."""
    return normalize(text.strip())


@lru_cache(maxsize=_PER_ANSWER)
def normalize_query(text: str) -> str:
    """clean_query, then append guide wording for customer synonyms and the official name of an
    offer named by its alias (老人卡 -> 银龄关爱卡; expansion keeps the original words). Ranking, the
    gate's domain check and answer selection's "names the product" all read this text."""
    text = clean_query(text)
    extra = [target for src, target in SYNONYMS.items() if src in text and target not in text]
    extra += official_names(text)
    return text + (" " + " ".join(extra) if extra else "")


@lru_cache(maxsize=1)
def _jieba(dict_dir: Path = DICT_DIR) -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    jieba.setLogLevel(60)
    if dict_dir.is_dir():
        for path in sorted(dict_dir.glob("*.txt")):
            tok.load_userdict(str(path))
    return tok


def tokenize(text: str) -> list[str]:
    """Lowercased jieba tokens without stopwords and punctuation (one shared tokenizer)."""
    with _lock:
        # Uploaded documents and queries may be traditional: the one t2s converter (OpenCC) for both.
        words = _jieba().lcut(to_simplified(text.lower()))
    return [w for w in (x.strip() for x in words) if w and w not in STOPWORDS and not re.fullmatch(r"\W+", w)]
