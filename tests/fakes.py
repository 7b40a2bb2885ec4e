"""Fakes for the real parts (no model downloads, fast, deterministic)."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Sequence

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function


@register_embedding_function
class FakeEmbedder(EmbeddingFunction[Documents]):
    """Hashed bag of words (+ word bigrams) → normalised 256-d vector. Same interface as
    `memory.embedder.MiniLMEmbedder`: `encode()`, `__call__`, `name()`, `dim`."""

    dim = 256

    def __init__(self, path: Any = None) -> None:
        self.path = path
        self.calls = 0

    @staticmethod
    def name() -> str:
        return "hippo-fake"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "FakeEmbedder":
        return FakeEmbedder()

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        words = re.findall(r"\w+", text.casefold())
        feats = words + [a + " " + b for a, b in zip(words, words[1:])]
        for w in feats:
            h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0 if " " not in w else 0.5
        n = np.linalg.norm(v)
        if n == 0:
            v[0] = 1.0
            n = 1.0
        return v / n

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._one(t) for t in texts])

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode(list(input)))


class FakeExtractor:
    """Writes the fact lines it is told to for a user's own words (`script`), else `none`. Same interface as `memory.extract.LlamaExtractor`: `lines(turns, own)`."""

    name = "fake"
    script: dict[str, str] = {}

    def __init__(self, script: dict[str, str] | None = None) -> None:
        self.script = dict(script if script is not None else type(self).script)
        self.seen: list[str] = []

    def lines(self, turns, own) -> list[str]:
        flat = [" ".join(o.split()) for o in own]  # as the model's prompt shows them (one line)
        self.seen.extend(flat)
        return [self.script.get(o, "none") for o in flat]


class BlockingExtractor:
    """An extractor that holds every call until `release` is set (for lock tests); writes nothing."""

    name = "blocking"
    entered = None
    release = None

    def lines(self, turns, own) -> list[str]:
        type(self).entered.set()
        assert type(self).release.wait(10), "the test never released the extractor"
        return ["none"] * len(own)


@register_embedding_function
class BlockingEmbedder(FakeEmbedder):
    """A FakeEmbedder that holds every big batch (an import's) until `release` is set; single
    texts (a chat's recall) pass at once."""

    entered = None
    release = None

    @staticmethod
    def name() -> str:
        return "hippo-fake"

    def encode(self, texts):
        if len(texts) > 8:
            type(self).entered.set()
            assert type(self).release.wait(10), "the test never released the embedder"
        return super().encode(texts)

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "BlockingEmbedder":
        return BlockingEmbedder()


def publish(registry, facts=(), write=lambda path: path.write_bytes(b"x"), **manifest):
    """Publish a one-shard version as a consolidation would (without training): `write(path)`
    writes its adapter file; `manifest` adds to what the registry records."""
    staging = registry.stage()
    (staging / "s001").mkdir()
    write(staging / "s001" / "adapter.gguf")
    shards = [{"id": "s001", "facts": [f["id"] for f in facts]}]
    return registry.commit(staging, {"facts": list(facts), "shards": shards, **manifest})
