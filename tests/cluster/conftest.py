"""Two Rasa replicas on shared stores (PostgreSQL tracker store, Redis lock store) behind one gateway."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator

import pytest

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
        services = build_services(settings)
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
            yield stack
