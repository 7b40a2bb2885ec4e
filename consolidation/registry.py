"""Versioned adapter registry under `$AGENT_HOME/adapters/`.

    adapters/
      v0001/  adapter.gguf  adapter_model.safetensors  adapter_config.json  manifest.json
      v0002/  ...
      current            "v0002" — switched atomically (temp file + os.replace)

A version is built in a hidden staging dir and renamed into place only when complete, so a
crash leaves no half-written `vNNNN`; `clean()` removes stale staging dirs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from config import UserError
from config.atomic import atomic_write_text, fsync_dir
from config.models import file_sha256

_VERSION = re.compile(r"^v(\d{4,})$")



@dataclass(frozen=True)
class AdapterVersion:
    name: str
    path: Path

    @property
    def gguf(self) -> Path:
        return self.path / "adapter.gguf"

    @property
    def manifest(self) -> dict:
        return json.loads((self.path / "manifest.json").read_text())


class Registry:
    """Published adapter versions and the `current` pointer."""

    def __init__(self, home: Path):
        self.root = Path(home) / "adapters"

    def versions(self) -> list[AdapterVersion]:
        """Complete versions, oldest first."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if _VERSION.match(p.name) and (p / "manifest.json").is_file()]
        return [AdapterVersion(p.name, p) for p in sorted(found, key=lambda p: int(p.name[1:]))]

    def get(self, name: str) -> AdapterVersion:
        name = name if name.startswith("v") else f"v{int(name):04d}" if name.isdigit() else name
        for v in self.versions():
            if v.name == name:
                return v
        raise UserError(f"no adapter version '{name}' (see `agent adapters list`)")

    def current(self) -> AdapterVersion | None:
        """The live version, or None when the base model runs alone."""
        try:
            name = (self.root / "current").read_text().strip()
        except FileNotFoundError:
            return None
        if not name:
            return None
        path = self.root / name
        return AdapterVersion(name, path) if (path / "manifest.json").is_file() else None

    def set_current(self, version: AdapterVersion | None) -> None:
        """Atomically point `current` at `version` (None: no adapter)."""
        atomic_write_text(self.root / "current", (version.name if version else "") + "\n")

    def rollback(self, name: str) -> AdapterVersion:
        """Make an earlier version live again, unless it holds facts the user has since forgotten."""
        version = self.get(name)
        forgotten = version.manifest.get("forgotten", [])
        if forgotten:
            raise UserError(f"{version.name} holds {len(forgotten)} forgotten fact(s) ({', '.join(forgotten)}); "
                            "it cannot be made live again")
        self.set_current(version)
        return version

    def next_name(self) -> str:
        taken = [int(p.name[1:]) for p in self.root.glob("v*") if _VERSION.match(p.name)] if self.root.is_dir() else []
        return f"v{max(taken, default=0) + 1:04d}"

    def stage(self) -> Path:
        """A fresh hidden dir to build the next version in."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / f".staging-{os.getpid()}-{self.next_name()}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        return path

    def commit(self, staging: Path, manifest: dict) -> AdapterVersion:
        """Write the manifest and move a staged dir into place as the next version."""
        name = self.next_name()
        manifest = {**manifest, "version": name}
        if (staging / "adapter.gguf").is_file():  # what `current` must hold, checkable after a crash
            manifest["adapter_sha256"] = file_sha256(staging / "adapter.gguf")
        atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
        target = self.root / name
        os.replace(staging, target)
        fsync_dir(self.root)
        return AdapterVersion(name, target)

    def clean(self) -> list[str]:
        """Remove staging dirs left by crashed runs; returns their names."""
        if not self.root.is_dir():
            return []
        stale = [p for p in self.root.iterdir() if p.name.startswith(".staging-")]
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return [p.name for p in stale]
