"""Atomic writes of state: temp file in the same dir, fsync, os.replace, fsync the dir."""

from __future__ import annotations

import json
import os
from pathlib import Path


def fsync_dir(directory: str | Path) -> None:
    """Make a rename inside `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_path(path: str | Path) -> Path:
    """A hidden temp name beside `path` (same filesystem, so the rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def commit_file(tmp: Path, path: str | Path) -> Path:
    """fsync a fully written `tmp`, rename it over `path`, fsync the dir."""
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(Path(path).parent)
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Replace `path` with `data` so readers see the old or the new file, never a mix."""
    tmp = temp_path(path)
    try:
        tmp.write_bytes(data)
        return commit_file(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | Path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
