"""Putting a registry version into a running engine: the adapter plus its scope gate."""

from __future__ import annotations

from config import Settings
from consolidation.registry import AdapterVersion


def embedder_for(settings: Settings):
    """The sentence embedder the memory layer uses (shared, loaded once per process)."""
    from memory.embedder import get_embedder

    return get_embedder(settings.memory.embedder_path, settings.memory.embedder)


def apply_version(engine, settings: Settings, version: AdapterVersion | None):
    """Make `version` (None: no adapter) live in `engine`, with its scope gate if it has one."""
    if version is None:
        engine.set_adapter(None)
        return None
    scope = None
    if settings.consolidation.scope_gate:
        from consolidation.scope import Scope

        scope = Scope.load(version.path, embedder_for(settings), settings.consolidation.scope_threshold)
    return engine.set_adapter(version.gguf, version=version.name, scope=scope)
