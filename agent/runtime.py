"""Building the live parts from settings: the engine with the current adapter applied."""

from __future__ import annotations

from pathlib import Path

from agent.engine import Engine
from config import Settings
from config.models import resolve_model_path
from consolidation.live import apply_version
from consolidation.registry import Registry


def open_engine(settings: Settings, adapter: Path | None = None, use_registry: bool = True) -> Engine:
    """Load the base model; apply `adapter`, else the registry's current version if any."""
    engine = Engine(resolve_model_path(settings), settings.model)
    if adapter is not None:
        engine.set_adapter(adapter)
    elif use_registry:
        apply_version(engine, settings, Registry(settings.home).current())
    return engine


def adapter_label(engine: Engine) -> str | None:
    """What `ask --json` reports as "adapter": the registry version, else the file path."""
    a = engine.adapter
    if a is None:
        return None
    return a.version or str(a.path)
