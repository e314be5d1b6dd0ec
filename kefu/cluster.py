"""A cluster on one machine, all on loopback: ``python -m kefu.cluster`` (``make cluster``).

PostgreSQL and Redis (throwaway, see :mod:`kefu.local_servers`), two Rasa + action-server pairs
on the shared tracker and lock stores, two gateways sharing the database and Redis, and nginx in
front of the gateways on ``KEFU_GATEWAY_PORT``. The same supervisor as ``make run`` starts,
watches and restarts them. :func:`cluster_services` is also what ``tests/cluster`` starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import socket
import sys
from pathlib import Path

from kefu.balancer import balancer_service
from kefu.settings import CommonSettings
from kefu.supervisor_services import Service, build_services, service_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def loopback_settings(var_dir: Path) -> CommonSettings:
    """Settings for one stack on free loopback ports with its own var dir (benchmarks, evaluations)."""
    return CommonSettings(
        var_dir=var_dir,
        rasa_url=f"http://127.0.0.1:{free_port()}",
        action_server_url=f"http://127.0.0.1:{free_port()}",
        gateway_port=free_port(),
    )


def _on_port(service: Service, name: str, port: int, env: dict[str, str] | None = None) -> Service:
    argv = [str(port) if arg == str(service.port) else arg for arg in service.argv]
    return dataclasses.replace(service, name=name, argv=argv, port=port, env=env or {}, process=None)


def cluster_services(
    settings: CommonSettings,
    redis_url: str,
    *,
    gateway_ports: list[int],
    rasa_pairs: int = 2,
) -> tuple[list[Service], dict[str, str]]:
    """The cluster's services (in start order) and their shared environment.

    ``settings`` carries the shared database, Rasa's stores and the balancer's address
    (``gateway_host``/``gateway_port``); ``settings.rasa_url`` and ``action_server_url`` are the
    first pair, the others get free ports. ``rasa_pairs=1``: one Rasa stack serves both gateways.
    """
    actions, rasa, gateway = build_services(settings)
    services: list[Service] = []
    rasa_urls: list[str] = []
    for i in range(rasa_pairs):
        suffix = "" if i == 0 else f"-{chr(ord('a') + i)}"
        act = actions if i == 0 else _on_port(actions, f"actions{suffix}", free_port())
        bot = rasa if i == 0 else _on_port(rasa, f"rasa{suffix}", free_port())
        bot = dataclasses.replace(
            bot, env={**rasa.env, "KEFU_ACTION_SERVER_URL": f"http://{act.host}:{act.port}"}
        )
        services += [act, bot]
        rasa_urls.append(f"http://{bot.host}:{bot.port}")
    gateways = [_on_port(gateway, f"gateway-{chr(ord('a') + i)}", p) for i, p in enumerate(gateway_ports)]
    services += gateways
    run_dir = Path(settings.var_dir) / "balancer"
    host, port = settings.gateway_host, settings.gateway_port
    services.append(balancer_service(host, port, [(g.host, g.port) for g in gateways], run_dir))
    env = service_env(settings)
    public = [f"http://{host}:{port}", f"http://localhost:{port}"]
    env.update(
        {
            "KEFU_REDIS_URL": redis_url,
            "KEFU_RASA_REPLICA_URLS": json.dumps(rasa_urls),
            "KEFU_TRUSTED_PROXIES": json.dumps(["127.0.0.1"]),  # the balancer's X-Forwarded-For
            "KEFU_ALLOWED_ORIGINS": json.dumps(public),
        }
    )
    return services, env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.cluster", description=__doc__)
    parser.add_argument("--no-color", action="store_true", help="no ANSI colours in prefixes")
    args = parser.parse_args(argv)
    from accounts.seed import seed_demo_accounts
    from kefu.db import upgrade_database
    from kefu.local_servers import postgres_cluster, redis_server
    from kefu.supervisor import Supervisor, SupervisorError

    with postgres_cluster() as database_url, redis_server() as redis_url:
        base = CommonSettings()
        settings = base.model_copy(
            update={
                "database_url": database_url,
                "rasa_tracker_url": database_url.replace("postgresql+psycopg://", "postgresql://"),
                "rasa_lock_store_url": redis_url,
                "var_dir": Path(base.var_dir) / "cluster",
            }
        )
        Path(settings.var_dir).mkdir(parents=True, exist_ok=True)
        upgrade_database(database_url)
        seed_demo_accounts(database_url)
        ports = [base.gateway_port + 1, base.gateway_port + 2]
        services, env = cluster_services(settings, redis_url, gateway_ports=ports)
        color = sys.stdout.isatty() and not args.no_color
        supervisor = Supervisor(services, env, Path(settings.var_dir) / "logs", color=color)
        try:
            supervisor.start()
            supervisor.wait_healthy()
            supervisor.say(f"cluster up: web chat {settings.gateway_url}/ (nginx → gateways on {ports})")
            supervisor.say("press Ctrl-C to stop (the cluster's database and Redis are thrown away)")
            supervisor.run_forever()
        except KeyboardInterrupt:
            supervisor.say("stopping…")
        except SupervisorError as exc:
            sys.stderr.write(f"[kefu] ERROR: {exc}\n")
            return 1
        finally:
            supervisor.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
