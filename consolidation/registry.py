"""Versioned adapter registry under `$AGENT_HOME/adapters/`.

    adapters/
      v0001/  manifest.json
              s001/  adapter.gguf  adapter_model.safetensors  adapter_config.json  scope.npy  scope.json
              s002/  ...
      v0002/  ...
      current            "v0002" — switched atomically (temp file + os.replace)

A version is the complete set of memory shards (consolidation/shards.py): its manifest names
every shard, its facts and the sha256 of its adapter. A shard a round did not retrain is carried
into the new version as hard links (no copy, no training). A version is built in a hidden
staging dir and renamed into place only when complete, so a crash leaves no half-written
`vNNNN`; `clean()` removes stale staging dirs. Versions from before shards (one adapter.gguf
beside the manifest) read as one shard.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from config import UserError
from config.atomic import atomic_write_text, fsync_dir
from config.models import file_sha256

_VERSION = re.compile(r"^v(\d{4,})$")


@dataclass(frozen=True)
class ShardFiles:
    """One shard of a version: its directory and the ids of the facts its adapter holds."""

    id: str
    path: Path
    facts: tuple[str, ...]
    sha256: str | None = None
    trained: str | None = None  # the version whose round trained it

    @property
    def gguf(self) -> Path:
        return self.path / "adapter.gguf"


@dataclass(frozen=True)
class AdapterVersion:
    name: str
    path: Path

    @cached_property
    def manifest(self) -> dict:
        """The manifest as it was when first read (a version is never rewritten, only scrubbed of values)."""
        return json.loads((self.path / "manifest.json").read_text())

    @property
    def shards(self) -> list[ShardFiles]:
        m = self.manifest
        if "shards" not in m:  # a version from before shards: one adapter beside the manifest
            return [ShardFiles("s001", self.path, tuple(f["id"] for f in m.get("facts", []) if isinstance(f, dict)),
                               m.get("adapter_sha256"), self.name)]
        return [ShardFiles(s["id"], self.path / s["id"], tuple(s["facts"]), s.get("adapter_sha256"), s.get("trained"))
                for s in m["shards"]]


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

    def carry(self, staging: Path, shard: ShardFiles) -> Path:
        """Put an unchanged `shard` of an earlier version into `staging` (hard links, copies where
        links are not possible); returns its new directory."""
        target = staging / shard.id
        target.mkdir()
        for f in shard.path.iterdir():
            if f.is_file() and f.name != "manifest.json":
                try:
                    os.link(f, target / f.name)
                except OSError:
                    shutil.copy2(f, target / f.name)
        return target

    def commit(self, staging: Path, manifest: dict) -> AdapterVersion:
        """Write the manifest and move a staged dir into place as the next version. `manifest["shards"]`
        lists `{"id", "facts"}` of each shard dir in `staging`; each gets its adapter's sha256 (what
        `current` must hold, checkable after a crash)."""
        name = self.next_name()
        shards = [{**s, "adapter_sha256": file_sha256(staging / s["id"] / "adapter.gguf")}
                  for s in manifest.get("shards", [])]
        manifest = {**manifest, "version": name, "shards": shards}
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
