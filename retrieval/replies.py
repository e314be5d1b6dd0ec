"""The knowledge-base answer's fixed replies: the action sends them, the workbench's gaps list finds them."""

# The gate said no: sent instead of an answer (「没有可靠答案」).
NO_ANSWER_TEXT = (
    "抱歉，我在服务指南里没有找到可靠的答案，不想随便回答误导您。您可以换个说法，或转人工客服为您解答。"
)
# Asked after every answer; its 「没解决」 button sends /deny.
HELPFUL_QUESTION = "以上回答对您有帮助吗？"
NOT_SOLVED_PAYLOAD = "/deny"
