"""Absence by routing: does a question about something the user never said reach the adapters?

    python bench/absence.py [--facts 100 500]

An adapter answers every personal question with something it learned, so the scope gate keeps
"never said" questions away from it (consolidation/scope.py: the question must ask what a learned
fact answers, of whom it was said). A question the gate sends to the base model cannot come back
with a learned value; one it lets in may (the publish gate's `absence` measures the answers).
No model runs here: only the real MiniLM and the scope, so it takes a minute.

1. probe: bench/data/absence_probe/{dev,test}.json, 40 users each, written by two helper
   sessions that never read the routing code: each user's facts, questions about them in fresh
   wording ("said": must be let in) and questions about what they never said, by kind ("never":
   must be kept out). One scope per user, as one shard. The rules were tuned looking at dev's
   misses; test was written after them and only its counts are ever printed.
2. scale: the first N facts of bench/data/persona_large.json in shards of
   `consolidation.shard_size`: the publish gate's never-said questions (consolidation/absence.py,
   held-out wording) kept out, every fact's held-out paraphrases let in to the right shard, and
   the milliseconds choosing costs once chat has embedded the turn's texts, and what that embedding
   costs: the question alone (retrieval) against the turn's texts in one pass (a question naming
   someone adds itself with that someone made anyone; agent/operations.context_for).

Writes bench/results/absence-routing.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from config import load_settings  # noqa: E402
from consolidation.absence import absent_questions, people_named  # noqa: E402
from consolidation.live import embedder_for  # noqa: E402
from consolidation.scope import Scope  # noqa: E402
from consolidation.shards import plan_shards  # noqa: E402
from consolidation.synthesize import synthesize  # noqa: E402

DATA = Path(__file__).parent / "data"


def _facts(rows: list[dict]) -> list[SimpleNamespace]:
    return [SimpleNamespace(id=f"f{i:03d}", attribute=r["attribute"], value=r["value"],
                            text=f"My {r['attribute']} is {r['value']}.") for i, r in enumerate(rows)]


def probe(settings, embedder, split: str) -> dict:
    """Each probe user's never-said questions kept out (by kind) and said questions let in."""
    users = json.loads((DATA / "absence_probe" / f"{split}.json").read_text())["users"]
    c = settings.consolidation
    out, let_in = defaultdict(list), []
    examples = defaultdict(list)
    for user in users:
        scope = Scope.of_groups(synthesize(_facts(user["facts"]), c.examples_per_fact), embedder, c.scope_threshold)
        for q in user["never"]:
            kept_out = scope.pick(q["question"]) is None
            out[q["kind"]].append(kept_out)
            if not kept_out:
                examples[q["kind"]].append(q["question"])
        for q in user["said"]:
            let_in.append(scope.pick(q["question"]) is not None)
            if not let_in[-1]:
                examples["said, kept out"].append(q["question"])
    kinds = {k: {"kept_out": sum(v) / len(v), "n": len(v)} for k, v in sorted(out.items())}
    every = [x for v in out.values() for x in v]
    return {"users": len(users), "never_kept_out": sum(every) / len(every), "n_never": len(every),
            "by_kind": kinds, "said_let_in": sum(let_in) / len(let_in), "n_said": len(let_in),
            **({"examples": {k: v[:8] for k, v in examples.items()}} if split == "dev" else {})}


def scale(settings, embedder, n_facts: int) -> dict:
    """persona_large's first `n_facts` facts in shards: never-said kept out, paraphrases to their shard."""
    c = settings.consolidation
    facts = _facts(json.loads((DATA / "persona_large.json").read_text())[:n_facts])
    shards = plan_shards([], facts, c.shard_size)
    groups = [synthesize(s.facts, c.examples_per_fact) for s in shards]
    scope = Scope.combine([Scope.of_groups(g, embedder, c.scope_threshold) for g in groups])
    owner = {f.id: k for k, s in enumerate(shards) for f in s.facts}
    every = [g for gs in groups for g in gs]
    absent = absent_questions(every, [f.attribute for f in facts], [f.value for f in facts], "heldout", 1)
    let_in = [scope.pick(qa.question) is not None for qa in absent]
    picks, ms, ms_someone, embed = [], [], [], defaultdict(list)
    for qa in (qa for g in every for qa in g.heldout):
        q, someone = qa.question, bool(people_named(qa.question))
        embedder.clear_cache()
        t0 = time.perf_counter()
        embedder.encode([q])  # retrieval alone
        embed["question" + (" naming someone" if someone else "")].append((time.perf_counter() - t0) * 1000)
        embedder.clear_cache()
        t0 = time.perf_counter()
        embedder.encode(scope.texts(q) or [q])  # what chat embeds first (agent/operations.context_for)
        embed["turn" + (" naming someone" if someone else "")].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        picks.append((scope.pick(q), owner[qa.fact_ids[0]]))
        (ms_someone if someone else ms).append((time.perf_counter() - t0) * 1000)
    return {"facts": n_facts, "shards": len(shards), "never_kept_out": 1 - sum(let_in) / max(1, len(let_in)),
            "n_never": len(absent), "heldout_let_in": sum(p is not None for p, _ in picks) / len(picks),
            "heldout_right_shard": sum(p == want for p, want in picks) / len(picks), "n_heldout": len(picks),
            "pick_ms": _spread(ms), "pick_ms_naming_someone": _spread(ms_someone),
            "embed_ms": {k: _spread(v) for k, v in embed.items()}}


def _spread(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {"median": statistics.median(ms), "p90": ms[int(0.9 * len(ms))], "n": len(ms)} if ms else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facts", type=int, nargs="+", default=[100, 500], help="persona_large sizes for the scale part")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "absence-routing.json")
    args = ap.parse_args()
    settings = load_settings()
    embedder = embedder_for(settings)
    t0 = time.perf_counter()
    result = {"probe": {split: probe(settings, embedder, split) for split in ("dev", "test")}, "scale": [scale(settings, embedder, n) for n in args.facts],
              "scope_threshold": settings.consolidation.scope_threshold,
              "shard_size": settings.consolidation.shard_size,
              "machine": f"{platform.machine()}, {platform.system()}", "date": time.strftime("%Y-%m-%d %H:%M UTC"),
              "wall_s": time.perf_counter() - t0,
              "command": "python bench/absence.py" + (f" --facts {' '.join(map(str, args.facts))}"
                                                      if args.facts != [100, 500] else "")}
    write_result(args.out, result)


if __name__ == "__main__":
    main()
