"""The cluster's load balancer: nginx (Debian package ``nginx``) in front of the gateways.

It proxies HTTP and WebSockets round-robin to the gateways on loopback. A gateway that refuses
connections is skipped (nginx retries a request on the next one when it could not be sent), so a
killed gateway costs the customer nothing but a WebSocket reconnect, which the widget does on its
own, resuming by sequence number. ``max_fails=0``: nginx never marks a gateway down, because a
gateway that was down a moment ago (and is back) must still take the requests when the other one
dies; with ``max_fails=1 fail_timeout=2s`` both were "down" in that window and customers got a
502 "no live upstreams". A refused loopback connection costs microseconds, so nothing is saved by
skipping. A plain request is sent with an empty ``Connection`` header, not ``close``, so the
``keepalive`` pool really keeps connections: with ``close`` every request opened a new connection
that the gateway closed first, and about one POST in 50 right after the other gateway died met a
connection closed before its answer, which nginx does not retry for a POST (a 502 for the customer;
tests/cluster/test_balancer.py failed about one run in five). The gateways believe its
``X-Forwarded-For`` (they list it in ``KEFU_TRUSTED_PROXIES``), so the per-IP limits still see the
customer.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from kefu.supervisor_services import Service

CONF = """worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    client_max_body_size 16m;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    upstream kefu_gateways {{
{servers}
        keepalive 32;
    }}
    server {{
        listen {host}:{port};
        location / {{
            proxy_pass http://kefu_gateways;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_connect_timeout 2s;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_buffering off;
        }}
    }}
}}
"""


def nginx_conf(host: str, port: int, gateways: list[tuple[str, int]], run_dir: Path) -> str:
    servers = "\n".join(f"        server {h}:{p} max_fails=0;" for h, p in gateways)
    return CONF.format(run=run_dir, servers=servers, host=host, port=port)


def balancer_service(host: str, port: int, gateways: list[tuple[str, int]], run_dir: Path) -> Service:
    """nginx in the foreground under the supervisor, its config and temp files in ``run_dir``."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    run_dir.mkdir(parents=True, exist_ok=True)
    conf = run_dir / "nginx.conf"
    conf.write_text(nginx_conf(host, port, gateways, run_dir), encoding="utf-8")
    argv = [binary, "-c", str(conf), "-p", str(run_dir), "-e", str(run_dir / "error.log")]
    argv += ["-g", "daemon off;"]
    # /healthz through the balancer: 503 while Rasa warms up still means nginx and a gateway are up;
    # it waits as long as the gateways behind it (the default start-up time).
    return Service("balancer", argv, host, port, "/healthz", healthy_codes=(200, 503))
