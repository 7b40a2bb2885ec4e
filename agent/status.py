"""`agent status`: what runs, where the data lives, how much is remembered (no model load)."""

from __future__ import annotations

from config import Settings
from config.models import model_sha256, resolve_model_path
from consolidation.live import fits
from consolidation.registry import Registry
from memory.ledger import Ledger


def collect_status(settings: Settings) -> dict:
    """A flat dict for humans and `--json`."""
    model = resolve_model_path(settings)
    registry = Registry(settings.home)
    current = registry.current()
    other = current if current and not fits(current, model_sha256(model)) else None
    if other:  # trained for the model the user ran before: not used until a round retrains its facts
        current = None
    return {
        "model": str(model),
        "model_size_mb": round(model.stat().st_size / 2**20, 1),
        "prompt_format": settings.model.prompt_format,
        "adapter": current.name if current else None,
        "adapter_facts": len(current.manifest.get("facts", [])) if current else 0,
        "adapter_shards": {s.id: len(s.facts) for s in current.shards} if current else {},
        "adapter_versions": len(registry.versions()),
        "adapter_of_another_model": other.name if other else None,
        "data_dir": str(settings.home),
        "cache_dir": str(settings.cache),
        "counts": Ledger.read_counts(settings.home / "ledger.sqlite"),
    }
