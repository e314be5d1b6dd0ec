"""The quote a reply gives: the sentences of the chosen passage that answer the question, within
the length budget, the one carrying what was asked first.

Answer selection (retrieval/answer_selection.py) chooses the passage; this module only cuts it.
"""

from __future__ import annotations

import re

from retrieval.question_analysis import (
    CITATION_TAIL,
    FIGURE_TYPES,
    FIGURES,
    SENTENCE,
    asked_numbers,
    asked_unit,
    bigrams,
    figure_strength,
    names_number,
    overlap,
    question_type,
)

# Without a figure asked for, what answers a how-to (the steps) or a yes/no (what it takes, what it
# cannot do) in a passage that does not open with the answer.
ANSWER_MARKS: dict[str, re.Pattern[str]] = {
    "procedure": FIGURES["procedure"],
    "yesno": re.compile(r"才能|才可以|必须|只能|只限|无法|不能|需要"),
}
LEANS_BACK = re.compile(r"[它这其该此]")
MARKUP = re.compile(r"\*\*|^\s*[-*]\s+", re.MULTILINE)


def answer_quote(text: str, question: str, max_chars: int = 120, opener: bool = True) -> str:
    """Up to ~max_chars of the passage, the sentence answering the question first.

    For a time limit, materials or an amount the sentence holding the figure leads; otherwise the
    passage's own opening does (FAQ answers open with the answer: 「可以。」「不用。」). `opener=False`
    drops that opening yes or no: it answers the passage's own FAQ question, not the customer's.
    The sentences that answer best follow while they fit, so a fact just past the second sentence
    (身份证件 in the third) is not cut off.
    """
    # Markdown emphasis and list bullets are the guide's layout, not words a customer should read.
    text = CITATION_TAIL.sub("", re.sub(r"\s+", "", MARKUP.sub("", text)))
    if not opener:
        text = FIGURES["yesno"].sub("", text, count=1)
    sentences = [s for s in SENTENCE.split(text) if s]
    if not sentences:
        return ""
    qtype, qgrams, numbers = question_type(question), bigrams(question), asked_numbers(question)
    figure_type, unit = qtype in FIGURE_TYPES, asked_unit(question, qtype)
    opens_with_answer = bool(FIGURES["yesno"].search(sentences[0]))

    def relevance(k: int) -> float:
        figure = figure_strength(qtype, sentences[k], unit) if figure_type else 0.0
        if qtype in ("procedure", "yesno") and not figure:
            # No figure to lead with: the steps (先…再, 营业厅) or what it takes (需要…才能) answer.
            figure = 0.5 if ANSWER_MARKS[qtype].search(sentences[k]) else 0.0
        named = 3.0 if numbers and names_number(sentences[k], numbers) else 0.0
        # 「它…」「这…」 leans on the sentence before it and does not lead a quote.
        leaning = 1.0 if k and LEANS_BACK.match(sentences[k]) else 0.0
        return 2.0 * figure + named + overlap(qgrams, sentences[k]) - leaning - 0.01 * k

    # A yes/no question quoting a passage that does not open with a yes or no leads with the sentence
    # saying what it takes (「需要千兆路由器才能跑满速」), not with the passage's opening about 300M.
    recentre = figure_type or numbers or (qtype == "yesno" and not opens_with_answer)
    lead = max(range(len(sentences)), key=relevance) if recentre else 0
    short = len(sentences[lead]) < 6 and lead + 1 < len(sentences)  # 「可以。」 alone says too little
    used = [lead, lead + 1] if short else [lead]
    # A bare 「不能。」 answers only where it stands, at the head of its passage.
    rest = [k for k in range(len(sentences)) if k not in used and not (k == 0 and len(sentences[0]) < 6)]
    order = sorted(rest, key=relevance, reverse=True) if qtype else rest
    head, size = len(used), sum(len(sentences[k]) for k in used)
    for k in order:
        if size + len(sentences[k]) <= max_chars:
            used.append(k)
            size += len(sentences[k])
    quote = "".join(sentences[k] for k in used[:head] + sorted(used[head:]))
    if len(quote) > max_chars:
        quote = quote[:max_chars].rstrip("，,、") + "……"
    return quote
