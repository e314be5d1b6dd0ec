"""Verification is server state per conversation; proposals are the bot's own, used once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accounts.proposals import InvalidProposal, Proposal, ProposalStore
from accounts.settings import AccountsSettings, OtpSettings
from accounts.sms import LogSmsProvider
from accounts.verification import VerificationService, WrongCode


@pytest.fixture
def service(session_factory, tmp_path: Path, clock) -> VerificationService:
    settings = OtpSettings(verified_ttl_minutes=30)
    return VerificationService(session_factory, LogSmsProvider(tmp_path / "outbox.jsonl"), settings, clock)


def _verify(service: VerificationService, tmp_path: Path, conversation_id: str) -> None:
    service.request_code("13800138000", conversation_id=conversation_id)
    code = json.loads((tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()[-1])["code"]
    service.verify_code("13800138000", code, conversation_id=conversation_id)


def test_verified_phone_is_none_before_any_code(service) -> None:
    assert service.verified_phone("conv-a") is None


def test_right_code_verifies_only_this_conversation_until_expiry(service, tmp_path, clock) -> None:
    _verify(service, tmp_path, "conv-a")
    assert service.verified_phone("conv-a") == "13800138000"
    assert service.verified_phone("conv-b") is None
    clock.advance(minutes=29)
    assert service.verified_phone("conv-a") == "13800138000"
    clock.advance(minutes=1)
    assert service.verified_phone("conv-a") is None


def test_wrong_code_records_nothing(service, tmp_path) -> None:
    service.request_code("13800138000", conversation_id="conv-a")
    code = json.loads((tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()[-1])["code"]
    with pytest.raises(WrongCode):
        service.verify_code(
            "13800138000", "000000" if code != "000000" else "111111", conversation_id="conv-a"
        )
    assert service.verified_phone("conv-a") is None


def test_forget_ends_the_verification(service, tmp_path) -> None:
    _verify(service, tmp_path, "conv-a")
    service.forget("conv-a")
    assert service.verified_phone("conv-a") is None


@pytest.fixture
def proposals(session_factory, clock) -> ProposalStore:
    return ProposalStore(session_factory, AccountsSettings(proposal_ttl_minutes=10), clock)


def test_a_proposal_is_taken_once_for_its_phone(proposals) -> None:
    proposals.propose("conv-a", "13800138000", "plan", "5g-99")
    assert proposals.take("conv-a", "13800138000") == Proposal("13800138000", "plan", "5g-99")
    assert proposals.take("conv-a", "13800138000") is None


def test_a_proposal_is_not_for_another_phone_or_conversation(proposals) -> None:
    proposals.propose("conv-a", "13800138000", "plan", "5g-99")
    assert proposals.take("conv-b", "13800138000") is None
    assert proposals.take("conv-a", "13900139000") is None
    assert proposals.take("conv-a", "13800138000") is None  # a mismatched take discards it


def test_a_proposal_expires_and_a_newer_one_replaces_it(proposals, clock) -> None:
    proposals.propose("conv-a", "13800138000", "plan", "5g-99")
    proposals.propose("conv-a", "13800138000", "addon", "data-10g")
    assert proposals.take("conv-a", "13800138000") == Proposal("13800138000", "addon", "data-10g")
    proposals.propose("conv-a", "13800138000", "business", "port_number")
    clock.advance(minutes=10)
    assert proposals.take("conv-a", "13800138000") is None


def test_unknown_kinds_and_business_requests_are_refused(proposals) -> None:
    with pytest.raises(InvalidProposal):
        proposals.propose("conv-a", "13800138000", "refund", "x")
    with pytest.raises(InvalidProposal):
        proposals.propose("conv-a", "13800138000", "business", "close_everything")
