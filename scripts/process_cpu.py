"""CPU time of whole process trees, read from /proc (Linux): what a service costs, all its processes.

A service is often several processes (PostgreSQL's backends, nginx's worker, a server's workers), and
a child that has exited is counted in its parent's ``cutime``/``cstime`` only once reaped; so a tree's
time is its root's own and reaped children's time plus every live descendant's own.
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, list[str]] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return int(fields[1]), fields  # (parent pid, the fields after the command name)


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                out.setdefault(stat[0], []).append(int(entry.name))
    return out


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` (with its reaped children) and of its live descendants."""
    children = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        stat = _stat(pid)
        if stat is None:
            continue
        fields = stat[1]  # utime, stime, cutime, cstime: an exited child is in exactly one cutime
        total += sum(int(fields[i]) for i in (11, 12, 13, 14))
        todo.extend(children.get(pid, []))
    return total / TICKS


def find_pids(command: str, argument: str) -> list[int]:
    """Processes named ``command`` whose command line contains ``argument`` (e.g. a port number)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if comm == command and argument in cmdline:
            found.append(int(entry.name))
    return found
