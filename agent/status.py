"""`agent status`: what runs, where the data lives, how much is remembered (no model load)."""

from __future__ import annotations

from config import Settings
from config.models import resolve_model_path
from consolidation.registry import Registry


def collect_status(settings: Settings) -> dict:
    """A flat dict for humans and `--json`."""
    model = resolve_model_path(settings)
    registry = Registry(settings.home)
    current = registry.current()
    info = {
        "model": str(model),
        "model_size_mb": round(model.stat().st_size / 2**20, 1),
        "prompt_format": settings.model.prompt_format,
        "adapter": current.name if current else None,
        "adapter_facts": len(current.manifest.get("facts", [])) if current else 0,
        "adapter_versions": len(registry.versions()),
        "data_dir": str(settings.home),
        "cache_dir": str(settings.cache),
    }
    info["counts"] = _memory_counts(settings)
    return info


def _memory_counts(settings: Settings) -> dict:
    """Fact counts by status from the ledger, read-only (empty when there is no ledger yet)."""
    import sqlite3

    path = settings.home / "ledger.sqlite"
    if not path.exists():
        return {"turns": 0, "facts": {}}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        counts: dict = {}
        try:
            counts["turns"] = con.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
            counts["facts"] = dict(con.execute("SELECT status, COUNT(*) FROM facts GROUP BY status").fetchall())
        except sqlite3.Error:
            counts = {"turns": 0, "facts": {}}
        return counts
    finally:
        con.close()
