"""Guide and tariff answers carry a citation; questions the guide cannot answer get an honest reply."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import HELPFUL_BUTTONS, HUMAN_BUTTON
from actions.fallback import ActionFallback
from actions.faq import ActionAnswerPolicy
from actions.tariffs import ActionAnswerTariff
from actions.ticket_forms import ValidateComplaintForm
from actions.verification import ValidateVerificationForm
from retrieval import KnowledgeBase, get_knowledge_base
from tests.unit.actions.conftest import DOMAIN, make_tracker, said, user_event


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The real knowledge base (model and index), loaded once for this module's tests."""
    return get_knowledge_base()


async def test_action_answer_policy_cites_the_guide_and_asks_if_helpful(kb, dispatcher) -> None:
    question = "办新号要带什么证件"
    events = await ActionAnswerPolicy().run(
        dispatcher, make_tracker(events=[user_event(question, "ask_policy")]), DOMAIN
    )
    answer = kb.answer(question)
    assert answer is not None and "身份证" in answer.text
    assert answer.citations and answer.citations[0]["section"]
    assert events == []
    assert dispatcher.messages == [
        said(answer.text, custom={"citations": list(answer.citations)}),
        said("以上回答对您有帮助吗？", buttons=HELPFUL_BUTTONS),
    ]


async def test_a_guide_question_the_nlu_could_not_place_is_answered_from_the_guide(kb, dispatcher) -> None:
    question = "办新号要带什么证件"
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "ask_policy", "confidence": 0.3}]
    tracker = make_tracker(events=[user_event(question, "nlu_fallback", 0.4, ranking)])
    assert await ActionFallback().run(dispatcher, tracker, DOMAIN) == []
    answer = kb.answer(question)
    assert answer is not None
    assert dispatcher.messages == [
        said(answer.text, custom={"citations": list(answer.citations)}),
        said("以上回答对您有帮助吗？", buttons=HELPFUL_BUTTONS),
    ]


async def test_a_vague_message_after_a_fallback_the_guide_answered_gets_buttons_not_a_handoff(
    kb, dispatcher
) -> None:
    answered = kb.answer("办新号要带什么证件")
    assert answered is not None
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "ask_policy", "confidence": 0.2}]
    events = [
        user_event("办新号要带什么证件", "nlu_fallback", 0.4, ranking),
        {"event": "bot", "text": answered.text},
        {"event": "bot", "text": "以上回答对您有帮助吗？"},
        user_event("那个东西怎么弄", "nlu_fallback", 0.3, ranking),
    ]
    assert await ActionFallback().run(dispatcher, make_tracker(events=events), DOMAIN) == []
    buttons = [{"title": "咨询业务规定", "payload": "/ask_policy"}, HUMAN_BUTTON]
    assert dispatcher.messages == [said("抱歉，我不太确定您的意思，您是想：", buttons=buttons)]


async def test_after_a_button_the_question_is_what_the_customer_typed_before_it(kb, dispatcher) -> None:
    question = "办新号要带什么证件"
    events = [user_event(question, "ask_policy"), user_event("/ask_policy", "ask_policy")]
    await ActionAnswerPolicy().run(dispatcher, make_tracker(events=events), DOMAIN)
    answer = kb.answer(question)
    assert answer is not None
    assert dispatcher.messages[0] == said(answer.text, custom={"citations": list(answer.citations)})


async def test_action_answer_policy_unanswerable_question_offers_human(kb, dispatcher) -> None:
    question = "火星上的基站信号怎么样，外星人能用吗"
    assert kb.answer(question) is None
    events = await ActionAnswerPolicy().run(
        dispatcher, make_tracker(events=[user_event(question, "ask_policy")]), DOMAIN
    )
    assert events == []
    assert dispatcher.messages == [
        said(
            "抱歉，我在服务指南里没有找到可靠的答案，不想随便回答误导您。您可以换个说法，或转人工客服为您解答。",
            buttons=[HUMAN_BUTTON],
        )
    ]


async def test_a_tariff_answer_cites_the_guide_section_of_the_offers(kb, services, dispatcher) -> None:
    tracker = make_tracker(events=[user_event("千兆宽带一个月多少钱", "ask_tariff")])
    events = await ActionAnswerTariff().run(dispatcher, tracker, DOMAIN)
    assert events == [SlotSet("plan_name", None)]
    first = dispatcher.messages[0]
    assert "119元/月" in first["text"] and first["text"].endswith("（依据《服务指南》2.4.1）")
    assert first["custom"] == {"citations": [{"section": "2.4.1", "title": "常见问题类型与处理方法"}]}


async def test_a_fee_rule_the_catalogue_cannot_answer_is_answered_from_the_guide(
    kb, services, dispatcher
) -> None:
    question = "流量用超了以后怎么收费"
    events = await ActionAnswerTariff().run(
        dispatcher, make_tracker(events=[user_event(question, "ask_tariff")]), DOMAIN
    )
    answer = kb.answer(question)
    assert answer is not None and "5元/GB" in answer.text
    assert events == [SlotSet("plan_name", None)]
    assert dispatcher.messages == [
        said(answer.text, custom={"citations": list(answer.citations)}),
        said("以上回答对您有帮助吗？", buttons=HELPFUL_BUTTONS),
    ]


async def test_a_rule_question_that_starts_verification_is_answered_from_the_guide_first(
    kb, services
) -> None:
    question = "携号转网要带什么证件"
    asked, wished = CollectingDispatcher(), CollectingDispatcher()
    events = await ValidateVerificationForm().run(
        asked, make_tracker(events=[user_event(question, "port_number")]), DOMAIN
    )
    plain = await ValidateVerificationForm().run(
        wished, make_tracker(events=[user_event("我要携号转网", "port_number")]), DOMAIN
    )
    answer = kb.answer(question)
    assert answer is not None and "身份证" in answer.text
    assert asked.messages == [said(answer.text, custom={"citations": list(answer.citations)})]
    assert wished.messages == []
    assert events == plain  # the form goes on as before: it asks for the phone next


async def test_a_terse_title_asking_a_time_limit_is_answered_before_verification(kb, services) -> None:
    """「携号转网 办理时间」 names no question word; 办理时间 asks a time limit, so the guide answers it."""
    question = "携号转网 办理时间"
    asked = CollectingDispatcher()
    await ValidateVerificationForm().run(
        asked, make_tracker(events=[user_event(question, "port_number")]), DOMAIN
    )
    answer = kb.answer(question)
    assert answer is not None and "3个工作日" in answer.text
    assert asked.messages == [said(answer.text, custom={"citations": list(answer.citations)})]


async def test_a_rule_question_that_starts_a_ticket_form_is_answered_from_the_guide_first(
    kb, services
) -> None:
    question = "投诉以后一般多久能有处理结果"
    asked = CollectingDispatcher()
    await ValidateComplaintForm().run(asked, make_tracker(events=[user_event(question, "complain")]), DOMAIN)
    answer = kb.answer(question)
    assert answer is not None and answer.citations
    assert asked.messages[0] == said(answer.text, custom={"citations": list(answer.citations)})
