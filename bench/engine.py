"""Engine benchmark: decode speed with/without an adapter, swap latency, first-token latency,
and memory shards at scale.

    python bench/engine.py [--tokens 128] [--swaps 30] [--rank 16] [--facts 500]

Uses random LoRAs of the given rank on every linear layer (same cost as trained ones). Shards:
one adapter per `consolidation.shard_size` facts of bench/data/persona_large.json, all loaded
(the RSS they add), and the combined scope gate over those facts' trained questions with the
real MiniLM: milliseconds to choose a shard for each held-out question once chat's retrieval has
embedded it (the embedder keeps the vector), the embedding itself, and how often the chosen shard
is the one holding the fact. Prints a table and writes bench/results/engine.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.engine import Engine  # noqa: E402
from config import load_settings  # noqa: E402
from config.models import open_llama, resolve_model_path  # noqa: E402

PROMPT = "Write a long story about a lighthouse keeper and the sea."
LINEAR = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def random_adapter(engine: Engine, rank: int, path: Path, seed: int = 0) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), arch=engine.architecture)
    w.add_string("general.type", "adapter")
    w.add_string("adapter.type", "lora")
    w.add_float32("adapter.lora.alpha", 2.0 * rank)
    w.add_string("hippo.base_model.sha256", engine.base_sha256)
    for name, shape in sorted(engine.tensor_shapes().items()):
        if name.endswith(".weight") and name.split(".")[-2] in LINEAR:
            n_out, n_in = shape
            w.add_tensor(name + ".lora_a", (rng.standard_normal((rank, n_in)) * 0.01).astype(np.float32))
            w.add_tensor(name + ".lora_b", (rng.standard_normal((n_out, rank)) * 0.01).astype(np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    return path


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def shards(engine: Engine, settings, rank: int, n_facts: int, tmp: Path) -> dict:
    """All shards of `n_facts` facts loaded: added RSS, time to choose a shard, choice accuracy."""
    from consolidation.live import embedder_for
    from consolidation.scope import Scope
    from consolidation.synthesize import synthesize

    data = json.loads((Path(__file__).parent / "data" / "persona_large.json").read_text())[:n_facts]
    facts = [SimpleNamespace(id=f"f{i:03d}", attribute=d["attribute"], value=d["value"],
                             text=f"My {d['attribute']} is {d['value']}.") for i, d in enumerate(data)]
    size = settings.consolidation.shard_size
    chunks = [facts[i:i + size] for i in range(0, len(facts), size)]
    embedder = embedder_for(settings)
    scopes, owner_of = [], {}
    for k, chunk in enumerate(chunks):
        groups = synthesize(chunk, settings.consolidation.examples_per_fact)
        scopes.append(Scope.of_groups(groups, embedder, settings.consolidation.scope_threshold))
        owner_of.update({f.id: k for f in chunk})
    scope = Scope.combine(scopes)
    paths = [random_adapter(engine, rank, tmp / f"s{k:03d}.gguf", seed=k) for k in range(len(chunks))]
    engine.set_adapter(None)
    before = rss_mb()
    t0 = time.perf_counter()
    engine.set_adapters(paths, scope=scope)
    load_ms = (time.perf_counter() - t0) * 1000
    added = rss_mb() - before
    heldout = [qa for g in synthesize(facts, 1) for qa in g.heldout]
    heldout = heldout[:: max(1, len(heldout) // 300)]  # about 300 questions, every fact's kind
    pick_ms, embed_ms, right = [], [], 0
    for qa in heldout:
        t0 = time.perf_counter()
        embedder.encode([qa.question])  # what retrieval does first in a chat turn
        t1 = time.perf_counter()
        shard = scope.pick(qa.question)
        pick_ms.append((time.perf_counter() - t1) * 1000)
        embed_ms.append((t1 - t0) * 1000)
        right += shard == owner_of[qa.fact_ids[0]]
    engine.set_adapter(None)
    return {"facts": n_facts, "shards": len(chunks), "shard_size": size, "scope_keys": len(scope.keys),
            "rss_added_mb": added, "load_all_ms": load_ms, "pick_ms_median": statistics.median(pick_ms),
            "pick_ms_p90": sorted(pick_ms)[int(0.9 * len(pick_ms))], "embed_ms_median": statistics.median(embed_ms),
            "questions": len(heldout), "right_shard": right / len(heldout)}


def decode(engine: Engine, n_tokens: int, repeats: int = 3) -> dict:
    """Median first-token latency (prompt eval, cache cleared) and decode tok/s."""
    firsts, rates = [], []
    for _ in range(repeats):
        engine._clear_cache()
        t0 = time.perf_counter()
        t_first, count = None, 0
        for chunk in engine.llm.create_completion(PROMPT, max_tokens=n_tokens, temperature=0.0, top_k=1,
                                                  stop=[], stream=True):
            count += 1
            if t_first is None:
                t_first = time.perf_counter()
        t_end = time.perf_counter()
        firsts.append((t_first - t0) * 1000)
        rates.append((count - 1) / (t_end - t_first))
    return {"first_token_ms": statistics.median(firsts), "decode_tok_s": statistics.median(rates), "tokens": count}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--swaps", type=int, default=30)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--facts", type=int, default=500, help="memory shards: facts of persona_large.json")
    args = ap.parse_args()

    settings = load_settings()
    model = resolve_model_path(settings)
    engine = Engine(model, settings.model)
    with tempfile.TemporaryDirectory() as tmp:
        adapter = random_adapter(engine, args.rank, Path(tmp) / "random.gguf")
        base = decode(engine, args.tokens)
        engine.set_adapter(adapter)
        with_adapter = decode(engine, args.tokens)

        swaps = []
        for _ in range(args.swaps):
            t0 = time.perf_counter()
            engine.set_adapter(adapter)
            swaps.append((time.perf_counter() - t0) * 1000)
        removals = []
        for _ in range(args.swaps):
            t0 = time.perf_counter()
            engine.set_adapter(None)
            removals.append((time.perf_counter() - t0) * 1000)
            engine.set_adapter(adapter)
        sharded = shards(engine, settings, args.rank, args.facts, Path(tmp))
        engine.close()

        rebuilds = []
        for _ in range(3):
            t0 = time.perf_counter()
            llm = open_llama(model_path=str(model), n_ctx=settings.model.n_ctx, lora_path=str(adapter),
                             n_threads=os.cpu_count(), verbose=False)
            rebuilds.append((time.perf_counter() - t0) * 1000)
            llm.close()

    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d"),
        "model": model.name,
        "adapter_rank": args.rank,
        "base": base,
        "with_adapter": with_adapter,
        "adapter_vs_base_decode": with_adapter["decode_tok_s"] / base["decode_tok_s"],
        "swap_ms_median": statistics.median(swaps),
        "swap_ms_p90": sorted(swaps)[int(0.9 * len(swaps))],
        "remove_ms_median": statistics.median(removals),
        "rebuild_llama_ms_median": statistics.median(rebuilds),
        "n_swaps": len(swaps),
        "shards": sharded,
    }
    print(f"model {model.name}, LoRA rank {args.rank} on all linear layers, {result['machine']}")
    print(f"  decode tok/s       base {base['decode_tok_s']:7.1f}   with adapter {with_adapter['decode_tok_s']:7.1f}"
          f"   ratio {result['adapter_vs_base_decode']:.3f}")
    print(f"  first token ms     base {base['first_token_ms']:7.1f}   with adapter {with_adapter['first_token_ms']:7.1f}")
    print(f"  swap ms (median of {len(swaps)})  {result['swap_ms_median']:.2f}  (p90 {result['swap_ms_p90']:.2f});"
          f" remove {result['remove_ms_median']:.2f}")
    print(f"  rebuild Llama with lora_path: {result['rebuild_llama_ms_median']:.0f} ms")
    print(f"  {sharded['facts']} facts in {sharded['shards']} shards of {sharded['shard_size']}: all loaded add "
          f"{sharded['rss_added_mb']:.0f} MB RSS ({sharded['load_all_ms']:.0f} ms); choosing a shard "
          f"{sharded['pick_ms_median']:.1f} ms median (p90 {sharded['pick_ms_p90']:.1f}) over {sharded['scope_keys']} "
          f"keys after retrieval embedded the question ({sharded['embed_ms_median']:.1f} ms); right shard for "
          f"{sharded['right_shard']:.1%} of {sharded['questions']} held-out questions")
    out = Path(__file__).parent / "results" / "engine.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
