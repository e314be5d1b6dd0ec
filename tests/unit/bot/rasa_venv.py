"""Running a snippet in the Rasa venv (.venv-rasa has Rasa but no pytest) and reading its JSON answer."""

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


def run_in_rasa_venv(script: str) -> Any:
    """The last line the script prints, parsed as JSON; the script runs from the repository root."""
    done = subprocess.run(
        [str(RASA_PY), "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
