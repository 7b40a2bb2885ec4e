"""Does a memory of many shards slow every answer? The same questions, answered by the same adapter,
once under one shard's scope and once with 13 shards loaded under the scope of 500 facts.

    python bench/shards.py [--questions 60]

One 10-fact adapter is trained (a round as the product runs it, ~2.5 min), then copied into 13
shard files, so that only what many shards change (more keys to compare, more adapters loaded,
the choice of shard) differs between the two runs, not what the adapters learned. The 13-shard
scope is persona_large.json's first 500 facts in shards of 40; the questions are held-out
paraphrases of the first shard's facts. Per question: the scope's choice with the question not
yet embedded (what `--no-retrieval` chat pays) and the whole answer (choice included).

Writes bench/results/shards.json.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.engine import Engine  # noqa: E402
from bench.common import write_result  # noqa: E402
from config import load_settings  # noqa: E402
from config.models import resolve_model_path  # noqa: E402
from consolidation.live import embedder_for  # noqa: E402
from consolidation.registry import Registry  # noqa: E402
from consolidation.scope import Scope  # noqa: E402
from consolidation.synthesize import synthesize  # noqa: E402
from bench.evaluate import consolidate_facts, machine, persona, threads  # noqa: E402


def timed(engine, embedder, paths, scope, questions) -> dict:
    """Median ms of choosing a shard and of answering, each with the question not yet embedded."""
    engine.set_adapters(paths, scope=scope)
    engine.answer(questions[0])  # first-answer allocations
    picks, answers, routed = [], [], 0
    for q in questions:
        embedder.clear_cache()
        t = time.perf_counter()
        scope.pick(q)
        picks.append(1000 * (time.perf_counter() - t))
        embedder.clear_cache()
        t = time.perf_counter()
        engine.answer(q)
        answers.append(1000 * (time.perf_counter() - t))
        routed += engine.last_routed
    engine.set_adapter(None)
    return {"shards": len(paths), "keys": len(scope.keys), "pick_ms": statistics.median(picks),
            "answer_ms": statistics.median(answers), "answer_ms_mean": statistics.mean(answers),
            "routed": routed, "n": len(questions)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "shards.json")
    args = ap.parse_args()
    t0 = time.perf_counter()
    settings = load_settings()
    c = settings.consolidation
    engine = Engine(resolve_model_path(settings), settings.model)
    embedder = embedder_for(settings)
    facts = persona("persona_large.json")[:500]
    with tempfile.TemporaryDirectory(prefix="hippo-shards-") as tmp:
        registry = Registry(Path(tmp) / "registry")
        m, wall = consolidate_facts(settings, engine, facts[:10], set(), None, registry)
        if not m["passed"]:
            sys.exit(f"error: the 10-fact round did not pass its gate: {m['failures']}")
        trained = registry.current().shards[0].gguf
        copies = []
        for i in range(-(-len(facts) // c.shard_size)):
            copies.append(Path(tmp) / f"s{i:03d}" / "adapter.gguf")
            copies[-1].parent.mkdir()
            shutil.copy(trained, copies[-1])
        scopes = [Scope.of_groups(synthesize(facts[i:i + c.shard_size], c.examples_per_fact), embedder,
                                  c.scope_threshold) for i in range(0, len(facts), c.shard_size)]
        questions = [qa.question for g in synthesize(facts[:c.shard_size], c.examples_per_fact)
                     for qa in g.heldout[:2]][:args.questions]
        runs = [timed(engine, embedder, copies[:1], scopes[0], questions),
                timed(engine, embedder, copies, Scope.combine(scopes), questions),
                timed(engine, embedder, copies[:1], scopes[0], questions)]  # again: drift of the machine
    out = {"facts": len(facts), "round_s": wall, "runs": runs, "machine": machine(),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "wall_s": time.perf_counter() - t0,
           "command": "python bench/shards.py " + " ".join(sys.argv[1:]), "threads": threads(settings)}
    write_result(args.out, out)


if __name__ == "__main__":
    main()
