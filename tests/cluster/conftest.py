"""Two Rasa replicas on shared stores (PostgreSQL tracker store, Redis lock store) behind one gateway."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

from gateway.rasa_replicas import HashRing
from kefu.supervisor import build_services
from tests.cluster.servers import redis_server
from tests.conftest import LiveStack, free_port, running_stack, stack_env, stack_settings
from tests.unit.tickets.postgres import postgres_cluster

REPLICAS = ("rasa", "rasa-b")


@pytest.fixture(scope="session")
def rasa_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStack]:
    """The product with two Rasa replicas; the gateway pins each conversation to one of them."""
    with postgres_cluster() as admin_url, redis_server() as redis_url:
        settings = stack_settings(tmp_path_factory.mktemp("cluster-var"))
        settings.rasa_tracker_url = admin_url.replace("postgresql+psycopg://", "postgresql://")
        settings.rasa_lock_store_url = redis_url
        # Two replicas load their models at the same time: allow twice the usual start-up time.
        services = [
            dataclasses.replace(s, startup_timeout=2 * s.startup_timeout) if s.name == "rasa" else s
            for s in build_services(settings)
        ]
        rasa = next(s for s in services if s.name == "rasa")
        port_b = free_port()
        argv_b = [str(port_b) if arg == str(rasa.port) else arg for arg in rasa.argv]
        services.insert(
            services.index(rasa) + 1, dataclasses.replace(rasa, name="rasa-b", argv=argv_b, port=port_b)
        )
        env = stack_env(settings)
        env["KEFU_RASA_REPLICA_URLS"] = json.dumps([settings.rasa_url, f"http://127.0.0.1:{port_b}"])
        with running_stack(settings, env, services) as stack:
            stack.supervisor.watch_in_background()  # a killed replica comes back on its own
            warm_up(stack, json.loads(env["KEFU_RASA_REPLICA_URLS"]))
            yield stack


def warm_up(stack: LiveStack, urls: list[str], tries: int = 40) -> None:
    """One answered message per replica: the first prediction of a fresh Rasa is slow on a busy box."""
    ring = HashRing(urls)
    for url in urls:
        for _ in range(tries):
            cid = stack.new_conversation()
            if ring.preference(cid)[0] != url:
                continue
            for _ in range(tries):
                reply = stack.say(cid, "你好")
                if reply["messages"] and "暂时无法回复" not in str(reply["messages"][0].get("text")):
                    break
            else:
                raise AssertionError(f"Rasa replica {url} never answered")
            break
