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

from consolidation.absence import (favourites_named, masked, people_named, same_question, what_of,
                                   what_questions)
from consolidation.synthesize import normalise
from memory.shapes import is_name, normal_attribute, relation_of

_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|me|my|mine|myself|we|our|us)\b", re.IGNORECASE)


def is_personal(text: str) -> bool:
    """Does the text speak about the user (first person)?"""
    return bool(_FIRST_PERSON.search(text.replace("’", "'")))


def cosines(vectors: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Each row of `vectors` dotted with `v`, in this thread. A BLAS product of a large scope (500 facts)
    wakes OpenBLAS's threads, which spin on after it and take the cores llama.cpp decodes the answer
    on: every answer was 40 % slower with 13 shards' keys than with one shard's (bench/shards.py)."""
    return np.einsum("ij,j->i", vectors, v)


class Scope:
    """Questions the adapter knows about, as unit vectors; `match` says if a question is in,
    `pick` which shard's adapter answers it (`owners[i]`: the shard of key i; 0 for one adapter)."""

    def __init__(self, keys: Sequence[str], vectors: np.ndarray, embedder, threshold: float,
                 values: Sequence[str] = (), owners: Sequence[int] | None = None,
                 attributes: Sequence[str | None] | None = None):
        self.keys = list(keys)
        self.values = list(values)
        # the attribute each key asks about (None: unknown, a scope saved before keys had one)
        self.attributes = list(attributes) if attributes is not None else None
        self._whats = None  # what one may ask of a person (see _about_subject), embedded on first use
        self._whose = None  # learned name → whose it is, on first use
        self._by_attribute = None  # attribute → its keys, on first use
        self._value_keys = [f" {normalise(v)} " for v in self.values if normalise(v)]
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.owners = np.zeros(len(self.keys), dtype=np.int32) if owners is None else np.asarray(owners, np.int32)
        self.embedder = embedder
        self.threshold = threshold

    @classmethod
    def build(cls, keys: Sequence[str], embedder, threshold: float, values: Sequence[str] = (),
              attributes: Sequence[str | None] | None = None) -> "Scope":
        return cls(keys, embedder.encode(list(keys)), embedder, threshold, values, attributes=attributes)

    @classmethod
    def of_groups(cls, groups: Sequence, embedder, threshold: float) -> Scope:
        """A shard's scope: the questions it trains, its facts' statements, and the values that are
        names ("Who is Pepper?"); each key remembers its fact's attribute."""
        pairs = [(qa.question, g.attribute) for g in groups for qa in g.train_unique]
        pairs += [(g.statement, g.attribute) for g in groups]
        return cls.build([k for k, _ in pairs], embedder, threshold,
                         [v for g in groups if is_name(g.attribute) for v in g.values], [a for _, a in pairs])

    @classmethod
    def combine(cls, scopes: Sequence["Scope"]) -> "Scope":
        """One scope over several shards: shard i's keys are owned by i."""
        first = scopes[0]
        vectors = [s.vectors for s in scopes if len(s.keys)] or [np.zeros((0, 1))]
        known = all(s.attributes is not None for s in scopes)
        return cls([k for s in scopes for k in s.keys], np.concatenate(vectors), first.embedder, first.threshold,
                   [v for s in scopes for v in s.values], [i for i, s in enumerate(scopes) for _ in s.keys],
                   [a for s in scopes for a in s.attributes] if known else None)

    def about_user(self, question: str) -> bool:
        """First person, or names a learned value."""
        q = f" {normalise(question)} "
        return is_personal(question) or any(v in q for v in self._value_keys)

    def _similarities(self, question: str) -> np.ndarray:
        return cosines(self.vectors, self.embedder.encode([question])[0])  # MiniLM caches a single text

    def _nearest(self, question: str) -> tuple[int, float]:
        """Index of the key nearest `question`, and its cosine similarity."""
        sims = self._similarities(question)
        best = int(np.argmax(sims))
        return best, float(sims[best])

    def score(self, question: str) -> float:
        """Highest cosine similarity between `question` and any scope key."""
        return self._nearest(question)[1] if len(self.keys) else 0.0

    def texts(self, question: str) -> list[str]:
        """The texts `pick` embeds for `question`: none when it is not about the user; itself;
        and when it names someone, itself with them made anyone (see `_about_subject`)."""
        if not len(self.keys) or not self.about_user(question):
            return []
        if self.attributes is None:
            return [question]
        names, people = self._whom(question)
        return [question, masked(question, names)] if people else [question]

    def embed(self, question: str) -> None:
        """Embed every text `pick` needs for `question` in one pass (the embedder keeps them): on a
        CPU, two short texts cost little more than one. Chat calls it before retrieval, which
        embeds the question itself."""
        if texts := self.texts(question):
            self.embedder.encode(texts)

    def pick(self, question: str) -> int | None:
        """The shard whose adapter answers `question`, or None: the base model answers."""
        texts = self.texts(question)
        if not texts:
            return None
        self.embedder.encode(texts)  # in one pass; `_similarities` and `_about_subject` find them kept
        sims = self._similarities(question)
        best = int(np.argmax(sims))
        if sims[best] < self.threshold:
            return None
        best = self._about_subject(question, sims, best)
        return None if best is None else int(self.owners[best])

    def _about_subject(self, question: str, sims: np.ndarray, best: int) -> int | None:
        """The nearest key that asks what the question asks: a question about a relative, a pet
        or a favourite the user never spoke of ("What's my horse called?" near "What's my dog
        called?", "Where does my sister live?" when only her name was said) is no question for
        the adapters (None), which would answer it with a learned value (consolidation/absence.py).

        Whom it asks about: a relative or animal it names ("my horse") or a learned name it says
        ("How old is Chiamaka?"). What it asks of them is read with them made anyone ("Where does
        my friend live?"), against questions one asks of anyone (`_what_questions`). A question
        naming no one and no favourite keeps `best`."""
        if self.attributes is None or not self.attributes[best]:
            return best
        names, people = self._whom(question)
        if people:
            whats, vectors = self._what_questions()
            anyone = masked(question, names)
            what = whats[int(np.argmax(cosines(vectors, self.embedder.encode([anyone])[0])))]
            asked = [normal_attribute(f"{who}'s {what}") for who in people]
        else:
            asked = favourites_named(question, self.attributes[best])
        if not asked:
            return best
        fitting = [i for a, keys in self._keys_of().items() if any(same_question(a, w) for w in asked) for i in keys]
        return max(fitting, key=lambda i: sims[i]) if fitting else None

    def _whom(self, question: str) -> tuple[dict[str, str | None], list[str]]:
        """The learned names the question says (see `_names_in`), and whom it asks about: the
        relatives and animals it names and the owners of those names."""
        names = self._names_in(question)
        return names, people_named(question) + [who for who in names.values() if who]

    def _keys_of(self) -> dict[str, list[int]]:
        """Each learned attribute's keys (on first use)."""
        if self._by_attribute is None:
            self._by_attribute = {}
            for i, a in enumerate(self.attributes):
                if a:
                    self._by_attribute.setdefault(a, []).append(i)
        return self._by_attribute

    def _names_in(self, question: str) -> dict[str, str | None]:
        """Learned names the question says, and whose name each is ("how old is Chiamaka?" →
        {"Chiamaka": "sister"}; None: the user's own)."""
        if self._whose is None:  # from the statements among the keys ("My sister's name is Chiamaka.")
            named = [(f" {normalise(k)} ", a) for k, a in zip(self.keys, self.attributes) if a and is_name(a)]
            keys = [(v, f" {normalise(v)} ") for v in self.values if normalise(v)]
            self._whose = [(v, key, next((relation_of(a) for k, a in named if key in k), None)) for v, key in keys]
        q = f" {normalise(question)} "
        return {v: who for v, key, who in self._whose if key in q}

    def _what_questions(self) -> tuple[list[str], np.ndarray]:
        """What one asks of "my friend", and the questions asking it embedded, for the standard
        things and everything learned of anyone else (on first use)."""
        if self._whats is None:
            pairs = what_questions([what_of(a) for a in self.attributes if a and relation_of(a)])
            self._whats = [w for _, w in pairs], self.embedder.encode([q for q, _ in pairs])
        return self._whats

    def nearest(self, question: str) -> int | None:
        """The shard of the nearest key, in scope or not (the gate's "raw adapter" figures)."""
        return int(self.owners[self._nearest(question)[0]]) if len(self.keys) else None

    def match(self, question: str) -> bool:
        return self.pick(question) is not None

    def everywhere(self) -> "Everywhere":
        return Everywhere(self)

    def save(self, directory: Path) -> None:
        """`scope.npy` (vectors) + `scope.json` (keys, values, attributes) beside the adapter."""
        import io

        from config.atomic import atomic_write_bytes, atomic_write_json

        buf = io.BytesIO()
        np.save(buf, self.vectors, allow_pickle=False)
        atomic_write_bytes(Path(directory) / "scope.npy", buf.getvalue())
        atomic_write_json(Path(directory) / "scope.json",
                          {"keys": self.keys, "values": self.values, "attributes": self.attributes})

    @classmethod
    def load(cls, directory: Path, embedder, threshold: float) -> "Scope | None":
        directory = Path(directory)
        if not (directory / "scope.json").exists():
            return None
        data = json.loads((directory / "scope.json").read_text())
        keys, values, attributes = data["keys"], data.get("values", []), data.get("attributes")
        try:
            vectors = np.load(directory / "scope.npy", allow_pickle=False)
        except (OSError, ValueError):
            vectors = np.zeros((0, 0))
        if vectors.ndim != 2 or len(vectors) != len(keys) or vectors.shape[1] != embedder.encode(["x"]).shape[1]:
            return cls.build(keys, embedder, threshold, values, attributes)  # stale or other embedder: recompute
        return cls(keys, vectors, embedder, threshold, values, attributes=attributes)


class Everywhere:
    """A scope that sends every question to its nearest shard: the adapters without the gate
    (what the publish gate's "raw" figures measure)."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def pick(self, question: str) -> int:
        return self.scope.nearest(question) or 0

    def match(self, question: str) -> bool:
        return True
