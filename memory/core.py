"""`Memory`: the facade over the ledger (truth), the Chroma turn index and fact detection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from config import Settings, UserError, load_settings
from config.private import secure_home
from memory.detect import DetectReport, PendingTurn, detect, pending_turns, record
from memory.embedder import get_embedder
from memory.extract import ExtractedFact, get_extractor
from memory.ledger import Fact, Ledger, TurnRecord, parse_time, wall_time
from memory.secrets import redact
from memory.values import grounded
from memory.store import Hit, StoreLock, TurnStore, delete_index

__all__ = ["Memory", "Turn", "AddReport", "validate_turn", "prepare_turns"]

EMBED_BATCH = 512  # turns embedded per progress step


@dataclass(frozen=True)
class Turn:
    session: str
    role: str
    content: str
    time: str | None = None


@dataclass
class AddReport:
    ids: list[int] = field(default_factory=list)
    duplicates: int = 0

    @property
    def added(self) -> int:
        return len(self.ids)


def validate_turn(obj: Any) -> Turn:
    """A `Turn` from a dict (import format) or a Turn; ValueError with a short reason."""
    if isinstance(obj, Turn):
        d: Mapping = obj.__dict__
    elif isinstance(obj, Mapping):
        d = obj
    else:
        raise ValueError("a turn must be a JSON object")
    session, role = d.get("session"), d.get("role")
    content, time = d.get("content"), d.get("time")
    if not isinstance(session, str) or not session.strip():
        raise ValueError("'session' must be a non-empty string")
    if role not in ("user", "assistant"):
        raise ValueError("'role' must be \"user\" or \"assistant\"")
    if not isinstance(content, str) or not content.strip():
        raise ValueError("'content' must be a non-empty string")
    if time is not None:
        if not isinstance(time, str):
            raise ValueError("'time' must be an ISO-8601 string")
        try:
            parse_time(time)
        except ValueError:
            raise ValueError(f"'time' is not ISO-8601: {time!r}") from None
    return Turn(session.strip(), role, content, time)


def prepare_turns(turns: Iterable[Turn | Mapping], embedder,
                  progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Validate, redact and embed turns for `Memory.write_turns` (UserError on a bad turn). Needs no
    store: the daemon runs it outside its memory lock, so a big import does not hold chat up."""
    valid: list[Turn] = []
    for n, t in enumerate(turns, 1):
        try:
            valid.append(validate_turn(t))
        except ValueError as e:
            raise UserError(f"turn {n}: {e}") from None
    now_s, now_ts = wall_time()
    rows = []
    for t in valid:
        dt = parse_time(t.time) if t.time is not None else None
        rows.append({"session": t.session, "role": t.role, "content": redact(t.content),
                     "time": dt.isoformat() if dt else now_s, "ts": dt.timestamp() if dt else now_ts,
                     "time_given": dt is not None})
    for i in range(0, len(rows), EMBED_BATCH):
        chunk = rows[i:i + EMBED_BATCH]
        for row, vec in zip(chunk, embedder.encode([r["content"] for r in chunk])):
            row["vector"] = vec
        if progress:
            progress(i + len(chunk), len(rows))
    return rows


