"""Index versions: each build is its own folder; ``index_dir`` is a symlink switched atomically.

Layout (``index_dir`` = ``var/index``)::

    var/index            -> var/index.versions/20261202T013000-ab12cd34   (the live version)
    var/index.previous   -> var/index.versions/20261202T010000-99ee0011   (what rollback restores)
    var/index.versions/  one folder per build (chunks.jsonl, dense.faiss, manifest.json)

Readers keep opening ``var/index/...`` as before; a switch is ``rename(tmp_symlink, var/index)``,
which POSIX makes atomic, so a reader sees either the old or the new version, never a mix (the
knowledge base resolves the link once per load). Versions are never modified after the switch;
only those that are neither live nor previous are pruned.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

BUILDING_PREFIX = ".building-"


def versions_root(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".versions")


def previous_link(index_dir: Path) -> Path:
    return index_dir.with_name(index_dir.name + ".previous")


def new_build_dir(index_dir: Path) -> Path:
    """An empty folder to build into (hidden until it is finished and renamed)."""
    root = versions_root(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{BUILDING_PREFIX}{os.getpid()}-{os.urandom(4).hex()}"
    path.mkdir()
    return path


def finish_build(build_dir: Path, build_id: str) -> Path:
    """Give a finished build its version name (sortable by time)."""
    final = build_dir.with_name(time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + build_id)
    build_dir.rename(final)
    return final


def _point(link: Path, target: Path) -> None:
    """Atomically make ``link`` a symlink to ``target`` (relative, so the tree can move)."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.{os.urandom(4).hex()}")
    tmp.symlink_to(os.path.relpath(target, link.parent))
    os.replace(tmp, link)


def _target(link: Path) -> Path | None:
    if not link.is_symlink():
        return None
    target = (link.parent / os.readlink(link)).resolve()
    return target if target.is_dir() else None


def current_version(index_dir: Path) -> str | None:
    target = _target(index_dir)
    return target.name if target else None


def previous_version(index_dir: Path) -> str | None:
    target = _target(previous_link(index_dir))
    return target.name if target else None


def _adopt_legacy(index_dir: Path) -> Path | None:
    """A plain index folder (built before versions existed) becomes the first version.

    The one moment between the two renames has no index at ``index_dir``; processes that already
    loaded it keep serving from memory, and it happens once per installation.
    """
    if index_dir.is_symlink() or not index_dir.is_dir():
        return None
    root = versions_root(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    adopted = root / (time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-legacy")
    index_dir.rename(adopted)
    _point(index_dir, adopted)
    return adopted


def activate(index_dir: Path, version_dir: Path) -> None:
    """Make ``version_dir`` live; the version live until now becomes the rollback target."""
    _adopt_legacy(index_dir)
    old = _target(index_dir)
    _point(index_dir, version_dir)
    if old is not None and old != version_dir.resolve():
        _point(previous_link(index_dir), old)
    prune(index_dir)


class NoPreviousVersion(RuntimeError):
    """Nothing to roll back to."""


def rollback(index_dir: Path) -> str:
    """Switch back to the previous version (the current one becomes the previous: undo is a rollback)."""
    previous = _target(previous_link(index_dir))
    current = _target(index_dir)
    if previous is None:
        raise NoPreviousVersion(f"no previous index version next to {index_dir}")
    _point(index_dir, previous)
    if current is not None:
        _point(previous_link(index_dir), current)
    return previous.name


@dataclass(frozen=True)
class VersionInfo:
    name: str
    live: bool
    previous: bool


def list_versions(index_dir: Path) -> list[VersionInfo]:
    root = versions_root(index_dir)
    if not root.is_dir():
        return []
    live, prev = current_version(index_dir), previous_version(index_dir)
    folders = [p for p in root.iterdir() if p.is_dir() and p.name[0] != "."]
    folders.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)  # newest build first
    return [VersionInfo(p.name, p.name == live, p.name == prev) for p in folders]


def prune(index_dir: Path) -> None:
    """Delete finished versions that are neither live nor the rollback target, and stale build folders."""
    keep = {current_version(index_dir), previous_version(index_dir)}
    root = versions_root(index_dir)
    for path in root.iterdir() if root.is_dir() else ():
        if not path.is_dir() or path.name in keep:
            continue
        if path.name.startswith(BUILDING_PREFIX):
            pid = path.name[len(BUILDING_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and _alive(int(pid)):
                continue
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
