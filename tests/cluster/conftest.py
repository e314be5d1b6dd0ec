"""The cluster's live fixtures, each started once per test module (one heavy stack at a time):

- ``rasa_pair``: two Rasa replicas on shared stores (PostgreSQL tracker store, Redis lock store)
  behind one gateway;
- ``gateway_cluster``: two gateways on one PostgreSQL database and one Redis behind nginx, as
  ``python -m kefu.cluster`` starts them, with one Rasa stack serving both (these tests are about
  the gateways), and a loopback stand-in for the Telegram Bot API.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from gateway.rasa_replicas import HashRing
from kefu.cluster import cluster_services
from kefu.supervisor import build_services
from tests.cluster.servers import redis_server
from tests.conftest import LiveStack, free_port, running_stack, stack_env, stack_settings
from tests.integration.channel_fixtures import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    Recorder,
    _serve,
    platform_handler,
)
from tests.unit.tickets.postgres import create_database, postgres_cluster

REPLICAS = ("rasa", "rasa-b")


@pytest.fixture(scope="module")
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


@dataclass
class GatewayCluster:
    stack: LiveStack  # its URL is the balancer's
    database_url: str
    telegram: Recorder  # what reached the Telegram Bot API

    def direct(self, name: str) -> LiveStack:
        """The same stack seen through one gateway, bypassing the balancer (customer tokens shared)."""
        service = next(s for s in self.stack.supervisor.services if s.name == name)
        settings = self.stack.settings.model_copy(update={"gateway_port": service.port})
        return dataclasses.replace(self.stack, settings=settings)


@pytest.fixture(scope="module")
def gateway_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayCluster]:
    telegram = Recorder()
    platform, platform_url = _serve(platform_handler, telegram)
    with postgres_cluster() as admin_url, redis_server() as redis_url:
        settings = stack_settings(tmp_path_factory.mktemp("gateway-cluster-var"))
        settings.database_url = create_database(admin_url)
        ports = [free_port(), free_port()]
        services, cluster_env = cluster_services(settings, redis_url, gateway_ports=ports, rasa_pairs=1)
        env = {**stack_env(settings), **cluster_env}
        env.update(
            {
                "KEFU_TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
                "KEFU_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                "KEFU_TELEGRAM_API_BASE": platform_url,
                # Short leases: a killed gateway's conversations are free again within seconds.
                "KEFU_COORDINATION_LEASE_SECONDS": "4",
                "KEFU_DELIVERY_LEASE_SECONDS": "4",
            }
        )
        try:
            with running_stack(settings, env, services) as stack:
                stack.supervisor.watch_in_background()  # a killed gateway comes back on its own
                warm_up(stack, [settings.rasa_url])
                yield GatewayCluster(stack, settings.database_url, telegram)
        finally:
            platform.shutdown()
