"""The Chroma turn index and the single-owner lock of the memory store.

Chroma's embedded `PersistentClient` is not process-safe, so one process owns the store:
`store_lock(home)` takes an exclusive `fcntl` lock on `$AGENT_HOME/memory.lock` for as long
as the context is open (a daemon holds it for its lifetime). A second opener gets a
`UserError` naming the owner's PID.

The index is derived data: the SQLite ledger holds every turn, and `TurnStore.rebuild()`
recreates the collection from it (e.g. after a crash corrupted the HNSW files).
"""

from __future__ import annotations

import ctypes
import fcntl
import functools
import os
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence
from urllib.parse import urlparse

import numpy as np

from config import Settings, UserError
from memory.ledger import TurnRecord

__all__ = ["StoreLock", "store_lock", "TurnStore", "Hit"]

LOCK_NAME = "memory.lock"
_CHROMA_BATCH = 2000


class StoreLock:
    """Exclusive, non-blocking owner lock of the memory store in `home`."""

    def __init__(self, home: str | Path) -> None:
        self.path = Path(home) / LOCK_NAME
        self._fd: int | None = None
        self.previous_owner_died = False

    def acquire(self) -> "StoreLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            try:
                pid = os.read(fd, 32).decode(errors="replace").strip() or "?"
            finally:
                os.close(fd)
            raise UserError(
                f"memory store is in use by process PID {pid} ({self.path.parent}); "
                "stop it or use the daemon"
            ) from None
        #: the last owner still wrote its PID here: it died without releasing (killed, crashed)
        self.previous_owner_died = bool(os.read(fd, 32).strip())
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            finally:
                os.close(self._fd)
                self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> "StoreLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


@contextmanager
def store_lock(home: str | Path) -> Iterator[StoreLock]:
    """Hold the memory store's owner lock for the duration of the block."""
    lock = StoreLock(home).acquire()
    try:
        yield lock
    finally:
        lock.release()


@dataclass
class Hit:
    turn_id: int
    session: str
    role: str
    text: str
    time: str
    turn_index: int
    score: float

    def to_dict(self) -> dict:
        return self.__dict__.copy()


# ---- Chroma runs on filled memory -------------------------------------------------------------
# Chroma writes its HNSW files whole, unused capacity included, from buffers it does not clear,
# and rewrites them whenever a process first reads the index. Bytes the process freed earlier, such
# as the text of turns it has since forgotten, can reach the disk that way (200 turns indexed and
# deleted, 4 written: their text was in the files in 4 runs of 8; in every run with one glibc arena,
# tests/test_security.py). While Chroma runs, glibc fills every allocation with a constant byte
# (mallopt M_PERTURB), so freed text cannot come back. No-op without glibc. Scoped to Chroma's
# calls: for a whole process it cost 40% on a torch training loop.
_M_PERTURB = -6
_mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
_filling = 0
_filling_lock = threading.Lock()


@contextmanager
def filled_allocations() -> Iterator[None]:
    """Within the block (any thread), new memory is filled with a constant byte, freed memory too."""
    global _filling
    with _filling_lock:
        _filling += 1
        if _filling == 1 and _mallopt:
            _mallopt(_M_PERTURB, 0x5A)
    try:
        yield
    finally:
        with _filling_lock:
            _filling -= 1
            if _filling == 0 and _mallopt:
                _mallopt(_M_PERTURB, 0)


