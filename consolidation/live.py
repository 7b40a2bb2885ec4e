"""Putting a registry version into a running engine: the adapter plus its scope gate."""

from __future__ import annotations

import logging

from config import Settings
from consolidation.registry import AdapterVersion, Registry

log = logging.getLogger("hippo.live")


def embedder_for(settings: Settings):
    """The sentence embedder the memory layer uses (shared, loaded once per process)."""
    from memory.embedder import get_embedder

    return get_embedder(settings.memory.embedder_path, settings.memory.embedder)


def fits(version: AdapterVersion, base_sha256: str) -> bool:
    """Was `version` trained on this base model? (After the user switches models, the old
    adapters stay in the registry but belong to the other base.)"""
    return version.manifest.get("base_model", {}).get("sha256", base_sha256) == base_sha256


def shard_scope(settings: Settings, directory):
    """The scope gate saved beside a shard's adapter (None when there is none)."""
    from consolidation.scope import Scope

    return Scope.load(directory, embedder_for(settings), settings.consolidation.scope_threshold)


def apply_version(engine, settings: Settings, version: AdapterVersion | None):
    """Make `version` (None: no adapter) live in `engine`: every shard's adapter loaded, and the
    scope gate of all shards choosing one per question (with one shard, the scope gate only if
    it is on); a version of another base model leaves the base model alone (the next round retrains)."""
    shards = version.shards if version is not None and fits(version, engine.base_sha256) else []
    if not shards:
        engine.set_adapter(None)
        return None
    scope = None
    if settings.consolidation.scope_gate or len(shards) > 1:
        from consolidation.scope import Scope

        scopes = [shard_scope(settings, s.path) for s in shards]
        scope = Scope.combine(scopes) if all(s is not None for s in scopes) else None
    return engine.set_adapters([s.gguf for s in shards], version=version.name, scope=scope)


def sync_adapter(engine, settings: Settings) -> tuple[str | None, int]:
    """Make the registry's current version live in `engine` if another one runs (after a publish
    elsewhere, or a rollback); (version, #facts) of the adapter the next answer uses."""
    current = Registry(settings.home).current()
    if current is not None and not fits(current, engine.base_sha256):
        current = None  # another model's adapter: the base model alone until the next round retrains
    if (current.name if current else None) != (engine.adapter.version if engine.adapter else None):
        apply_version(engine, settings, current)
        log.info("adapter now %s", current.name if current else "none")
    return (current.name, len(current.manifest.get("facts", []))) if current else (None, 0)
