"""`rasa train` with the CPU and wall seconds of every training step, to see where the training time goes.

Runs Rasa's own CLI in this process after wrapping the graph's LoggingHook, which Rasa calls before and
after every node (each component's training and its pass over the training data, each policy), so the
numbers cover exactly what `make train` runs. CPU time is the process's (all threads: TensorFlow and BLAS
use both cores), which the load of the shared machine barely changes, unlike the wall clock. One line per
node goes to var/train_components.log (and the load average at the start and the end); scripts/nlu_report.py
sums them per component into docs/nlu.md.

Run in the Rasa venv, from an empty cache (`make train-profile` does both and keeps `/usr/bin/time -v`'s
summary in var/train_time.log):
  PYTHONPATH=$PWD .venv-rasa/bin/python scripts/train_profile.py train --config config.yml ...
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

LOG = Path(__file__).resolve().parents[1] / "var" / "train_components.log"


def install(log: Path) -> None:
    from rasa.engine.training import hooks

    before, after = hooks.LoggingHook.on_before_node, hooks.LoggingHook.on_after_node
    started: dict[str, tuple[float, float]] = {}

    def on_before_node(self: Any, node_name: str, *args: Any, **kwargs: Any) -> Any:
        started[node_name] = (time.process_time(), time.monotonic())
        return before(self, node_name, *args, **kwargs)

    def on_after_node(self: Any, node_name: str, *args: Any, **kwargs: Any) -> None:
        cpu0, wall0 = started.pop(node_name, (time.process_time(), time.monotonic()))
        with log.open("a", encoding="utf-8") as f:
            f.write(f"{node_name}\t{time.process_time() - cpu0:.1f}\t{time.monotonic() - wall0:.1f}\n")
        after(self, node_name, *args, **kwargs)

    hooks.LoggingHook.on_before_node = on_before_node
    hooks.LoggingHook.on_after_node = on_after_node


def main() -> None:
    LOG.parent.mkdir(parents=True, exist_ok=True)
    LOG.write_text("", encoding="utf-8")
    install(LOG)
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    load = os.getloadavg()[0]
    try:
        rasa_main()
    finally:
        # 1-minute load average of the machine at the start and the end, as in docs/nlu.md.
        with LOG.open("a", encoding="utf-8") as f:
            f.write(f"load average\t{load:.1f}\t{os.getloadavg()[0]:.1f}\n")


if __name__ == "__main__":
    main()
