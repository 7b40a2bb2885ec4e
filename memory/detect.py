"""Repetition detection: which facts has the user stated in enough distinct sessions?

Rules (see docs/memory.md):

* Only USER turns are read, each with the turns before it in its session as context (the
  assistant's words can resolve a reference, never be a fact on their own: `memory.extract`).
* Two statements are the same fact when their values agree (normalised string, one contained
  in the other with the same numbers, word forms joined: "welder" ~ "welding") AND either the
  attribute is the same or the canonical sentences are close in meaning (cosine ≥
  `match_threshold`) with compatible relations ("my dog" ~ "my puppy", never "my dog" ~ "my cat").
* A stable fact becomes a `candidate` when it is stated in ≥ `min_sessions` DISTINCT sessions;
  repeats inside one session do not count. A name counts as said again when the user names that
  person or pet in their own words in another session ("my sister Femke lives in Cape Town" …
  days later "femke sent pics of a penguin"): people say who someone is once and then use the
  name. So does a value of the user's own that the extractor wrote as a proper name ("Leeds",
  "Honda Jazz"), or that fills an attribute taking names however it was typed ("tucson"; not a
  workplace such as "the office"), and that is no other fact's value, or only the value of an attribute that does not take
  names (a hobby "cardiff" beside a home city "Cardiff"); never a common word ("the neighbour's dog"),
  nor a name after an article ("a dev" names no Dev), and a value in capitals ("IT") only in capitals
  ("it stresses me out" names no IT), nor a name in what the user imagines or plans ("summer plans:
  learning japanese") or quotes.
  Episodic facts (one-off events) are recorded but never become candidates.
* Updates: for a single-valued attribute (home city, employer, car, a spouse's name, any attribute
  the shapes table does not call multi-valued) the newer value wins once it was stated as an
  explicit update ("I moved to Bergen") or in as many sessions as the older one and at least
  `min_sessions`: the older fact is then `superseded` (superseded_by = the newer fact). One stray
  mention of another city overturns nothing (extraction is noisy: "I tutor kids in Lagos" can read
  as a home city), not even a city said once before, which can still gather its own sessions.
  An employer named as a workplace ("I started at Kestrel Shipping") fills the employer's place.
  Multi-valued attributes (allergies, hobbies, siblings' names) never supersede. The newer fact needs its own `min_sessions` support to become a candidate — except when it was
  stated as an explicit update and the fact it replaces was already a candidate or
  consolidated: then it is a candidate at once (the user is correcting something the agent
  already relies on).
* A forgotten fact stays forgotten: later statements of it are recorded but hidden from
  retrieval. A rejected fact stays rejected.
* The write-path gate (`memory.admission`) refuses role-shaped and instruction-shaped turns
  (known markers, structure people do not type in chat, and a learned sentence check over the
  turn's MiniLM vectors) and implausible values before any matching: such a statement becomes
  (or stays) a `rejected` fact with the reason as its note, and never supports another fact. A
  refusal by the learned check alone makes the statement doubted (no rejected fact): it supports its
  fact, and counts toward `min_sessions`, only once the fact is also stated in a turn no check doubted,
  and it updates nothing. The check misjudges ordinary chat now and then (about 1 user turn in 12 of
  the natural dev set), and people seldom state a fact more than twice; an injection repeated in
  doubted turns still never becomes a candidate. A message with an *impossible* value (an age of 4,000, a
  file path as a puppy's name) is refused whole: every statement of it is rejected.
  Each turn with statements is screened once per batch (its stored vector reused when the turn is
  one sentence).

Extraction (the slow part) and recording (one short transaction) are separate steps, so the
daemon can extract without holding the memory lock: `pending_turns` → `memory.extract.extract`
→ `record`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from config import Settings
from memory.admission import refusal, screen, statement_refusals
from memory.extract import SESSION_TURNS, ExtractedFact, Extractor, TurnInput, extract
from memory.ledger import ACTIVE, Fact, Ledger, fact_id
from memory.shapes import is_multi_valued, is_name, relation_of, same_relation, takes_proper_names
from memory.values import attribute_key, stem, value_key, values_compatible
from memory.voice import addressed, mentions, statements as own_statements

__all__ = ["DetectReport", "PendingTurn", "detect", "pending_turns", "record", "same_fact"]

BATCH = 64  # user turns extracted and recorded per transaction


@dataclass
class DetectReport:
    turns_scanned: int = 0
    statements: int = 0
    new_facts: list[str] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    not_counted: int = 0  # statements of turns the learned check refused (doubted: they count only beside others)
    hidden_turns: list[int] = field(default_factory=list)

    def add(self, other: "DetectReport") -> "DetectReport":
        self.turns_scanned += other.turns_scanned
        self.statements += other.statements
        self.not_counted += other.not_counted
        for name in ("new_facts", "promoted", "superseded", "rejected", "hidden_turns"):
            getattr(self, name).extend(getattr(other, name))
        return self

    def to_dict(self) -> dict:
        return {
            "turns_scanned": self.turns_scanned,
            "statements": self.statements,
            "new_facts": len(self.new_facts),
            "promoted": len(self.promoted),
            "superseded": len(self.superseded),
            "rejected": len(self.rejected),
            "not_counted": self.not_counted,
        }


@dataclass(frozen=True)
class PendingTurn:
    """A user turn fact detection has not seen yet, with its session context."""

    id: int
    session: str
    time: str
    ts: float
    turn: TurnInput
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)  # the stored embedding


def _attributes_compatible(a: str, b: str) -> bool:
    if a == b:
        return True
    ra, rb = relation_of(a), relation_of(b)
    if ra is None and rb is None:
        return True  # leave it to the embedding
    if ra is None or rb is None:
        return False
    if a[len(ra):] != b[len(rb):]:
        return False
    return same_relation(ra, rb)


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


def _proper(value: str) -> bool:
    """Is the value a proper name ("Leeds", "Honda Jazz", "Kestrel Vale General Hospital"), as the extractor
    wrote it? People type lowercase; the extractor capitalises what it reads as a name."""
    words = re.findall(r"[^\W\d_][\w'-]*", value)
    return bool(words) and any(w[0].isupper() and w != "I" for w in words)


def _lowercase_name(fact: Fact) -> bool:
    """A place or employer the user typed in lowercase ("its already like 90 in tucson"): a value without an
    article, of a city, hometown or employer. Not a workplace ("the office") nor a car ("the bike is enough"):
    those are as often kinds of thing as names."""
    return (fact.attribute in _LOWERCASE_NAMED
            and not re.match(r"(?:the|a|an|my|our)\b", fact.value, re.IGNORECASE))


_LOWERCASE_NAMED = {"home city", "hometown", "birthplace", "employer"}


_ARTICLE_BEFORE = re.compile(r"\b(?:a|an|the)\s+$", re.IGNORECASE)


def _mentions(value: str, words: str, name: bool) -> bool:
    """Does the user name `value` in `words`? Any case ("femke sent pics"); a person's or pet's `name` not after
    an article ("my boyfriend is a dev" names no Dev; "a volvo" is the car); a value written in capitals ("IT",
    "NHS") only in capitals: "it stresses me out" names no IT."""
    found = [(b, a) for b, a in mentions(value, words) if not (name and _ARTICLE_BEFORE.search(b))]
    if value.isupper() and len(value.strip()) > 1:
        found = [(b, a) for b, a in found if value in words[len(b):len(words) - len(a)]]
    return bool(found)


def _slot(fact: Fact) -> str:
    """The one place a single value fills: an employer named as a workplace ("I started at Kestrel Shipping")
    replaces the employer ("freight forwarder at Marlin Logistics"); "the hospital" as a workplace replaces nothing."""
    if fact.attribute == "workplace" and _proper(fact.value):
        return "employer"
    return fact.attribute


def _outranks(attribute: str, other: str) -> bool:
    """Is a value both facts hold (the extractor read "cardiff" as a home city in one session, as a hobby in
    another) the first's rather than the other's: a home city, an employer, a name, but not a hobby?"""
    return takes_proper_names(attribute) and not takes_proper_names(other)


def _stated_otherwise(fact: Fact, stated: Sequence[Fact], named_by: set[str]) -> bool:
    """Does a turn that names `fact`'s value state it as someone else's? `stated`: the turn's facts holding
    the value; `named_by`: whose name the value is anywhere. A name of another ("my cousin is called zaria
    too") is; so is a misread fact of the user's own when the value names more than one ("zaria" the user's
    and the cousin's): the mention is then not this fact's to claim. A misread fact of the user's with a
    value that names only this one ("frikandel ate my durum" as a favourite food) is the dog's name again."""
    others = [o for o in stated if o.subject != fact.subject]
    if any(is_name(o.attribute) for o in others):
        return True
    return bool(others) and len(named_by | {fact.subject}) > 1


def _stems(value: str) -> set[str]:
    return {stem(t) for t in value_key(value).split()}


def _by_stem(facts: Sequence[Fact]) -> dict[str, list[Fact]]:
    """Facts by every word stem of their value: compatible values share one (`values_compatible`)."""
    index: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        for t in _stems(f.value):
            index[t].append(f)
    return index


@dataclass
class _Live:
    fact: Fact
    clean: set  # sessions with a statement of it that no check doubted
    doubted: set = field(default_factory=set)  # sessions where only the learned check's doubted turns said it
    updated: bool = False  # stated as an explicit update at least once

    @property
    def sessions(self) -> set:
        """The sessions that count: a doubted statement counts beside an undoubted one, never alone."""
        return self.clean | self.doubted if self.clean else set()

    @classmethod
    def of(cls, fact: Fact, updated: bool = False) -> "_Live":
        return cls(fact, set(fact.sessions) - set(fact.doubted), set(fact.doubted), updated)


def pending_turns(ledger: Ledger, limit: int | None = None) -> list[PendingTurn]:
    """User turns not yet detected, oldest first, each with its session context."""
    out = []
    for row in ledger.pending_user_turns(limit):
        context = tuple((r, t) for r, t in ledger.context(row["session"], row["turn_index"], SESSION_TURNS))
        vec = np.frombuffer(row["vector"], np.float32) if row["vector"] else None
        out.append(PendingTurn(row["id"], row["session"], row["time"], row["ts"], TurnInput(row["content"], context),
                               vec))
    return out


def detect(ledger: Ledger, embedder, settings: Settings, extractor: Extractor,
           progress: Callable[[int, int], None] | None = None) -> DetectReport:
    """Extract and record every pending user turn, `BATCH` turns per transaction."""
    report = DetectReport()
    total = ledger.pending_count()
    while True:
        batch = pending_turns(ledger, BATCH)
        if not batch:
            return report
        found = extract(extractor, [p.turn for p in batch])
        report.add(record(ledger, embedder, settings, batch, found))
        if progress:
            progress(min(report.turns_scanned, total), total)


def record(ledger: Ledger, embedder, settings: Settings, batch: Sequence[PendingTurn],
           found: Sequence[Sequence[ExtractedFact]]) -> DetectReport:
    """Record the facts extracted from `batch`, update statuses, mark the turns detected. One transaction."""
    still = ledger.still_pending([p.id for p in batch])  # another detection may have recorded some meanwhile
    found = [f for p, f in zip(batch, found) if p.id in still]
    batch = [p for p in batch if p.id in still]
    report = DetectReport(turns_scanned=len(batch))
    min_sessions = settings.memory.min_sessions
    threshold = settings.memory.match_threshold
    statements = [(p, ef) for p, facts in zip(batch, found) for ef in facts]
    report.statements = len(statements)
    vecs = embedder.encode([ef.text for _, ef in statements]) if statements else []
    # the gate's turn-level checks, once per turn that states something (outside the transaction)
    said = list({p.id: p for p, _ in statements}.values())
    turn_reasons = dict(zip([p.id for p in said], screen([p.turn.text for p in said], embedder,
                                                         [p.vector for p in said])))
    reasons = statement_refusals([(row.id, row.turn.text, attribute_key(ef.attribute), ef.value)
                                  for row, ef in statements], turn_reasons)

    with ledger.transaction():
        updated = ledger.updated_fact_ids()
        live: dict[str, _Live] = {f.id: _Live.of(f, f.id in updated) for f in ledger.facts()}
        touched: set[str] = set()
        update_promote: set[str] = set()

        for (row, ef), vec, reason in zip(statements, vecs, reasons):
            attr = attribute_key(ef.attribute)
            kind = "episodic" if ef.episodic else "stable"
            # 0. the write-path gate: refused statements are recorded as rejected facts, nothing more; a
            # statement only the learned check refused is doubted: it supports its fact (and counts) only beside
            # an undoubted statement of another session, and updates nothing (the check misjudges ordinary chat
            # now and then: "I'm lactose intolerant and Hungarian cafés put milk inside everything")
            doubted = reason is not None and reason.learned
            if doubted:
                report.not_counted += 1
            elif reason:
                fid = fact_id(("~" if ef.episodic else "") + attr, value_key(ef.value))
                if ledger.upsert_fact(id=fid, text=ef.text, subject=ef.subject, attribute=attr,
                                      value=ef.value, time=row.time, ts=row.ts, embedding=vec, kind=kind):
                    ledger.set_status(fid, "rejected", note=f"refused at the write path: {reason}")
                    report.rejected.append(fid)
                continue
            # 1. match an existing fact of the same kind (exact attribute first, then by meaning)
            match: _Live | None = None
            best = -1.0
            for lv in live.values():
                f = lv.fact
                if f.kind != kind:
                    continue
                if f.attribute == attr and values_compatible(f.value, ef.value):
                    match, best = lv, 2.0
                    break
                if same_fact(attr, ef.value, vec, f.attribute, f.value, f.embedding, threshold):
                    sim = float(np.dot(vec, f.embedding))
                    if sim > best:
                        match, best = lv, sim
            if match is None:
                fid = fact_id(("~" if ef.episodic else "") + attr, value_key(ef.value))
                if ledger.upsert_fact(id=fid, text=ef.text, subject=ef.subject, attribute=attr,
                                      value=ef.value, time=row.time, ts=row.ts, embedding=vec, kind=kind):
                    report.new_facts.append(fid)
                match = _Live(ledger.get(fid), set())
                live[fid] = match
            f = match.fact
            ledger.add_support(f.id, row.id, row.session, row.time, row.ts, ef.update and not doubted, doubted)
            (match.doubted if doubted else match.clean).add(row.session)
            f.last_ts = max(f.last_ts, row.ts)
            touched.add(f.id)

            if f.status == "forgotten":
                report.hidden_turns.append(row.id)
                continue
            if f.status == "rejected" or f.kind == "episodic" or doubted:
                continue

            # 2. a superseded fact stated again after its replacement comes back
            if f.status == "superseded":
                newer = live.get(f.superseded_by or "")
                if newer is None or row.ts >= newer.fact.last_ts:
                    ledger.set_status(f.id, "observed", note="stated again")
                    f.status, f.superseded_by = "observed", None
                else:
                    continue

            # 3. updates: the newer value wins when it was stated as an update or has been said in as many
            # sessions as the older one and in `min_sessions` (one stray mention overturns nothing); never for
            # multi-valued attributes (a new hobby does not end the others)
            match.updated = match.updated or ef.update
            if is_multi_valued(f.attribute):
                continue
            for other in list(live.values()):
                o = other.fact
                if o.id == f.id or _slot(o) != _slot(f) or o.status not in ACTIVE or o.kind == "episodic":
                    continue
                if values_compatible(o.value, f.value):
                    continue
                newer, older = (match, other) if o.last_ts <= row.ts else (other, match)
                if not (newer.updated or len(newer.sessions) >= max(len(older.sessions), min_sessions)):
                    continue  # the older value holds, for now
                if newer is match:
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

        # 4. a name said again: the person or pet the user named comes up in the own words of other sessions;
        # so does the user's own proper-name value ("Leeds", "Honda Jazz") whose attribute outranks every other
        # fact holding it
        values = _by_stem([lv.fact for lv in live.values() if lv.fact.status != "rejected"])
        said_again = []  # (fact, turn): added after the pass, so that no support found here decides another
        for lv in live.values():
            f = lv.fact
            if f.status != "observed" or f.kind != "stable":
                continue
            holders = [o for t in _stems(f.value) for o in values[t] if values_compatible(o.value, f.value)]
            if not (is_name(f.attribute) or (f.subject == "user" and (_proper(f.value) or _lowercase_name(f)) and all(
                    _outranks(f.attribute, o.attribute) for o in holders if o.attribute != f.attribute))):
                continue
            named_by = {o.subject for o in holders if is_name(o.attribute)}  # whose name the value is
            name = is_name(f.attribute)
            for t in ledger.user_turns_naming(f.value, exclude_sessions=lv.clean | lv.doubted):
                words = own_statements(t["content"], questions=True)  # not where it is imagined: "in my head i live in cornwall"
                if _mentions(f.value, words, name) and not addressed(f.value, words) and not _stated_otherwise(
                        f, [live[o].fact for o, v in ledger.turn_facts(t["id"]) if o in live and values_compatible(
                            v, f.value)], named_by) and refusal(f.attribute, f.value, t["content"], embedder) is None:
                    said_again.append((lv, t))
        for lv, t in said_again:
            ledger.add_support(lv.fact.id, t["id"], t["session"], t["time"], t["ts"], False)
            lv.clean.add(t["session"])
            touched.add(lv.fact.id)

        # 5. promotion
        for fid in touched:
            lv = live[fid]
            f = lv.fact
            if f.status != "observed" or f.kind == "episodic":
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
        ledger.mark_detected([p.id for p in batch])
    return report
