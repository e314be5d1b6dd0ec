"""Identity verification form: phone number, then the one-time SMS code."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from accounts.phone import normalize_mobile
from accounts.verification import (
    CodeExpired,
    DailyLimitReached,
    PhoneLocked,
    ResendTooSoon,
    UnknownSubscriber,
    WrongCode,
)
from actions.common import local_time, verification_service
from actions.faq import RuleQuestionFirst
from kefu.privacy import mask_phone

VERIFIED = "verified"
LOCKED = "locked"


def resend_text(exc: ResendTooSoon, phone: str) -> str:
    return f"验证码刚刚已发送至{mask_phone(phone)}，请查看短信；如需重新获取，请{exc.seconds}秒后再试。"


def daily_limit_text(exc: DailyLimitReached) -> str:
    who = "该号码" if exc.scope == "phone" else "本次会话"
    return f"{who}今日获取验证码的次数已达上限，请在{local_time(exc.until)}后再试，或转人工客服。"


class ValidateVerificationForm(RuleQuestionFirst):
    def name(self) -> str:
        return "validate_verification_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing to ask once this conversation has verified a phone (the server's record)."""
        if verification_service().verified_phone(tracker.sender_id):
            return []
        return domain_slots

    def validate_verify_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        verified = verification_service().verified_phone(tracker.sender_id)
        phone = normalize_mobile(str(value or ""))
        if verified and phone in (None, verified):
            return {"verify_phone": verified, "otp_code": VERIFIED}
        if phone is None:
            dispatcher.utter_message(text="这不是有效的手机号码，请输入11位中国大陆手机号（如13800138000）。")
            return {"verify_phone": None}
        try:
            verification_service().request_code(phone, conversation_id=tracker.sender_id)
        except UnknownSubscriber:
            dispatcher.utter_message(text=f"未查询到{mask_phone(phone)}的账户，请核对号码后重新输入。")
            return {"verify_phone": None}
        except PhoneLocked as exc:
            dispatcher.utter_message(
                text=f"该号码验证失败次数过多，已暂时锁定，请在{local_time(exc.until)}后再试，或转人工客服。"
            )
            return {"verify_phone": phone, "otp_code": LOCKED}
        except ResendTooSoon as exc:
            dispatcher.utter_message(text=resend_text(exc, phone))
            return {"verify_phone": phone, "otp_code": None}
        except DailyLimitReached as exc:
            dispatcher.utter_message(text=daily_limit_text(exc))
            return {"verify_phone": phone, "otp_code": LOCKED}
        dispatcher.utter_message(text=f"验证码已发送至{mask_phone(phone)}，5分钟内有效。")
        return {"verify_phone": phone, "otp_code": None}

    def validate_otp_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value in (VERIFIED, LOCKED):
            return {"otp_code": value}
        phone = tracker.get_slot("verify_phone")
        if not phone:
            return {"otp_code": None}
        code = re.sub(r"\D", "", str(value or ""))
        service = verification_service()
        if len(code) != service.settings.code_length:  # chatter is not a guess: no try is used up
            dispatcher.utter_message(
                text=f"请输入短信中的{service.settings.code_length}位数字验证码；如需退出验证，请回复“不办了”。"
            )
            return {"otp_code": None}
        try:
            service.verify_code(str(phone), code, conversation_id=tracker.sender_id)
        except WrongCode as exc:
            if exc.remaining > 0:
                dispatcher.utter_message(text=f"验证码不正确，您还可以再试{exc.remaining}次。")
                return {"otp_code": None}
            until = local_time(exc.locked_until) if exc.locked_until else "稍后"
            dispatcher.utter_message(text=f"验证码错误次数过多，为保护账户安全，该号码已锁定至{until}。")
            return {"otp_code": LOCKED}
        except PhoneLocked as exc:
            dispatcher.utter_message(text=f"该号码已锁定，请在{local_time(exc.until)}后再试。")
            return {"otp_code": LOCKED}
        except CodeExpired:
            try:
                service.request_code(str(phone), conversation_id=tracker.sender_id)
            except PhoneLocked as exc:
                dispatcher.utter_message(text=f"该号码已锁定，请在{local_time(exc.until)}后再试。")
                return {"otp_code": LOCKED}
            except ResendTooSoon as exc:
                dispatcher.utter_message(text=f"验证码已失效。{resend_text(exc, str(phone))}")
                return {"otp_code": None}
            except DailyLimitReached as exc:
                dispatcher.utter_message(text=daily_limit_text(exc))
                return {"otp_code": LOCKED}
            dispatcher.utter_message(
                text=f"验证码已失效，已重新发送至{mask_phone(str(phone))}，请输入新的验证码。"
            )
            return {"otp_code": None}
        dispatcher.utter_message(text="身份验证成功。")
        return {"otp_code": VERIFIED, "verified_phone": phone}
