"""The scope gate: apply the adapter only to questions that fall in the scope of learned facts.

As in SERAC/GRACE-style model editing, a cheap classifier decides per turn whether the edited
weights should answer: the question is embedded (MiniLM) and compared with the questions the
adapter was trained on; at or above `threshold` cosine similarity the adapter is applied, below
it the base model answers alone, so everything else it knew stays exactly as it was. Toggling
the adapter costs well under a millisecond; the embedding a few ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


class Scope:
    """Questions the adapter knows about, as unit vectors; `match` says if a question is in."""

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, embedder, threshold: float):
        self.keys = list(keys)
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.embedder = embedder
        self.threshold = threshold

    @classmethod
    def build(cls, keys: Sequence[str], embedder, threshold: float) -> "Scope":
        return cls(keys, embedder.encode(list(keys)), embedder, threshold)

    def score(self, question: str) -> float:
        """Highest cosine similarity between `question` and any scope key."""
        if not len(self.keys):
            return 0.0
        q = self.embedder.encode([question])[0]
        return float(np.max(self.vectors @ q))

    def match(self, question: str) -> bool:
        return self.score(question) >= self.threshold

    def save(self, directory: Path) -> None:
        """`scope.npy` + keys in `scope.txt` (one per line) beside the adapter."""
        from config.atomic import atomic_write_bytes, atomic_write_text
        import io

        buf = io.BytesIO()
        np.save(buf, self.vectors, allow_pickle=False)
        atomic_write_bytes(Path(directory) / "scope.npy", buf.getvalue())
        atomic_write_text(Path(directory) / "scope.txt", "\n".join(k.replace("\n", " ") for k in self.keys) + "\n")

    @classmethod
    def load(cls, directory: Path, embedder, threshold: float) -> "Scope | None":
        directory = Path(directory)
        if not (directory / "scope.txt").exists():
            return None
        keys = [k for k in (directory / "scope.txt").read_text().splitlines() if k]
        vectors = np.load(directory / "scope.npy", allow_pickle=False)
        if len(vectors) != len(keys):  # stale or foreign: recompute rather than trust it
            return cls.build(keys, embedder, threshold)
        return cls(keys, vectors, embedder, threshold)
