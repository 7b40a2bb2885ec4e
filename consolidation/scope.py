"""The scope gate: apply the adapter only to questions that fall in the scope of learned facts.

As in SERAC/GRACE-style model editing, a cheap classifier decides per turn whether the edited
weights should answer: the question is embedded (MiniLM) and compared with the questions the
adapter was trained on; at or above `threshold` cosine similarity the adapter is applied, below
it the base model answers alone, so everything else it knew stays exactly as it was. Toggling
the adapter costs well under a millisecond; the embedding a few ms.

With sharded memory (consolidation/shards.py) the scopes of all shards are combined into one:
each key remembers its shard, and the shard of the nearest key answers (`pick`), so choosing a
shard costs one embedding and one matrix product, however many shards there are.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from memory.shapes import is_name

_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|mine|myself|we|our|us)\b", re.IGNORECASE)


def is_personal(text: str) -> bool:
    """Does the text speak about the user (first person)?"""
    return bool(_FIRST_PERSON.search(text.replace("’", "'")))


class Scope:
    """Questions the adapter knows about, as unit vectors; `match` says if a question is in,
    `pick` which shard's adapter answers it (`owners[i]`: the shard of key i; 0 for one adapter)."""

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, embedder, threshold: float,
                 values: Sequence[str] = (), owners: Sequence[int] | None = None):
        from consolidation.synthesize import normalise

        self.keys = list(keys)
        self.values = list(values)
        self._value_keys = [f" {normalise(v)} " for v in self.values if normalise(v)]
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.owners = np.zeros(len(self.keys), dtype=np.int32) if owners is None else np.asarray(owners, np.int32)
        self.embedder = embedder
        self.threshold = threshold

    @classmethod
    def build(cls, keys: Sequence[str], embedder, threshold: float, values: Sequence[str] = ()) -> "Scope":
        return cls(keys, embedder.encode(list(keys)), embedder, threshold, values)

    @classmethod
    def of_groups(cls, groups: Sequence, embedder, threshold: float) -> Scope:
        """A shard's scope: the questions it trains, its facts' statements, and the values that are
        names ("Who is Pepper?")."""
        keys = [qa.question for g in groups for qa in g.train_unique] + [g.statement for g in groups]
        return cls.build(keys, embedder, threshold, [v for g in groups if is_name(g.attribute) for v in g.values])

    @classmethod
    def combine(cls, scopes: Sequence["Scope"]) -> "Scope":
        """One scope over several shards: shard i's keys are owned by i."""
        first = scopes[0]
        vectors = [s.vectors for s in scopes if len(s.keys)] or [np.zeros((0, 1))]
        return cls([k for s in scopes for k in s.keys], np.concatenate(vectors), first.embedder, first.threshold,
                   [v for s in scopes for v in s.values], [i for i, s in enumerate(scopes) for _ in s.keys])

    def about_user(self, question: str) -> bool:
        """First person, or names a learned value."""
        from consolidation.synthesize import normalise

        q = f" {normalise(question)} "
        return is_personal(question) or any(v in q for v in self._value_keys)

    def _nearest(self, question: str) -> tuple[int, float]:
        """Index of the key nearest `question`, and its cosine similarity."""
        sims = self.vectors @ self.embedder.encode([question])[0]  # MiniLM caches a single text
        best = int(np.argmax(sims))
        return best, float(sims[best])

    def score(self, question: str) -> float:
        """Highest cosine similarity between `question` and any scope key."""
        return self._nearest(question)[1] if len(self.keys) else 0.0

    def pick(self, question: str) -> int | None:
        """The shard whose adapter answers `question`, or None: the base model answers."""
        if not len(self.keys) or not self.about_user(question):
            return None
        best, sim = self._nearest(question)
        return int(self.owners[best]) if sim >= self.threshold else None

    def nearest(self, question: str) -> int | None:
        """The shard of the nearest key, in scope or not (the gate's "raw adapter" figures)."""
        return int(self.owners[self._nearest(question)[0]]) if len(self.keys) else None

    def match(self, question: str) -> bool:
        return self.pick(question) is not None

    def everywhere(self) -> "Everywhere":
        return Everywhere(self)

    def save(self, directory: Path) -> None:
        """`scope.npy` (vectors) + `scope.json` (keys, values) beside the adapter."""
        import io

        from config.atomic import atomic_write_bytes, atomic_write_json

        buf = io.BytesIO()
        np.save(buf, self.vectors, allow_pickle=False)
        atomic_write_bytes(Path(directory) / "scope.npy", buf.getvalue())
        atomic_write_json(Path(directory) / "scope.json", {"keys": self.keys, "values": self.values})

    @classmethod
    def load(cls, directory: Path, embedder, threshold: float) -> "Scope | None":
        directory = Path(directory)
        if not (directory / "scope.json").exists():
            return None
        data = json.loads((directory / "scope.json").read_text())
        keys, values = data["keys"], data.get("values", [])
        try:
            vectors = np.load(directory / "scope.npy", allow_pickle=False)
        except (OSError, ValueError):
            vectors = np.zeros((0, 0))
        if vectors.ndim != 2 or len(vectors) != len(keys) or vectors.shape[1] != embedder.encode(["x"]).shape[1]:
            return cls.build(keys, embedder, threshold, values)  # stale or other embedder: recompute
        return cls(keys, vectors, embedder, threshold, values)


class Everywhere:
    """A scope that sends every question to its nearest shard: the adapters without the gate
    (what the publish gate's "raw" figures measure)."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def pick(self, question: str) -> int:
        return self.scope.nearest(question) or 0

    def match(self, question: str) -> bool:
        return True
