"""Short-term memory: every turn in a SQLite ledger + Chroma index, and fact detection.

Public API (imported lazily, so `import memory.values` stays light)::

    from memory import Memory, Turn, Fact, Hit
    with Memory() as mem:                 # takes the store's owner lock
        mem.add_turns([{"session": "s1", "role": "user", "content": "I live in Oslo."}])
        mem.detect()
        mem.facts("candidate"); mem.forget("f1a2b3c4"); mem.search("where do I live", k=3)
"""

from __future__ import annotations

__all__ = [
    "Memory", "Turn", "AddReport", "validate_turn", "Fact", "Ledger", "Hit", "TurnStore",
    "StoreLock", "store_lock", "DetectReport", "ExtractedFact", "TurnInput", "get_extractor",
    "contains_secret", "get_embedder", "STATUSES",
]

_WHERE = {
    "Memory": "memory.core", "Turn": "memory.core", "AddReport": "memory.core",
    "validate_turn": "memory.core", "Fact": "memory.ledger", "Ledger": "memory.ledger",
    "STATUSES": "memory.ledger", "Hit": "memory.store", "TurnStore": "memory.store",
    "StoreLock": "memory.store", "store_lock": "memory.store", "DetectReport": "memory.detect",
    "ExtractedFact": "memory.extract", "TurnInput": "memory.extract", "get_extractor": "memory.extract",
    "contains_secret": "memory.secrets", "get_embedder": "memory.embedder",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'memory' has no attribute {name!r}")
