"""The reports API as the page uses it: supervisors and admins only, JSON and CSV of every table."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gateway.agents.auth import AgentDirectory
from gateway.main import create_app
from gateway.reports import FIGURE_NAMES, Reports
from gateway.settings import GatewaySettings
from tests.unit.reports import history

PASSWORD = "correct-horse-9"
PERIOD = f"from={history.DAY}&to={history.DAY}"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = GatewaySettings(
        var_dir=tmp_path_factory.mktemp("gw"),
        rasa_url="http://127.0.0.1:9",
        action_server_url="http://127.0.0.1:9",
        load_knowledge_base=False,
    )
    with TestClient(create_app(settings)) as test_client:
        state = test_client.app.state  # type: ignore[attr-defined]
        history.build(state.session_factory)
        state.reports = Reports(state.session_factory, clock=lambda: history.NOW)
        directory: AgentDirectory = state.agent_directory
        directory.create("wang", PASSWORD, role="agent")
        directory.create("zhao", PASSWORD, role="supervisor")
        directory.create("root", PASSWORD, role="admin")
        yield test_client


_signed_in: dict[str, dict[str, str]] = {}


def login(client: TestClient, username: str) -> dict[str, str]:
    """One sign-in per user for the module (argon2 is slow on purpose)."""
    if username in _signed_in:
        return _signed_in[username]
    response = client.post("/api/agent/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    _signed_in[username] = {"Authorization": f"Bearer {response.json()['token']}"}
    return _signed_in[username]


@pytest.mark.parametrize("path", ["/api/reports", "/api/reports/containment", "/api/reports/csat.csv"])
def test_agents_get_403_and_strangers_401(client: TestClient, path: str) -> None:
    denied = client.get(path, headers=login(client, "wang"))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "supervisors_only"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize("user", ["zhao", "root"])
def test_supervisors_and_admins_get_every_figure(client: TestClient, user: str) -> None:
    body = client.get(f"/api/reports?{PERIOD}", headers=login(client, user)).json()
    assert [f["name"] for f in body["figures"]] == list(FIGURE_NAMES)
    assert body["query"]["start"] == "2026-11-29T16:00:00+00:00"
    assert (body["query"]["first_day"], body["query"]["last_day"]) == (history.DAY, history.DAY)
    containment = body["figures"][0]
    assert containment["summary"] == {"conversations": 5, "contained": 2, "with_human": 3, "rate": 0.4}
    assert containment["columns"] == ["outcome", "conversations"]


def test_channel_filter_and_one_figure(client: TestClient) -> None:
    body = client.get(f"/api/reports/intents?{PERIOD}&channel=web", headers=login(client, "zhao")).json()
    assert body["query"]["channel"] == "web"
    assert body["figure"]["summary"] == {"turns": 5, "fallback": 2, "fallback_rate": 0.4}


@pytest.mark.parametrize("name", FIGURE_NAMES)
def test_every_table_exports_as_csv(client: TestClient, name: str) -> None:
    response = client.get(f"/api/reports/{name}.csv?{PERIOD}", headers=login(client, "zhao"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="kefu-{name}-{history.DAY}.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    figure = client.get(f"/api/reports/{name}?{PERIOD}", headers=login(client, "zhao")).json()["figure"]
    assert rows[0] == figure["columns"]
    assert len(rows) == len(figure["rows"]) + 1


def test_csat_csv_has_the_exact_rows(client: TestClient) -> None:
    text = client.get(f"/api/reports/csat.csv?{PERIOD}", headers=login(client, "zhao")).text
    assert text.startswith("\ufeff")
    assert text.lstrip("\ufeff").splitlines() == [
        "agent,ratings,average,score_1,score_2,score_3,score_4,score_5",
        "alice,2,4.5,0,0,0,1,1",
        "bob,1,2.0,0,1,0,0,0",
        "（未分配）,1,3.0,0,0,1,0,0",
    ]


def test_bad_queries_get_a_clear_error(client: TestClient) -> None:
    auth = login(client, "zhao")
    bad = client.get("/api/reports?channel=fax", headers=auth)
    assert bad.status_code == 422
    assert "渠道" in bad.json()["error"]["message"]
    assert client.get("/api/reports/nothing", headers=auth).status_code == 404
    assert client.get("/api/reports/nothing.csv", headers=auth).status_code == 404


def test_the_page_is_served_with_the_console_policy(client: TestClient) -> None:
    page = client.get("/console/reports")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "/static/vendor/chart.min.js" in page.text
    assert client.get("/static/vendor/chart.min.js").status_code == 200