class Memory:
    """Short-term memory of one AGENT_HOME. Holds the store's owner lock until `close()`."""

    def __init__(self, settings: Settings | None = None, *, embedder=None, extractor=None) -> None:
        self.settings = settings or load_settings()
        home = self.settings.home
        secure_home(home)
        self.lock = StoreLock(home).acquire()
        try:
            self.embedder = embedder or get_embedder(
                self.settings.memory.embedder_path, self.settings.memory.embedder
            )
            self.ledger = Ledger(home / "ledger.sqlite")
            # A killed owner can leave Chroma's files torn in ways that segfault the next process that
            # touches them (on open, count or upsert: seen in the fault-injection test), which no `except`
            # catches and no probe query reliably finds. The index is derived data: rebuilt from the ledger.
            crashed = self.lock.previous_owner_died and not self.settings.memory.chroma_url
            if crashed:
                delete_index(self.settings)
            try:
                self.store = TurnStore(self.settings, self.embedder)
            except Exception:
                self.ledger.close()
                raise
        except BaseException:
            self.lock.release()
            raise
        self._extractor = extractor  # None: the one the settings name, loaded on first use
        self._closed = False
        if crashed or self.store.needs_rebuild or self.ledger.migrated or not self.store.readable():
            self.rebuild_index()
            self.store.needs_rebuild = False
        else:
            self.reconcile()

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, settings: Settings | None = None, **kw) -> "Memory":
        return cls(settings, **kw)

    def close(self) -> None:
        if getattr(self, "_closed", True):
            return
        self._closed = True
        try:
            self.store.close()
            self.ledger.close()
        finally:
            self.lock.release()

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ turns
    def add_turns(self, turns: Iterable[Turn | Mapping]) -> AddReport:
        """Validate, redact, store and index turns, all or nothing (UserError on a bad turn).

        Secrets are redacted before anything is written: their values never reach the disk."""
        return self.write_turns(prepare_turns(turns, self.embedder))

    def write_turns(self, rows: Sequence[dict]) -> AddReport:
        """Store and index turns made by `prepare_turns`, in one transaction: when this returns
        they are durable (and indexed); on any failure none of them is stored."""
        report = AddReport()
        if not rows:
            return report
        with self.ledger.transaction():
            report.ids, report.duplicates = self.ledger.insert_turns(rows)
            records = self.ledger.turns(report.ids, vectors=True)
            try:
                if records:
                    self.store.add(records, np.stack([t.vector for t in records]))
            except Exception as e:
                try:
                    self.store.delete(report.ids)
                except Exception:
                    pass
                raise UserError(f"could not index turns in Chroma: {e}") from e
        return report

    def turns(self, session: str | None = None) -> list[TurnRecord]:
        return self.ledger.turns(session=session)

    # ------------------------------------------------------------------ facts
    def detect(self, progress=None) -> DetectReport:
        """Extract facts from new user turns and update statuses (see `memory.detect`)."""
        report = detect(self.ledger, self.embedder, self.settings, self.extractor, progress)
        self._hide(report)
        return report

    @property
    def extractor(self):
        if self._extractor is None:
            self._extractor = get_extractor(self.settings)
        return self._extractor

    def pending_turns(self, limit: int | None = None) -> list[PendingTurn]:
        """User turns detection has not seen yet (extract them, then `record` the facts)."""
        return pending_turns(self.ledger, limit)

    def pending_count(self) -> int:
        """User turns detection has not seen yet."""
        return self.ledger.pending_count()

    def record(self, batch: Sequence[PendingTurn], found: Sequence[Sequence[ExtractedFact]]) -> DetectReport:
        """Record facts extracted from `batch` (see `memory.detect.record`)."""
        report = record(self.ledger, self.embedder, self.settings, batch, found)
        self._hide(report)
        return report

    def _hide(self, report: DetectReport) -> None:
        if report.hidden_turns:
            self.store.delete(report.hidden_turns)

    def facts(self, status: str | Sequence[str] | None = None) -> list[Fact]:
        return self.ledger.facts(status)

    def get(self, id_or_text: str) -> Fact:
        """A fact by id, canonical text, or a sentence that names its value ("forget that I live in Oslo")."""
        f = self.ledger.find(id_or_text)
        if f is not None:
            return f
        matches = {c.id: c for c in self.ledger.facts()
                   if c.status != "forgotten" and grounded(c.value, [id_or_text])}
        if len(matches) > 1:  # several values named: the one whose sentence is closest in meaning
            q = self.embedder.encode([id_or_text])[0]
            ranked = sorted(matches.values(), key=lambda c: -float(q @ c.embedding) if c.embedding is not None else 0)
            sims = [float(q @ c.embedding) if c.embedding is not None else 0.0 for c in ranked]
            if sims[0] - sims[1] >= 0.05:
                matches = {ranked[0].id: ranked[0]}
        if len(matches) == 1:
            return next(iter(matches.values()))
        if len(matches) > 1:
            ids = ", ".join(sorted(matches))
            raise UserError(f"{id_or_text!r} matches several facts ({ids}); use an id")
        raise UserError(f"no fact matches {id_or_text!r}; see `agent facts` for ids")

    def set_status(self, ids, status: str, **kw) -> list[Fact]:
        return self.ledger.set_status(ids, status, **kw)

    def to_unlearn(self) -> list[Fact]:
        return self.ledger.to_unlearn()

    def mark_unlearned(self, ids: Iterable[str]) -> None:
        """A round took these facts out of the weights. Forgotten ones lose their value in the ledger
        now, and the index is rebuilt in a fresh process: a turn this process indexed after the
        forget can carry the value's bytes into Chroma's files from its heap (seen in the
        end-to-end test: `data_level0.bin` held a forgotten turn's text after an import)."""
        ids = list(ids)
        forgotten = any(self.ledger.get(i).status == "forgotten" for i in ids)
        self.ledger.mark_unlearned(ids)
        if forgotten:
            self._rebuild_erased()

    def forget(self, id_or_text: str) -> Fact:
        """Forget a fact for real: its supporting turns leave retrieval, its value is erased from
        every stored turn (ledger and index, rebuilt without it) and, unless the weights still hold
        it (then after the next consolidation unlearns it), from the fact itself."""
        f = self.get(id_or_text)
        turn_ids = self.ledger.support_turn_ids(f.id)
        with self.ledger.transaction():
            if f.status != "forgotten":
                self.ledger.set_status(f.id, "forgotten", note="forgotten by the user")
            self.ledger.hide_turns(turn_ids)
            if f.value != "[forgotten]":
                self.ledger.erase_value(f.value)
            if f.consolidated_at is None or f.unlearned_at is not None:
                self.ledger.erase_fact(f.id)
        self._rebuild_erased()
        return self.ledger.get(f.id)

    def erase_turns(self, ids: Sequence[int] = (), containing: str | None = None) -> dict:
        """Erase turns for real (by id, or every turn containing a text): their text leaves the
        ledger, the index and the disk. Facts they stated are listed, not changed."""
        wanted = list(ids) + (self.ledger.turn_ids_containing(containing) if containing else [])
        if containing is not None and not containing.strip():
            raise UserError("the text to erase must not be empty")
        with self.ledger.transaction():
            facts = sorted({fid for t in wanted for fid, _ in self.ledger.turn_facts(t)})
            erased = self.ledger.erase_turns(wanted)
        missing = sorted(set(wanted) - set(erased))
        if missing and not containing:
            raise UserError(f"no turn with id {missing[0]}")
        self._rebuild_erased()
        return {"erased_turns": erased, "facts_stated": facts}

    # ------------------------------------------------------------------ retrieval
    def search(self, query: str, k: int = 5) -> list[Hit]:
        """The k turns nearest in meaning to `query` (forgotten turns excluded)."""
        if k < 1:
            raise UserError("k must be at least 1")
        hidden = self.ledger.hidden_turn_ids()
        hits = self.store.query(query, k + len(hidden) if hidden else k)
        return [h for h in hits if h.turn_id not in hidden][:k]

    def recall(self, question: str, k: int = 3, min_score: float = 0.35, exclude_session: str | None = None,
               include_consolidated: bool = False) -> list[Hit]:
        """Short-term recall for the prompt: the user turns nearest to `question`.

        Turns whose facts are already consolidated are left out (the weights hold them) unless
        `include_consolidated`; so are turns of `exclude_session` (already in the history).
        """
        skip = set() if include_consolidated else {t for f in self.facts("consolidated") for t in f.turns}
        hits = self.search(question, k=k + 8 + len(skip))
        return [h for h in hits if h.role == "user" and h.session != exclude_session
                and h.turn_id not in skip and h.score >= min_score][:k]

    def reconcile(self) -> tuple[int, int]:
        """Make the index hold exactly the ledger's visible turns: remove orphans (turns a crash
        rolled back, hidden ones) and index missing ones. Returns (#removed, #added)."""
        have, visible = self.store.ids(), self.ledger.visible_turn_ids()
        orphans = sorted(have - visible)
        if orphans:
            self.store.delete(orphans)
        missing = visible - have
        for batch in self.ledger.iter_visible_turns(ids=missing) if missing else ():
            self._index(batch)
        return len(orphans), len(missing)

    def rebuild_index(self) -> int:
        """Wipe the index and recreate it from the ledger's visible turns. Returns #turns."""
        self.store.reset()
        n = 0
        for batch in self.ledger.iter_visible_turns():
            self._index(batch)
            n += len(batch)
        return n

    def _rebuild_erased(self) -> None:
        """After erasing text: compact the ledger, then rebuild the index without it — in a fresh
        process for the embedded store (see `memory.reindex`), so no copy survives on disk."""
        for batch in self.ledger.iter_visible_turns():  # vectors of the rewritten turns, before the child copies them
            if any(t.vector is None for t in batch):
                self._index_vectors(batch)
        self.ledger.compact()
        if self.settings.memory.chroma_url:
            self.rebuild_index()
            return
        import subprocess
        import sys

        self.store.delete_files()
        done = subprocess.run([sys.executable, "-m", "memory.reindex", str(self.settings.home)],
                              capture_output=True, text=True)
        self.store = TurnStore(self.settings, self.embedder)
        if done.returncode != 0:  # the index is derived data: rebuild it here rather than fail
            self.rebuild_index()

    def _index_vectors(self, batch: list[TurnRecord]) -> None:
        """Compute and store the vectors a batch lacks."""
        todo = [t for t in batch if t.vector is None]
        if todo:
            vecs = self.embedder.encode([t.content for t in todo])
            with self.ledger.transaction():
                self.ledger.set_vectors([t.id for t in todo], vecs)
            for t, v in zip(todo, vecs):
                t.vector = v

    def _index(self, batch: list[TurnRecord]) -> None:
        """Add turns to the index with their stored vectors (computed and stored where missing)."""
        self._index_vectors(batch)
        self.store.add(batch, np.stack([t.vector for t in batch]))

    def stats(self) -> dict:
        c = self.ledger.counts()
        c["indexed_turns"] = self.store.count()
        return c
