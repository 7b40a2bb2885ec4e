"""Sharded long-term memory: facts in groups of bounded size, one LoRA adapter per group.

One adapter holds about 40 facts well; at 160 its held-out recall and retention fell below the
gate (bench/results/evaluate-scaling.json). So facts go into shards of at most
`consolidation.shard_size`, in the order they were learned (time, not topic: a new fact never
moves an old one), and a round retrains only the shards whose fact set changed: a new fact, an
update, a fact superseded or forgotten. A shard that lost a fact retrains from the base model on
exactly its facts, so forgetting is exact for its shard (SISA-style) and costs one shard's
training. A shard that only gained facts may train on from its adapter: those weights have seen
no fact but the shard's own, all still live.
The scope gate, which already finds the nearest trained question, also picks the shard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence


@dataclass
class PlannedShard:
    """A shard of the next version: its facts (FactLike) and whether it must be (re)trained."""

    id: str
    facts: list = field(default_factory=list)
    changed: bool = False
    grown: bool = False  # it only gained facts: its adapter may be trained on from where it was


def plan_shards(previous: Sequence, facts: Sequence, size: int, replaces: dict[str, str] | None = None,
                retrain_all: bool = False) -> list[PlannedShard]:
    """Assign `facts` (the whole live fact set, oldest first) to shards of at most `size`.

    `previous`: the shards of the live version (registry.ShardFiles: `id`, `facts` ids); a fact
    keeps its shard. `replaces`: new fact id → id of the fact it supersedes; the update goes into
    that fact's shard when it has room, so one shard retrains, not two. Other new facts fill the
    newest shard, then open a new one. A shard is `changed` when its fact ids differ from before
    (or `retrain_all`: another base model), and `grown` when it kept every earlier fact and gained
    some; shards left empty are dropped.
    """
    if size < 1:
        raise ValueError("shard size must be at least 1")
    replaces = replaces or {}
    live = {f.id: f for f in facts}
    shards = [PlannedShard(s.id, [live[i] for i in s.facts if i in live]) for s in previous]
    for shard, before in zip(shards, previous):
        shard.changed = retrain_all or len(shard.facts) != len(before.facts)
    kept = {s.id for s in shards if not s.changed}  # every earlier fact still there
    home = {f.id: shard for shard in shards for f in shard.facts}
    held_before = {i: shard for shard, before in zip(shards, previous) for i in before.facts}
    for f in facts:
        if f.id in home:
            continue
        target = held_before.get(replaces.get(f.id, ""))
        if target is None or len(target.facts) >= size:
            target = shards[-1] if shards and len(shards[-1].facts) < size else None
        if target is None:
            target = PlannedShard(_next_id(shards))
            shards.append(target)
        target.facts.append(f)
        target.changed = True
        home[f.id] = target
    for s in shards:
        s.grown = s.changed and s.id in kept
    return [s for s in shards if s.facts]


def _next_id(shards: Sequence[PlannedShard]) -> str:
    return f"s{max((int(s.id[1:]) for s in shards), default=0) + 1:03d}"
