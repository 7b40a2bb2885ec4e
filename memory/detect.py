"""Repetition detection: which facts has the user stated in enough distinct sessions?

Rules (see docs/memory.md):

* Only USER turns are read (assistant turns are never a source).
* Two statements are the same fact when their values agree (normalised string, or one
  contained in the other with the same numbers) AND either the attribute is the same or the
  canonical sentences are close in meaning (cosine ≥ `match_threshold`) with compatible
  relations ("my dog" ~ "my puppy" ~ "my pet", never "my dog" ~ "my cat").
* A fact becomes a `candidate` when it is stated in ≥ `min_sessions` DISTINCT sessions;
  repeats inside one session do not count.
* Updates: for a single-valued attribute (home city, employer, car, office location, a
  spouse's name…) the most recent statement wins. An older fact with a different value is
  `superseded` (superseded_by = the newer fact) as soon as the newer value is stated. The
  newer fact needs its own `min_sessions` support to become a candidate — except when it was
  stated with explicit update wording ("now", "moved to", "new", "switched", "changed")
  and the fact it replaces was already a candidate or consolidated: then it is a candidate
  at once (the user is correcting something the agent already relies on).
  Multi-valued attributes (allergies, languages, instruments, sisters' names, pets' names)
  never supersede each other.
* A forgotten fact stays forgotten: later statements of it are recorded but hidden from
  retrieval. A rejected fact stays rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from config import Settings
from memory.facts import (
    ExtractedFact,
    attribute_key,
    extract_facts,
    is_multi_valued,
    value_key,
    values_compatible,
)
from memory.ledger import ACTIVE, Fact, Ledger, fact_id

__all__ = ["DetectReport", "detect", "same_fact"]


@dataclass
class DetectReport:
    turns_scanned: int = 0
    statements: int = 0
    new_facts: list[str] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    hidden_turns: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "turns_scanned": self.turns_scanned,
            "statements": self.statements,
            "new_facts": len(self.new_facts),
            "promoted": len(self.promoted),
            "superseded": len(self.superseded),
        }


_REL_GROUPS = [
    {"dog", "puppy", "pet"},
    {"cat", "kitten", "pet"},
    {"wife", "spouse", "partner"},
    {"husband", "spouse", "partner"},
    {"boyfriend", "partner"},
    {"girlfriend", "partner"},
    {"fiancé", "fiancée", "partner"},
    {"son", "kid", "child", "baby"},
    {"daughter", "kid", "child", "baby"},
    {"boss", "manager", "supervisor"},
]


def _rel(attr: str) -> str | None:
    m = re.fullmatch(r"(?:.+ )?([\w\-éè]+)'s (?:name|home city|employer)", attr)
    return m.group(1) if m else None


def _attributes_compatible(a: str, b: str) -> bool:
    if a == b:
        return True
    ra, rb = _rel(a), _rel(b)
    if ra is None and rb is None:
        return True  # leave it to the embedding
    if ra is None or rb is None:
        return False
    if a.split("'s ")[1] != b.split("'s ")[1]:
        return False
    if ra == rb:
        return True
    return any(ra in g and rb in g for g in _REL_GROUPS)


def same_fact(attr_a: str, val_a: str, emb_a, attr_b: str, val_b: str, emb_b, threshold: float) -> bool:
    """Do two statements state the same fact? (see module docstring)"""
    if not values_compatible(val_a, val_b):
        return False
    if attr_a == attr_b:
        return True
    if not _attributes_compatible(attr_a, attr_b):
        return False
    if emb_a is None or emb_b is None:
        return False
    return float(np.dot(emb_a, emb_b)) >= threshold


@dataclass
class _Live:
    fact: Fact
    sessions: set


def detect(ledger: Ledger, embedder, settings: Settings) -> DetectReport:
    """Scan new user turns, record fact statements, update statuses. One transaction."""
    report = DetectReport()
    min_sessions = settings.memory.min_sessions
    threshold = settings.memory.match_threshold
    pending = ledger.pending_user_turns()
    report.turns_scanned = len(pending)

    statements: list[tuple[object, ExtractedFact]] = []
    for row in pending:
        for ef in extract_facts(row["content"]):
            statements.append((row, ef))
    report.statements = len(statements)
    vecs = embedder.encode([ef.text for _, ef in statements]) if statements else []

    with ledger.transaction():
        live: dict[str, _Live] = {
            f.id: _Live(f, set(f.sessions)) for f in ledger.facts()
        }
        touched: set[str] = set()
        update_promote: set[str] = set()

        for (row, ef), vec in zip(statements, vecs):
            attr = attribute_key(ef.attribute)
            # 1. match an existing fact (exact attribute first, then by meaning)
            match: _Live | None = None
            best = -1.0
            for lv in live.values():
                f = lv.fact
                if f.attribute == attr and values_compatible(f.value, ef.value):
                    match, best = lv, 2.0
                    break
                if same_fact(attr, ef.value, vec, f.attribute, f.value, f.embedding, threshold):
                    sim = float(np.dot(vec, f.embedding))
                    if sim > best:
                        match, best = lv, sim
            if match is None:
                fid = fact_id(attr, value_key(ef.value))
                if ledger.upsert_fact(id=fid, text=ef.text, subject=ef.subject, attribute=attr,
                                      value=ef.value, time=row["time"], ts=row["ts"],
                                      embedding=vec):
                    report.new_facts.append(fid)
                match = _Live(ledger.get(fid), set())
                live[fid] = match
            f = match.fact
            ledger.add_support(f.id, row["id"], row["session"], row["time"], row["ts"], ef.update)
            match.sessions.add(row["session"])
            f.last_ts = max(f.last_ts, row["ts"])
            touched.add(f.id)

            if f.status == "forgotten":
                report.hidden_turns.append(row["id"])
                continue
            if f.status == "rejected":
                continue

            # 2. a superseded fact stated again after its replacement comes back
            if f.status == "superseded":
                newer = live.get(f.superseded_by or "")
                if newer is None or row["ts"] >= newer.fact.last_ts:
                    ledger.set_status(f.id, "observed", note="stated again")
                    f.status, f.superseded_by = "observed", None
                else:
                    continue

            # 3. updates of single-valued attributes: most recent statement wins
            if is_multi_valued(attr):
                continue
            for other in list(live.values()):
                o = other.fact
                if o.id == f.id or o.attribute != attr or o.status not in ACTIVE:
                    continue
                if values_compatible(o.value, f.value):
                    continue
                if o.last_ts <= row["ts"]:
                    if ef.update and o.status in ("candidate", "consolidated"):
                        update_promote.add(f.id)
                    ledger.set_status(o.id, "superseded", superseded_by=f.id,
                                      note=f"replaced by {f.id}" + (" (explicit update)" if ef.update else ""))
                    o.status, o.superseded_by = "superseded", f.id
                    report.superseded.append(o.id)
                else:  # the other one is newer: this statement is old news
                    ledger.set_status(f.id, "superseded", superseded_by=o.id,
                                      note=f"older than {o.id}")
                    f.status, f.superseded_by = "superseded", o.id
                    report.superseded.append(f.id)
                    break

        # 4. promotion
        for fid in touched:
            lv = live[fid]
            f = lv.fact
            if f.status != "observed":
                continue
            if len(lv.sessions) >= min_sessions:
                ledger.set_status(fid, "candidate", promoted_by="sessions",
                                  note=f"stated in {len(lv.sessions)} sessions")
                f.status = "candidate"
                report.promoted.append(fid)
            elif fid in update_promote:
                ledger.set_status(fid, "candidate", promoted_by="update",
                                  note="explicit update of a known fact")
                f.status = "candidate"
                report.promoted.append(fid)

        ledger.hide_turns(report.hidden_turns)
        ledger.mark_detected([r["id"] for r in pending])
    return report
