"""Print every configuration variable (pydantic-settings fields) as a Markdown table.

The README's configuration section is this script's output; a unit test checks that
the README names every variable, so the two cannot drift apart.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from collections.abc import Iterator
from typing import Any

from pydantic_settings import BaseSettings

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
PACKAGES = ("kefu", "gateway", "retrieval", "tickets", "accounts", "tariffs")


def settings_classes() -> Iterator[type[BaseSettings]]:
    seen: set[type[BaseSettings]] = set()
    for package_name in PACKAGES:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError:
            continue
        modules = [package_name] + [
            m.name
            for m in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}.")
            if "settings" in m.name.split(".")[-1]
        ]
        for name in modules:
            module = importlib.import_module(name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if (
                    issubclass(obj, BaseSettings)
                    and obj is not BaseSettings
                    and obj.__module__ == module.__name__
                    and obj not in seen
                ):
                    seen.add(obj)
                    yield obj


def variables() -> Iterator[tuple[str, str, str, str]]:
    """(env var, default, description, owner class) for every field, parents first."""
    emitted: set[str] = set()
    for cls in settings_classes():
        prefix = str(cls.model_config.get("env_prefix", ""))
        for name, field in cls.model_fields.items():
            env = (prefix + name).upper()
            if env in emitted:
                continue
            emitted.add(env)
            default: Any = field.get_default(call_default_factory=True)
            shown = "" if default in (None, "") else str(default)
            if "/work/" in shown or shown.startswith("/") or len(shown) > 80:
                shown = "(see description)"
            yield env, shown, field.description or "", cls.__name__


def main() -> None:
    print("| variable | default | meaning |")
    print("|---|---|---|")
    for env, default, description, _owner in variables():
        safe_default = default.replace("|", "\\|")
        print(
            f"| `{env}` | `{safe_default}` | {description} |" if default else f"| `{env}` | | {description} |"
        )


if __name__ == "__main__":
    main()
