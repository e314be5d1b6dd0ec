"""Staff accounts for stack tests, created through the documented command (password on stdin)."""

from __future__ import annotations

import os
import subprocess
import sys

from kefu.settings import REPO_ROOT


def create_staff(database_url: str, username: str, password: str, role: str = "agent") -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.users", "create", username, "--role", role],
        input=password + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "KEFU_DATABASE_URL": database_url},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
