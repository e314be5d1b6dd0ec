"""Masking of phone, ID-card and bank-card numbers and SMS codes, for display and for every log line.

The guide (1.4, 4.4) requires customer data to be kept confidential; a full mobile, ID or card
number, or a one-time code, must never reach a log file or an unauthorised screen. This is the one
masking module of every kefu process (gateway, action server, Rasa): :func:`install_log_masking`
masks each log record when it is created, so every handler, formatter and traceback sees the
masked text. It is plain standard-library Python so that Rasa's Python 3.10 can import it too.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

# A digit as customers type it: ASCII or full-width (０-９).
_D = "[0-9\uff10-\uff19]"
_SEP = "[ \\-\uff0d\u3000]"  # a space, hyphen, full-width hyphen or ideographic space between groups
_NOT_DIGIT_BEFORE = "(?<![0-9\uff10-\uff19])"
_NOT_DIGIT_AFTER = "(?![0-9\uff10-\uff19])"

# 18-digit resident ID (last character may be X) and the older 15-digit form.
_ID18_RE = re.compile(
    f"{_NOT_DIGIT_BEFORE}({_D}{{6}}){_D}{{8}}({_D}{{3}}[0-9\uff10-\uff19Xx\uff38]){_NOT_DIGIT_AFTER}"
)
_ID15_RE = re.compile(f"{_NOT_DIGIT_BEFORE}({_D}{{6}}){_D}{{6}}({_D}{{3}}){_NOT_DIGIT_AFTER}")
# Bank cards: 16-19 digits, contiguous or in groups separated by single spaces/hyphens.
_CARD_RE = re.compile(
    f"{_NOT_DIGIT_BEFORE}{_D}(?:{_SEP}?{_D}){{11,14}}((?:{_SEP}?{_D}){{4}}){_NOT_DIGIT_AFTER}"
)
# Mainland mobile numbers, optionally +86 / 86 prefixed, contiguous or as 3-4-4 groups.
_PHONE_RE = re.compile(
    f"{_NOT_DIGIT_BEFORE}((?:[+\uff0b]?[8\uff18][6\uff16]{_SEP}?)?[1\uff11][3-9\uff13-\uff19]{_D})"
    f"{_SEP}?{_D}{{4}}({_SEP}?{_D}{{4}}){_NOT_DIGIT_AFTER}"
)
# One-time codes named as such: 「验证码是569772」, 「校验码：1234」, "code 569772".
_CODE_RE = re.compile(
    f"((?:验证码|校验码|动态码|动态密码|短信码|otp|code)[^0-9\uff10-\uff19\\n]{{0,8}}?){_D}{{4,8}}{_NOT_DIGIT_AFTER}",
    re.IGNORECASE,
)
# Secrets in URLs (Rasa's ?token=…).
_TOKEN_RE = re.compile(r"([?&](?:token|auth_token|access_token)=)[^&\s\"'#]+", re.IGNORECASE)


def mask_phone(phone: str) -> str:
    """``13812341234`` → ``138****1234``; anything too short is masked whole."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        digits = digits[-11:]
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * len(digits)


def _keep_last4(match: re.Match[str]) -> str:
    tail = re.sub(_SEP, "", match.group(1))
    return "**** **** **** " + tail


def mask_sensitive(text: str) -> str:
    """Mask every ID-card, bank-card and mobile number and every named SMS code inside free text."""
    text = _TOKEN_RE.sub(r"\1***", text)
    text = _CODE_RE.sub(lambda m: f"{m.group(1)}******", text)
    text = _ID18_RE.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    text = _CARD_RE.sub(_keep_last4, text)
    text = _ID15_RE.sub(lambda m: f"{m.group(1)}******{m.group(2)}", text)
    return _PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message, traceback and stack text by their masked forms (in place)."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: mask the template as it is
        message = str(record.msg)
    record.msg, record.args = mask_sensitive(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        # Formatters reuse exc_text when it is set, so the traceback is printed masked.
        record.exc_text = mask_sensitive("".join(traceback.format_exception(*record.exc_info)).rstrip())
    elif record.exc_text:
        record.exc_text = mask_sensitive(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_sensitive(record.stack_info)
    return record


class MaskingFilter(logging.Filter):
    """A handler filter that masks records (for handlers of records not made by our factory)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "kefu_masked", False):
            mask_record(record)
            record.kefu_masked = True
        return True


def install_masking_filter(logger: logging.Logger | None = None) -> None:
    """Attach the masking filter to every handler of ``logger`` (default: root)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())


_installed = threading.Lock()
_state: dict[str, bool] = {"installed": False}


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(mask_sensitive("".join(traceback.format_exception(kind, value, tb))))


def _thread_excepthook(args: Any) -> None:
    if args.exc_type is SystemExit:
        return
    name = getattr(args.thread, "name", "?")
    text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
    sys.stderr.write(mask_sensitive(f"Exception in thread {name}:\n{text}"))


def install_log_masking() -> None:
    """Mask every log record of this process when it is created, and uncaught tracebacks.

    A record factory (rather than a filter on today's handlers) also covers handlers that
    libraries add later (Sanic, coloredlogs, Rasa's structlog bridge).
    """
    with _installed:
        if not _state["installed"]:
            base = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = mask_record(base(*args, **kwargs))
                record.kefu_masked = True
                return record

            logging.setLogRecordFactory(factory)
            sys.excepthook = _excepthook
            threading.excepthook = _thread_excepthook
            _state["installed"] = True
    install_masking_filter(logging.getLogger())
