"""An operator in the console's KB workbench: upload a document, rebuild, hit-test, roll back.

The gateway runs for real (uvicorn on a free loopback port) on a small knowledge base of its own in
a temporary folder, with the real m3e embedder; the product's index under var/ is never touched.
The workbench needs neither Rasa nor the action server, so only the gateway is started.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kefu.db import upgrade_database
from kefu.settings import CommonSettings
from kefu.supervisor import Supervisor, build_services, service_env
from tests.conftest import free_port
from tests.staff_accounts import create_staff

pytestmark = pytest.mark.e2e

PASSWORD = "Kefu-kb-bench-2025"
GUIDE = """# 第1章 业务受理基础

## 1.3 业务受理的准备与材料

办理新号需要携带本人有效身份证件，如身份证、护照。业务申请表需本人签字。

## 1.4 受理时限

一般业务24小时内完成，复杂业务48小时内完成。
"""
ROAMING = """# 国际漫游

## 国际漫游的开通

出国前发送短信 KTMY 到 10001 即可开通国际漫游，开通后立即生效，回国后无需取消。
"""


@dataclass
class Gateway:
    url: str
    index_dir: Path
    uploads_dir: Path


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root = tmp_path_factory.mktemp("kb-bench")
    (root / "kb" / "guide").mkdir(parents=True)
    (root / "kb" / "guide" / "ch01.md").write_text(GUIDE, encoding="utf-8")
    settings = CommonSettings(var_dir=root / "var", gateway_port=free_port())
    env = service_env(settings)
    env.update(
        {
            "KEFU_KB_KB_DIR": str(root / "kb"),
            "KEFU_KB_EXTRA_DOCS_DIR": str(root / "kb" / "documents"),
            "KEFU_KB_UPLOADS_DIR": str(root / "var" / "kb_uploads"),
            "KEFU_KB_SEED_PATH": str(root / "no-seed.txt"),
            "KEFU_KB_INDEX_DIR": str(root / "var" / "index"),
            "KEFU_RATE_REQUESTS_PER_IP_MINUTE": "100000",
        }
    )
    upgrade_database(settings.database_url)
    create_staff(settings.database_url, "lead", PASSWORD, "supervisor")
    services = [s for s in build_services(settings) if s.name == "gateway"]
    supervisor = Supervisor(services, env, root / "logs", color=False, echo=False)
    supervisor.start()
    try:
        supervisor.wait_healthy()
        yield Gateway(settings.gateway_url, root / "var" / "index", root / "var" / "kb_uploads")
    except Exception:
        for log in sorted((root / "logs").glob("*.log")):
            print(f"===== {log.name} (tail) =====\n{log.read_text(errors='replace')[-4000:]}")
        raise
    finally:
        supervisor.stop()


def _rebuild(page: Any) -> None:
    page.click("#rebuild")
    page.locator("#rebuild-state", has_text="重建完成").wait_for(timeout=240_000)
    assert page.locator("#progress").get_attribute("value") == "100"
    assert page.locator("#progress-text").inner_text().startswith("100%")


def test_upload_rebuild_hit_test_and_roll_back(gateway: Gateway, chromium: Any, tmp_path: Path) -> None:
    page = chromium.new_context(locale="zh-CN", viewport={"width": 1300, "height": 900}).new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.goto(gateway.url + "/console/kb")  # not signed in: the console's sign-in, then its link back
    page.wait_for_url(re.compile(r"/console$"))
    page.fill("#username", "lead")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.click("#kb-workbench-link")
    page.locator("#whoami", has_text="lead").wait_for(timeout=30_000)

    # No index yet: the guide is listed as waiting; the first rebuild creates the index.
    row = page.locator("#docs tr[data-name='ch01.md']")
    row.locator("td", has_text="待索引").wait_for()
    _rebuild(page)
    row.locator("td", has_text="已索引").wait_for()
    assert "1.3" in row.inner_text() and "1.4" in row.inner_text()

    # A bad upload is refused with a reason; a Markdown document is accepted.
    bad = tmp_path / "note.txt"
    bad.write_bytes("漫游资费".encode("gbk"))
    page.set_input_files("#file", str(bad))
    page.click("#upload-button")
    page.locator("#upload-result", has_text="UTF-8").wait_for()
    doc = tmp_path / "国际漫游.md"
    doc.write_text(ROAMING, encoding="utf-8")
    page.set_input_files("#file", str(doc))
    page.click("#upload-button")
    page.locator("#upload-result", has_text="已上传 国际漫游.md").wait_for()
    page.locator("#docs tr[data-name='国际漫游.md'] td", has_text="待索引").wait_for()
    assert (gateway.uploads_dir / "国际漫游.md").read_text(encoding="utf-8") == ROAMING

    # Rebuild in the background, then the hit test ranks the new document first, with its scores.
    _rebuild(page)
    page.locator("#docs tr[data-name='国际漫游.md'] td", has_text="已索引").wait_for()
    assert page.locator("#versions li").count() == 2
    page.fill("#query", "出国了怎么开通国际漫游")
    page.click("#hit-button")
    first = page.locator("#hits tr").first
    first.locator("td", has_text="国际漫游.md").wait_for(timeout=60_000)
    cells = first.locator("td").all_inner_texts()
    assert "KTMY" in cells[3]
    assert all(re.fullmatch(r"\d+\.\d{3}", c) for c in cells[4:7]), cells  # dense, BM25, fused
    assert page.locator("#gate").inner_text().startswith(("会回答", "不会回答"))

    # Roll back: the index without the document is live again, and the hit test shows it.
    page.click("#rollback")
    page.locator("#rebuild-state", has_text="已回滚").wait_for()
    assert dialogs == ["确定回滚到上一版索引吗？"]
    page.click("#hit-button")
    page.locator("#hits tr").first.locator("td", has_text="ch01.md").wait_for(timeout=60_000)
    assert "国际漫游.md" not in page.locator("#hits").inner_text()
    page.locator("#docs tr[data-name='国际漫游.md'] td", has_text="待索引").wait_for()
