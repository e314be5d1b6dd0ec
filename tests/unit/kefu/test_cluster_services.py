"""What `make cluster` starts: each Rasa with its own action server, the gateways on Redis behind nginx."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from kefu.cluster import cluster_services
from kefu.settings import CommonSettings


def test_the_cluster_pairs_each_rasa_with_its_action_server_and_balances_both_gateways(
    tmp_path: Path,
) -> None:
    settings = CommonSettings(var_dir=tmp_path, gateway_port=18000)
    services, env = cluster_services(settings, "redis://:pw@127.0.0.1:6390/2", gateway_ports=[18001, 18002])
    by_name = {s.name: s for s in services}
    assert list(by_name) == ["actions", "rasa", "actions-b", "rasa-b", "gateway-a", "gateway-b", "balancer"]
    for rasa, actions in (("rasa", "actions"), ("rasa-b", "actions-b")):
        own = f"http://{by_name[actions].host}:{by_name[actions].port}"
        assert by_name[rasa].env["KEFU_ACTION_SERVER_URL"] == own
    assert len({s.port for s in services}) == len(services)  # nobody shares a port
    assert [by_name[g].port for g in ("gateway-a", "gateway-b")] == [18001, 18002]
    assert env["KEFU_REDIS_URL"] == "redis://:pw@127.0.0.1:6390/2"
    assert json.loads(env["KEFU_RASA_REPLICA_URLS"]) == [
        f"http://127.0.0.1:{by_name['rasa'].port}",
        f"http://127.0.0.1:{by_name['rasa-b'].port}",
    ]
    conf = (tmp_path / "balancer" / "nginx.conf").read_text()
    assert "server 127.0.0.1:18001" in conf and "server 127.0.0.1:18002" in conf
    assert "listen 127.0.0.1:18000" in conf and "proxy_set_header Upgrade $http_upgrade" in conf
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"  # make test installs it (.make/nginx)
    checked = subprocess.run(
        [
            nginx,
            "-t",
            "-c",
            str(tmp_path / "balancer" / "nginx.conf"),
            "-p",
            str(tmp_path / "balancer"),
            "-e",
            str(tmp_path / "balancer" / "error.log"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
