"""The README documents every configuration variable the code reads."""

from __future__ import annotations

import importlib.util

from kefu.settings import REPO_ROOT


def test_readme_names_every_setting() -> None:
    spec = importlib.util.spec_from_file_location("settings_doc", REPO_ROOT / "scripts" / "settings_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [env for env, *_ in module.variables() if f"`{env}`" not in readme]
    assert missing == [], f"README lacks: {missing}"
