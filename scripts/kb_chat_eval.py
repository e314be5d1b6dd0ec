"""Answer sets through the chat (Rasa's NLU, the dialogue rules, the action server) as a customer reads them.

``python -m retrieval eval-answers`` asks the knowledge base directly; a customer's message first goes
through Rasa, and only ``ask_policy`` reaches ``action_answer_policy`` (bot/data/rules.yml). This script
starts the action server and Rasa (the trained ``models/``, the index in ``var/index``) on free loopback
ports with a throwaway var dir, sends each question of each file as the first message of its own
conversation through the gateway's channel (what the web chat does), and judges the reply with
:func:`retrieval.answer_eval.judge` (the asked fact in the text and a citation of a gold section).
Misses are split by why: NLU sent the question to another intent, the knowledge base declined
(「没有可靠答案」), or it answered without the fact or the citation.

    .venv/bin/python scripts/kb_chat_eval.py tests/data/kb_answers_dev2.jsonl [more.jsonl] [-v]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

from gateway.rasa_client import CHANNEL_PATH, CHANNEL_SECRET_HEADER
from gateway.rasa_reply import translate_rasa_messages
from kefu.cluster import loopback_settings
from kefu.db import upgrade_database
from kefu.settings import REPO_ROOT
from kefu.supervisor import Supervisor, build_services, service_env
from kefu.supervisor_services import port_free
from retrieval.answer_eval import judge, load_rows
from retrieval.replies import NO_ANSWER_TEXT
from retrieval.settings import RetrievalSettings

POLICY_INTENT = "ask_policy"


@dataclass
class ChatReply:
    """What the customer reads after one message, and the intent Rasa understood."""

    text: str
    cited: list[str]
    intent: str


@dataclass
class ChatReport:
    """Outcomes of one answer set: answerable ones by outcome, off-topic ones by what happened."""

    name: str
    outcomes: Counter[str] = field(default_factory=Counter)
    off_topic: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)

    @property
    def answerable(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> str:
        n, ok = self.answerable, self.outcomes["correct"]
        routed = sum(v for k, v in self.outcomes.items() if k.startswith("routed to "))
        gated, wrong = self.outcomes["gated"], n - ok - routed - self.outcomes["gated"]
        answered, total_off = self.off_topic["answered"], sum(self.off_topic.values())
        head = (
            f"{self.name}: fact+citation {ok}/{n} = {ok / max(1, n):.3f}; lost to routing {routed}, "
            f"gated {gated}, answered wrongly {wrong}; off-topic answered {answered}/{total_off}"
        )
        detail = [f"  {k}: {v}" for k, v in sorted(self.outcomes.items()) if k != "correct"]
        detail += [f"  off-topic {k}: {v}" for k, v in sorted(self.off_topic.items())]
        return "\n".join([head, *detail])


def outcome(row: dict[str, object], reply: ChatReply, subsectioned: set[str]) -> str:
    """``correct``, ``routed to <intent>``, ``gated`` or ``wrong (<why>)`` for an answerable row."""
    verdict = judge(row, reply.text, reply.cited, subsectioned)
    if verdict == "correct":
        return verdict
    if NO_ANSWER_TEXT in reply.text:
        return "gated"
    if reply.intent != POLICY_INTENT and not reply.cited:
        return f"routed to {reply.intent}"
    return f"wrong ({verdict})"


def off_topic_outcome(reply: ChatReply) -> str:
    """An off-topic question is answered when the knowledge base quoted a passage (a citation)."""
    if reply.cited:
        return "answered"
    if NO_ANSWER_TEXT in reply.text:
        return "declined by the gate"
    return f"routed to {reply.intent}"


class ChatClient:
    """Posts a customer message to Rasa's gateway channel with the channel secret, as the gateway does."""

    def __init__(self, rasa_url: str, secret: str) -> None:
        self.url = rasa_url.rstrip("/") + CHANNEL_PATH
        self.secret = secret

    def ask(self, text: str) -> ChatReply:
        body = json.dumps({"sender": f"kb-chat-eval-{uuid.uuid4().hex}", "message": text}).encode()
        request = Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header(CHANNEL_SECRET_HEADER, self.secret)
        with urlopen(request, timeout=120) as response:
            raw: list[dict[str, Any]] = json.loads(response.read() or b"[]")
        reply = translate_rasa_messages(raw)
        text = "\n".join(m.text for m in reply.messages)
        cited = [str(c.get("section", "")) for m in reply.messages for c in m.citations]
        return ChatReply(text, cited, str((reply.nlu or {}).get("intent") or "?"))


@contextmanager
def rasa_and_actions(var_dir: Path) -> Iterator[ChatClient]:
    """The action server and Rasa on free loopback ports (no gateway: the channel is called directly)."""
    settings = loopback_settings(var_dir)
    upgrade_database(settings.database_url)  # the forms' actions read it (verification, tickets)
    env = service_env(settings)
    env["KEFU_KB_INDEX_DIR"] = str(RetrievalSettings().index_dir)
    services = [s for s in build_services(settings) if s.name in ("actions", "rasa")]
    for service in services:
        if not port_free(service.host, service.port):
            raise RuntimeError(f"port {service.port} taken")
    supervisor = Supervisor(services, env, var_dir / "logs", color=False, echo=False)
    supervisor.start()
    try:
        supervisor.wait_healthy()
        yield ChatClient(settings.rasa_url, env["KEFU_RASA_CHANNEL_SECRET"])
    finally:
        supervisor.stop()


def evaluate(client: ChatClient, path: Path, subsectioned: set[str]) -> ChatReport:
    report = ChatReport(path.name)
    for row in load_rows(path):
        question = str(row["question"])
        reply = client.ask(question)
        if row.get("off_topic"):
            result = off_topic_outcome(reply)
            report.off_topic[result] += 1
            if result == "answered":
                report.lines.append(f"OFF-TOPIC ANSWERED [{reply.intent}] {question} -> {reply.text}")
            continue
        result = outcome(row, reply, subsectioned)
        report.outcomes[result] += 1
        if result != "correct":
            first = reply.text.splitlines()[0] if reply.text else ""
            report.lines.append(f"{result.upper()} [{reply.intent}] {question} -> {first}")
    return report


def guide_subsectioned_sections() -> set[str]:
    """Sections with subsections, read from the guide's headings (no index or model loaded here)."""
    out: set[str] = set()
    for path in (REPO_ROOT / "knowledge_base" / "guide").glob("*.md"):
        for line in path.read_text(encoding="utf-8").splitlines():
            number = line.lstrip("#").strip().split(" ", 1)[0]
            if line.startswith("### ") and number.count(".") >= 2:
                out.add(".".join(number.split(".")[:2]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = parser.parse_args(argv)
    subsectioned = guide_subsectioned_sections()
    with tempfile.TemporaryDirectory(prefix="kb-chat-eval-") as tmp, rasa_and_actions(Path(tmp)) as client:
        for path in args.files:
            report = evaluate(client, path, subsectioned)
            if args.verbose:
                print("\n".join(report.lines))
            print(report.summary(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
