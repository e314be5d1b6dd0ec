"""Process-wide services for the action server, created lazily once per process."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from accounts.proposals import ProposalStore
from accounts.service import AccountService
from accounts.settings import get_accounts_settings, get_otp_settings
from accounts.sms import make_sms_provider
from accounts.verification import VerificationService
from kefu.db import make_engine, make_session_factory
from kefu.settings import get_common_settings
from tariffs.catalogue import Catalogue, get_catalogue
from tickets import TicketService
from tickets.forms import local_time as local_time  # the actions' name for it

_lock = threading.Lock()

if TYPE_CHECKING:
    from retrieval import KnowledgeBase

# Buttons asking whether an answer helped (rules react to affirm / deny after an answer).
HELPFUL_BUTTONS = [{"title": "有帮助", "payload": "/affirm"}, {"title": "没解决", "payload": "/deny"}]
HUMAN_BUTTON = {"title": "转人工客服", "payload": "/request_human"}


@lru_cache(maxsize=1)
def session_factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(get_common_settings().database_url))


@lru_cache(maxsize=1)
def verification_service() -> VerificationService:
    common = get_common_settings()
    otp = get_otp_settings()
    sms = make_sms_provider(otp.sms_provider, common.var_dir, get_accounts_settings().sms_outbox)
    return VerificationService(session_factory(), sms, otp)


def proposal_store() -> ProposalStore:
    return ProposalStore(session_factory(), get_accounts_settings())


def catalogue() -> Catalogue:
    return get_catalogue()


def account_service() -> AccountService:
    return AccountService(session_factory(), catalogue())


@lru_cache(maxsize=1)
def ticket_service() -> TicketService:
    """The tickets package's TicketService on the shared database."""
    return TicketService(session_factory())


def knowledge_base() -> KnowledgeBase:
    """The retrieval singleton (it loads the model and index once itself; imported late so the action
    server starts without loading torch). A new live index version is loaded in the background."""
    from retrieval import get_knowledge_base

    with _lock:
        kb = get_knowledge_base()
    kb.refresh_in_background()  # a rebuild or rollback from the workbench is picked up between requests
    return kb
