"""Durable SQLite ledger of turns and facts: the source of truth of short-term memory.

`$AGENT_HOME/ledger.sqlite`, WAL journal, `synchronous=FULL`, `secure_delete` (erased text is
overwritten on disk, not left in free pages), every write in a transaction. Turns are stored
redacted (`memory.secrets.redact`) with their embedding, so the Chroma index can always be
rebuilt from here without re-embedding.

Fact life cycle::

    observed ──(stated in ≥ min_sessions distinct sessions)──> candidate ──(trained)──> consolidated
       │                                                          │                        │
       └────────────── superseded (newer value) / forgotten (user) / rejected (gate) ──────┘

Facts that were consolidated and later superseded or forgotten are listed by
`to_unlearn()` until `mark_unlearned()` is called for them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from config import UserError

__all__ = ["Ledger", "Fact", "TurnRecord", "STATUSES", "SCHEMA_VERSION", "fact_id"]

SCHEMA_VERSION = 4
STATUSES = ("observed", "candidate", "consolidated", "superseded", "forgotten", "rejected")
ACTIVE = ("observed", "candidate", "consolidated")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS turns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    session     TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content     TEXT    NOT NULL,
    time        TEXT    NOT NULL,           -- ISO-8601 (given, or import time)
    ts          REAL    NOT NULL,           -- epoch seconds of `time`, for ordering
    turn_index  INTEGER NOT NULL,           -- position inside its session
    hidden      INTEGER NOT NULL DEFAULT 0, -- 1: removed from retrieval (forgotten)
    detected    INTEGER NOT NULL DEFAULT 0, -- 1: fact detection has seen it
    time_given  INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT    NOT NULL,
    vector      BLOB                        -- float32 embedding of `content` (NULL: not yet)
);
CREATE INDEX IF NOT EXISTS turns_session ON turns (session, turn_index);
CREATE INDEX IF NOT EXISTS turns_pending ON turns (detected, role);
CREATE UNIQUE INDEX IF NOT EXISTS turns_dedup ON turns (session, role, time, content)
    WHERE time_given = 1;

CREATE TABLE IF NOT EXISTS facts (
    id              TEXT PRIMARY KEY,
    text            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    attribute       TEXT NOT NULL,
    value           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN
                    ('observed','candidate','consolidated','superseded','forgotten','rejected')),
    superseded_by   TEXT REFERENCES facts(id),
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL,
    first_ts        REAL NOT NULL,
    last_ts         REAL NOT NULL,
    embedding       BLOB,
    kind            TEXT NOT NULL DEFAULT 'stable' CHECK (kind IN ('stable', 'episodic')),
    promoted_by     TEXT,                  -- 'sessions' | 'update'
    consolidated_at TEXT,
    unlearned_at    TEXT,
    note            TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_status ON facts (status);
CREATE INDEX IF NOT EXISTS facts_attribute ON facts (attribute);

CREATE TABLE IF NOT EXISTS fact_support (
    fact_id   TEXT    NOT NULL REFERENCES facts(id),
    turn_id   INTEGER NOT NULL REFERENCES turns(id),
    session   TEXT    NOT NULL,
    ts        REAL    NOT NULL,
    is_update INTEGER NOT NULL DEFAULT 0,
    doubted   INTEGER NOT NULL DEFAULT 0,   -- 1: only the learned check doubted the statement (memory.detect)
    PRIMARY KEY (fact_id, turn_id)
);
CREATE INDEX IF NOT EXISTS support_turn ON fact_support (turn_id);

CREATE TABLE IF NOT EXISTS fact_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    fact_id     TEXT NOT NULL,
    at          TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    note        TEXT
);
"""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def parse_time(value: str) -> datetime:
    """ISO-8601 → aware datetime (naive times are taken as UTC). Raises ValueError."""
    dt = datetime.fromisoformat(value.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt


def fact_id(attribute_key: str, value_key: str) -> str:
    """Short stable id of a fact: same attribute + value → same id in every process."""
    return "f" + hashlib.sha1(f"{attribute_key}|{value_key}".encode()).hexdigest()[:8]


@dataclass
class TurnRecord:
    id: int
    session: str
    role: str
    content: str
    time: str
    turn_index: int
    hidden: bool = False
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass
class Fact:
    id: str
    text: str
    subject: str
    attribute: str
    value: str
    status: str
    sessions: list[str]
    turns: list[int]
    first_seen: str
    last_seen: str
    superseded_by: str | None = None
    promoted_by: str | None = None
    consolidated_at: str | None = None
    unlearned_at: str | None = None
    note: str | None = None
    kind: str = "stable"  # or "episodic": recorded, never consolidated
    doubted: list[str] = field(default_factory=list)  # sessions where only doubted statements said it
    embedding: np.ndarray | None = field(default=None, repr=False, compare=False)
    first_ts: float = field(default=0.0, repr=False)
    last_ts: float = field(default=0.0, repr=False)

    def to_dict(self) -> dict:
        """The JSON shape of `agent facts --json` (plus a few extra keys)."""
        d = asdict(self)
        for k in ("embedding", "first_ts", "last_ts"):
            d.pop(k)
        return d


_TRANSITIONS = {
    "observed": {"candidate", "superseded", "forgotten", "rejected"},
    "candidate": {"observed", "consolidated", "superseded", "forgotten", "rejected"},
    "consolidated": {"candidate", "superseded", "forgotten", "rejected"},
    "superseded": {"observed", "candidate", "forgotten", "rejected"},
    "rejected": {"observed", "candidate", "forgotten"},
    "forgotten": set(),
}


class Ledger:
    """SQLite store of turns and facts; one per process (see `memory.store`).

    Not thread-safe by itself: the connection may be used from several threads only when the
    caller serialises the calls (the daemon wraps its `Memory` in one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30,
                                      check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA secure_delete=ON")
            #: True when opening migrated stored turns (redacted them): the index must be rebuilt
            self.migrated = self._migrate()
        except sqlite3.DatabaseError as e:
            raise UserError(f"memory ledger {self.path} is unreadable: {e}") from e
        self._depth = 0

    # ------------------------------------------------------------------ plumbing
    def _migrate(self) -> bool:
        """Bring the schema to SCHEMA_VERSION; True when stored turns were rewritten (redacted)."""
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserError(
                f"memory ledger {self.path} has schema {version}, newer than this program "
                f"({SCHEMA_VERSION}); upgrade hippo-agent"
            )
        if version == SCHEMA_VERSION:
            return False
        script = _SCHEMA if version < 1 else ""
        if version == 1:  # v2: facts.kind (stable | episodic)
            script += ("ALTER TABLE facts ADD COLUMN kind TEXT NOT NULL DEFAULT 'stable'"
                       " CHECK (kind IN ('stable', 'episodic'));")
        if 1 <= version < 3:  # v3: turns redacted at rest, with their embedding
            script += "ALTER TABLE turns ADD COLUMN vector BLOB;"
        if 1 <= version < 4:  # v4: support the learned check doubted
            script += "ALTER TABLE fact_support ADD COLUMN doubted INTEGER NOT NULL DEFAULT 0;"
        try:
            self.db.executescript("BEGIN IMMEDIATE;" + script)
            rewritten = self._redact_stored() if version >= 1 else 0
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        if rewritten:
            self.compact()
        return bool(rewritten)

    def _redact_stored(self) -> int:
        """Redact secrets in turns stored before v3 (their vectors are recomputed). Returns #turns."""
        from memory.secrets import redact

        n = 0
        for r in self.db.execute("SELECT id, content FROM turns").fetchall():
            clean = redact(r["content"])
            if clean != r["content"]:
                self.db.execute("UPDATE turns SET content = ?, vector = NULL WHERE id = ?", (clean, r["id"]))
                n += 1
        return n

    def compact(self) -> None:
        """Rewrite the database file and empty the WAL, so erased text leaves the disk too."""
        self.db.execute("VACUUM")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT (ROLLBACK on error); nests as one outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")
        finally:
            self._depth = 0

    def close(self) -> None:
        try:
            self.db.close()
        except sqlite3.Error:  # pragma: no cover
            pass

    # ------------------------------------------------------------------ turns
    def insert_turns(self, turns: Sequence[dict]) -> tuple[list[int], int]:
        """Insert validated turns (keys: session, role, content, time, ts, time_given).

        Returns (new ids, number of duplicates skipped). Duplicates are turns with an explicit
        time identical in session, role, time and content to a stored one. Call inside
        `transaction()`.
        """
        ids: list[int] = []
        dups = 0
        next_index: dict[str, int] = {}
        created = now_iso()
        for t in turns:
            s = t["session"]
            if s not in next_index:
                row = self.db.execute(
                    "SELECT COALESCE(MAX(turn_index) + 1, 0) FROM turns WHERE session = ?", (s,)
                ).fetchone()
                next_index[s] = row[0]
            try:
                vector = t.get("vector")
                cur = self.db.execute(
                    "INSERT INTO turns (session, role, content, time, ts, turn_index, time_given,"
                    " created_at, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (s, t["role"], t["content"], t["time"], t["ts"], next_index[s],
                     1 if t.get("time_given", True) else 0, created,
                     None if vector is None else np.asarray(vector, np.float32).tobytes()),
                )
            except sqlite3.IntegrityError:
                dups += 1
                continue
            next_index[s] += 1
            ids.append(cur.lastrowid)
        return ids, dups

    def turns(
        self,
        ids: Iterable[int] | None = None,
        *,
        session: str | None = None,
        include_hidden: bool = True,
        vectors: bool = False,
    ) -> list[TurnRecord]:
        q = "SELECT id, session, role, content, time, turn_index, hidden" + (", vector" if vectors else "") + " FROM turns"
        cond, args = [], []
        if ids is not None:
            ids = list(ids)
            if not ids:
                return []
            cond.append(f"id IN ({','.join('?' * len(ids))})")
            args += ids
        if session is not None:
            cond.append("session = ?")
            args.append(session)
        if not include_hidden:
            cond.append("hidden = 0")
        if cond:
            q += " WHERE " + " AND ".join(cond)
        q += " ORDER BY id"
        return [
            TurnRecord(r["id"], r["session"], r["role"], r["content"], r["time"], r["turn_index"], bool(r["hidden"]),
                       np.frombuffer(r["vector"], np.float32) if vectors and r["vector"] else None)
            for r in self.db.execute(q, args)
        ]

    def iter_visible_turns(self, batch: int = 512, ids: set[int] | None = None) -> Iterator[list[TurnRecord]]:
        """Visible turns with their stored vectors (None where not computed yet), by id, in batches;
        only those in `ids` when given."""
        last = 0
        while True:
            rows = self.db.execute(
                "SELECT id, session, role, content, time, turn_index, vector FROM turns"
                " WHERE hidden = 0 AND id > ? ORDER BY id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            last = rows[-1]["id"]
            got = [TurnRecord(r["id"], r["session"], r["role"], r["content"], r["time"], r["turn_index"], False,
                              np.frombuffer(r["vector"], np.float32) if r["vector"] else None)
                   for r in rows if ids is None or r["id"] in ids]
            if got:
                yield got

    def visible_turn_ids(self) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT id FROM turns WHERE hidden = 0")}

    def set_vectors(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        self.db.executemany("UPDATE turns SET vector = ? WHERE id = ?",
                            [(np.asarray(v, np.float32).tobytes(), i) for i, v in zip(ids, vectors)])

    def erase_value(self, value: str, mark: str = "[forgotten]") -> list[int]:
        """Replace `value` (whole words, any case) by `mark` in every stored turn. Returns their ids."""
        import re

        pattern = re.compile(rf"(?<!\w){re.escape(value.strip())}(?!\w)", re.IGNORECASE)
        ids = []
        for t in self.turns(self.turn_ids_containing(value.strip())):
            clean = pattern.sub(mark, t.content)
            if clean != t.content:
                self.db.execute("UPDATE turns SET content = ?, vector = NULL WHERE id = ?", (clean, t.id))
                ids.append(t.id)
        return ids

    def pending_user_turns(self, limit: int | None = None) -> list[sqlite3.Row]:
        """User turns fact detection has not seen yet, oldest first."""
        return self.db.execute(
            "SELECT id, session, content, time, ts, turn_index, vector FROM turns"
            " WHERE detected = 0 AND role = 'user' ORDER BY ts, id LIMIT ?", (-1 if limit is None else limit,)
        ).fetchall()

    def user_turns_naming(self, text: str, exclude_sessions: Iterable[str] = ()) -> list[sqlite3.Row]:
        """Visible user turns whose content contains `text` (any case), outside `exclude_sessions`."""
        skip = list(exclude_sessions)
        q = ("SELECT id, session, content, time, ts FROM turns WHERE role = 'user' AND hidden = 0"
             " AND instr(lower(content), lower(?)) > 0")
        if skip:
            q += f" AND session NOT IN ({','.join('?' * len(skip))})"
        return self.db.execute(q + " ORDER BY ts, id", (text, *skip)).fetchall()

    def updated_fact_ids(self) -> set[str]:
        """Facts stated at least once as an explicit update."""
        return {r[0] for r in self.db.execute("SELECT DISTINCT fact_id FROM fact_support WHERE is_update = 1")}

    def turn_facts(self, turn_id: int) -> list[tuple[str, str]]:
        """(fact id, value) of the facts a turn states."""
        return [(r[0], r[1]) for r in self.db.execute(
            "SELECT f.id, f.value FROM fact_support s JOIN facts f ON f.id = s.fact_id WHERE s.turn_id = ?", (turn_id,))]

    def still_pending(self, ids: Sequence[int]) -> set[int]:
        """Which of `ids` detection has not recorded yet."""
        if not ids:
            return set()
        q = f"SELECT id FROM turns WHERE detected = 0 AND id IN ({','.join('?' * len(ids))})"
        return {r[0] for r in self.db.execute(q, list(ids))}

    def pending_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM turns WHERE detected = 0 AND role = 'user'").fetchone()[0]

    def context(self, session: str, turn_index: int, n: int) -> list[tuple[str, str]]:
        """The `n` turns before `turn_index` in `session`, oldest first, as (role, content)."""
        rows = self.db.execute(
            "SELECT role, content FROM turns WHERE session = ? AND turn_index < ? AND hidden = 0"
            " ORDER BY turn_index DESC LIMIT ?", (session, turn_index, n)).fetchall()
        return [(r["role"], r["content"]) for r in reversed(rows)]

    def mark_detected(self, ids: Sequence[int]) -> None:
        self.db.executemany("UPDATE turns SET detected = 1 WHERE id = ?", [(i,) for i in ids])
        self.db.execute("UPDATE turns SET detected = 1 WHERE detected = 0 AND role = 'assistant'")

    def hide_turns(self, ids: Iterable[int]) -> None:
        self.db.executemany("UPDATE turns SET hidden = 1 WHERE id = ?", [(i,) for i in ids])

    def erase_turns(self, ids: Iterable[int], mark: str = "[erased]") -> list[int]:
        """Overwrite the text of turns (they stay as hidden placeholders, so facts keep their
        history). Returns the ids that existed."""
        ids = list(ids)
        found = [r[0] for r in self.db.execute(
            f"SELECT id FROM turns WHERE id IN ({','.join('?' * len(ids))})", ids)] if ids else []
        self.db.executemany("UPDATE turns SET content = ?, vector = NULL, hidden = 1 WHERE id = ?",
                            [(mark, i) for i in found])
        return found

    def turn_ids_containing(self, text: str) -> list[int]:
        """Every stored turn whose text contains `text` (any case)."""
        return [r[0] for r in self.db.execute(
            "SELECT id FROM turns WHERE instr(lower(content), lower(?)) > 0 ORDER BY id", (text,))]

    def hidden_turn_ids(self) -> set[int]:
        return {r[0] for r in self.db.execute("SELECT id FROM turns WHERE hidden = 1")}

    def counts(self) -> dict:
        return _counts(self.db)

    @staticmethod
    def read_counts(path: str | Path) -> dict:
        """`counts()` of the ledger at `path`, opened read-only (no migration, no owner lock: `agent
        status` works while another process owns the store); all zero when there is none yet."""
        if Path(path).exists():
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                return _counts(db)
            except sqlite3.Error:
                pass
            finally:
                db.close()
        return {"turns": 0, "sessions": 0, "hidden_turns": 0, "facts": dict.fromkeys(STATUSES, 0)}

    # ------------------------------------------------------------------ facts
    def _fact_from_row(self, r: sqlite3.Row) -> Fact:
        sup = self.db.execute(
            "SELECT turn_id, session, doubted FROM fact_support WHERE fact_id = ? ORDER BY ts, turn_id",
            (r["id"],),
        ).fetchall()
        said = list(dict.fromkeys(s["session"] for s in sup))
        clean = {s["session"] for s in sup if not s["doubted"]}
        doubted = [x for x in said if x not in clean]
        sessions = said if clean else []  # a doubted statement counts only beside an undoubted one
        emb = np.frombuffer(r["embedding"], dtype=np.float32) if r["embedding"] else None
        return Fact(
            id=r["id"], text=r["text"], subject=r["subject"], attribute=r["attribute"],
            value=r["value"], status=r["status"], sessions=sessions, doubted=doubted,
            turns=[s["turn_id"] for s in sup], first_seen=r["first_seen"],
            last_seen=r["last_seen"], superseded_by=r["superseded_by"],
            promoted_by=r["promoted_by"], consolidated_at=r["consolidated_at"],
            unlearned_at=r["unlearned_at"], note=r["note"], kind=r["kind"], embedding=emb,
            first_ts=r["first_ts"], last_ts=r["last_ts"],
        )

    def facts(self, status: str | Sequence[str] | None = None) -> list[Fact]:
        """Facts, oldest first; `status` filters by one status or a list of them."""
        q, args = "SELECT * FROM facts", []
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            bad = [s for s in wanted if s not in STATUSES]
            if bad:
                raise UserError(f"unknown fact status {bad[0]!r}; use one of {', '.join(STATUSES)}")
            q += f" WHERE status IN ({','.join('?' * len(wanted))})"
            args = wanted
        q += " ORDER BY first_ts, id"
        return [self._fact_from_row(r) for r in self.db.execute(q, args).fetchall()]

    def find(self, id_or_text: str) -> Fact | None:
        """Fact by id, or by its canonical text (case/punctuation-insensitive); None if absent."""
        key = id_or_text.strip()
        r = self.db.execute("SELECT * FROM facts WHERE id = ?", (key,)).fetchone()
        if r is None:
            norm = key.casefold().rstrip(" .!")
            rows = self.db.execute("SELECT * FROM facts ORDER BY last_ts DESC").fetchall()
            for row in rows:
                if row["text"].casefold().rstrip(" .!") == norm:
                    r = row
                    break
        return self._fact_from_row(r) if r is not None else None

    def get(self, id_or_text: str) -> Fact:
        """Fact by id or canonical text; `UserError` when there is none."""
        f = self.find(id_or_text)
        if f is None:
            raise UserError(f"no fact with id or text {id_or_text!r}")
        return f

    def upsert_fact(self, *, id: str, text: str, subject: str, attribute: str, value: str,
                    time: str, ts: float, embedding: np.ndarray | None, kind: str = "stable") -> bool:
        """Create the fact if new (status observed). Returns True when it was created."""
        now = now_iso()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO facts (id, text, subject, attribute, value, status, first_seen,"
            " last_seen, first_ts, last_ts, embedding, kind, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, 'observed', ?, ?, ?, ?, ?, ?, ?, ?)",
            (id, text, subject, attribute, value, time, time, ts, ts,
             embedding.astype(np.float32).tobytes() if embedding is not None else None, kind, now, now),
        )
        if cur.rowcount:
            self._event(id, None, "observed", "first statement")
        return bool(cur.rowcount)

    def add_support(self, fact_id: str, turn_id: int, session: str, time: str, ts: float,
                    is_update: bool, doubted: bool = False) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO fact_support (fact_id, turn_id, session, ts, is_update, doubted)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (fact_id, turn_id, session, ts, int(is_update), int(doubted)),
        )
        self.db.execute(
            "UPDATE facts SET first_seen = CASE WHEN ? < first_ts THEN ? ELSE first_seen END,"
            " first_ts = MIN(first_ts, ?),"
            " last_seen = CASE WHEN ? > last_ts THEN ? ELSE last_seen END,"
            " last_ts = MAX(last_ts, ?), updated_at = ? WHERE id = ?",
            (ts, time, ts, ts, time, ts, now_iso(), fact_id),
        )

    def _event(self, fid: str, old: str | None, new: str, note: str | None) -> None:
        self.db.execute(
            "INSERT INTO fact_events (fact_id, at, from_status, to_status, note) VALUES (?, ?, ?, ?, ?)",
            (fid, now_iso(), old, new, note),
        )

    def history(self, fid: str) -> list[dict]:
        return [dict(r) for r in self.db.execute(
            "SELECT at, from_status, to_status, note FROM fact_events WHERE fact_id = ? ORDER BY id",
            (fid,))]

    def set_status(
        self,
        ids: str | Iterable[str],
        status: str,
        *,
        note: str | None = None,
        superseded_by: str | None = None,
        promoted_by: str | None = None,
        force: bool = False,
    ) -> list[Fact]:
        """Move facts to `status` (validated transition, logged in `fact_events`).

        `consolidated` stamps `consolidated_at`; leaving `superseded` clears `superseded_by`.
        Unknown ids or forbidden transitions raise `UserError` and change nothing.
        """
        if status not in STATUSES:
            raise UserError(f"unknown fact status {status!r}; use one of {', '.join(STATUSES)}")
        ids = [ids] if isinstance(ids, str) else list(ids)
        with self.transaction():
            rows = []
            for i in ids:
                r = self.db.execute("SELECT id, status FROM facts WHERE id = ?", (i,)).fetchone()
                if r is None:
                    raise UserError(f"no fact with id {i!r}")
                if r["status"] != status and not force and status not in _TRANSITIONS[r["status"]]:
                    raise UserError(f"fact {i} is {r['status']}; it cannot become {status}")
                rows.append(r)
            now = now_iso()
            for r in rows:
                sets = ["status = ?", "updated_at = ?"]
                args: list = [status, now]
                if status == "superseded":
                    sets.append("superseded_by = ?")
                    args.append(superseded_by)
                elif r["status"] == "superseded":
                    sets.append("superseded_by = NULL")
                if status == "consolidated":
                    sets += ["consolidated_at = ?", "unlearned_at = NULL"]
                    args.append(now)
                if promoted_by is not None:
                    sets.append("promoted_by = ?")
                    args.append(promoted_by)
                if note is not None:
                    sets.append("note = ?")
                    args.append(note)
                self.db.execute(f"UPDATE facts SET {', '.join(sets)} WHERE id = ?", (*args, r["id"]))
                if r["status"] != status:
                    self._event(r["id"], r["status"], status, note)
        return [self.get(i) for i in ids]

    def to_unlearn(self) -> list[Fact]:
        """Facts that were consolidated and later superseded or forgotten, not yet unlearned."""
        rows = self.db.execute(
            "SELECT * FROM facts WHERE consolidated_at IS NOT NULL AND unlearned_at IS NULL"
            " AND status IN ('superseded', 'forgotten', 'rejected') ORDER BY updated_at, id"
        ).fetchall()
        return [self._fact_from_row(r) for r in rows]

    def mark_unlearned(self, ids: Iterable[str]) -> None:
        """The weights no longer hold these facts; forgotten ones lose their text and value now."""
        with self.transaction():
            now = now_iso()
            for i in ids:
                cur = self.db.execute("UPDATE facts SET unlearned_at = ? WHERE id = ?", (now, i))
                if not cur.rowcount:
                    raise UserError(f"no fact with id {i!r}")
                if self.db.execute("SELECT status FROM facts WHERE id = ?", (i,)).fetchone()[0] == "forgotten":
                    self.erase_fact(i)

    def erase_fact(self, fid: str) -> None:
        """Drop a forgotten fact's text, value and embedding (its id and history stay)."""
        self.db.execute("UPDATE facts SET text = '[forgotten]', value = '[forgotten]', embedding = NULL"
                        " WHERE id = ?", (fid,))

    def support_turn_ids(self, fid: str) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT turn_id FROM fact_support WHERE fact_id = ?", (fid,))]


def _counts(db: sqlite3.Connection) -> dict:
    r = db.execute("SELECT COUNT(*), COUNT(DISTINCT session), COALESCE(SUM(hidden), 0) FROM turns").fetchone()
    by_status = dict(db.execute("SELECT status, COUNT(*) FROM facts GROUP BY status").fetchall())
    return {"turns": r[0], "sessions": r[1], "hidden_turns": r[2], "facts": {s: by_status.get(s, 0) for s in STATUSES}}


def epoch(dt: datetime) -> float:
    return dt.timestamp()


def wall_time() -> tuple[str, float]:
    t = time.time()
    return datetime.fromtimestamp(t, timezone.utc).isoformat(timespec="seconds"), t