def _on_filled_memory(method):
    @functools.wraps(method)
    def run(*args, **kw):
        with filled_allocations():
            return method(*args, **kw)
    return run


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    url = settings.memory.chroma_url
    if url:
        u = urlparse(url if "://" in url else f"http://{url}")
        if not u.hostname:
            raise UserError(f"bad memory.chroma_url {url!r}; expected http://host:port")
        try:
            return chromadb.HttpClient(
                host=u.hostname,
                port=u.port or (443 if u.scheme == "https" else 8000),
                ssl=u.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as e:  # connection refused etc.
            raise UserError(f"cannot reach the Chroma server at {url}: {e}") from e
    path = settings.home / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def delete_index(settings: Settings) -> None:
    """Delete the embedded index's files, after dropping what this process caches of them."""
    import gc

    from chromadb.api.shared_system_client import SharedSystemClient

    with filled_allocations():
        SharedSystemClient.clear_system_cache()
        gc.collect()  # a dropped client flushes its HNSW files when collected: before the delete, not after
    shutil.rmtree(settings.home / "chroma", ignore_errors=True)


class TurnStore:
    """Chroma collection of turns (cosine space), ids `t<turn id>`."""

    @_on_filled_memory
    def __init__(self, settings: Settings, embedder) -> None:
        self.settings = settings
        self.embedder = embedder
        self.name = settings.memory.collection
        self.client = _client(settings)
        #: True when the collection was (re)created empty because it had been built with
        #: another embedder; the owner must re-index it from the ledger (Memory does).
        self.needs_rebuild = False
        self.collection = self._open()

    def _open(self):
        def create():
            return self.client.get_or_create_collection(
                self.name,
                embedding_function=self.embedder,
                configuration={"hnsw": {"space": "cosine"}},
            )

        try:
            return create()
        except ValueError as e:
            if "conflict" not in str(e).lower():
                raise UserError(f"cannot open turn index {self.name!r}: {e}") from e
            # built with another embedder: its vectors are useless now; start it over
            self.client.delete_collection(self.name)
            self.needs_rebuild = True
            return create()

    @_on_filled_memory
    def count(self) -> int:
        return self.collection.count()

    @_on_filled_memory
    def add(self, turns: Sequence[TurnRecord], embeddings: np.ndarray | None = None) -> None:
        if not turns:
            return
        if embeddings is None:
            embeddings = self.embedder.encode([t.content for t in turns])
        for i in range(0, len(turns), _CHROMA_BATCH):
            chunk = turns[i : i + _CHROMA_BATCH]
            self.collection.upsert(
                ids=[f"t{t.id}" for t in chunk],
                embeddings=[e for e in embeddings[i : i + _CHROMA_BATCH]],
                documents=[t.content for t in chunk],
                metadatas=[
                    {"turn_id": t.id, "session": t.session, "role": t.role, "time": t.time,
                     "turn_index": t.turn_index}
                    for t in chunk
                ],
            )

    @_on_filled_memory
    def delete(self, turn_ids: Sequence[int]) -> None:
        ids = [f"t{i}" for i in turn_ids]
        for i in range(0, len(ids), _CHROMA_BATCH):
            self.collection.delete(ids=ids[i : i + _CHROMA_BATCH])

    @_on_filled_memory
    def ids(self) -> set[int]:
        got = self.collection.get(include=[])
        return {int(i[1:]) for i in got["ids"]}

    @_on_filled_memory
    def query(self, text: str, k: int = 5) -> list[Hit]:
        n = self.count()
        if n == 0 or k <= 0:
            return []
        vec = self.embedder.encode([text])[0]
        res = self.collection.query(
            query_embeddings=[vec], n_results=min(k, n),
            include=["documents", "metadatas", "distances"],
        )
        hits = []
        for doc, meta, dist in zip(res["documents"][0], res["metadatas"][0], res["distances"][0]):
            hits.append(Hit(int(meta["turn_id"]), meta["session"], meta["role"], doc,
                            meta["time"], int(meta["turn_index"]), round(1.0 - float(dist), 4)))
        return hits

    @_on_filled_memory
    def readable(self) -> bool:
        """Can the index answer a query? (A kill during an HNSW write can leave it unreadable.)"""
        try:
            if self.count():
                self.collection.query(query_embeddings=[np.full(self.embedder.dim, 1.0, np.float32)], n_results=1)
            return True
        except Exception:
            return False

    @_on_filled_memory
    def reset(self) -> None:
        """Drop everything and start an empty collection. The embedded store is wiped from disk
        (Chroma keeps deleted documents in its SQLite file and queue otherwise)."""
        try:
            if self.settings.memory.chroma_url:
                self.client.delete_collection(self.name)
            else:
                self.client.reset()
                self._compact()
        except Exception:  # missing or unreadable: start over from disk
            if not self.settings.memory.chroma_url:
                self.delete_files()
                self.client = _client(self.settings)
        self.collection = self._open()

    def delete_files(self) -> None:
        """Drop this process's embedded client and delete its files (the store is unusable until
        reopened)."""
        self.close()
        delete_index(self.settings)

    def _compact(self) -> None:
        """Rewrite Chroma's SQLite file so deleted documents leave the disk (its reset keeps free pages)."""
        import sqlite3

        db = sqlite3.connect(self.settings.home / "chroma" / "chroma.sqlite3", isolation_level=None, timeout=30)
        try:
            db.execute("VACUUM")
        finally:
            db.close()

    def close(self) -> None:
        # chromadb has no public close for PersistentClient; drop references so its
        # system can be garbage collected.
        self.collection = None
        self.client = None
