"""Rebuild the embedded turn index from the ledger in a fresh process: `python -m memory.reindex HOME`.

Chroma writes its HNSW files from buffers that can hold uninitialised memory, so a process that
had a forgotten value in memory can leave it on disk by chance. A fresh process that reads only
the (already erased) ledger cannot; `Memory.forget` and `Memory.erase_turns` rebuild this way.
Every later rewrite, by any process, runs on filled memory (`memory.store.filled_allocations`).
The parent holds the store's owner lock and has closed its own Chroma client meanwhile.
"""

from __future__ import annotations

import sys

import numpy as np

from config import load_settings
from memory.embedder import get_embedder
from memory.ledger import Ledger
from memory.store import TurnStore


def reindex(home: str) -> int:
    settings = load_settings(home=home)
    ledger = Ledger(settings.home / "ledger.sqlite")
    try:
        store = TurnStore(settings, get_embedder(settings.memory.embedder_path, settings.memory.embedder))
        n = 0
        for batch in ledger.iter_visible_turns():
            store.add(batch, np.stack([t.vector for t in batch]))  # the parent stored every vector
            n += len(batch)
        store.close()
        return n
    finally:
        ledger.close()


if __name__ == "__main__":
    print(reindex(sys.argv[1]))
