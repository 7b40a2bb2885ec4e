"""Engine benchmark: decode speed with/without an adapter, swap latency, first-token latency.

    python bench/engine.py [--tokens 128] [--swaps 30] [--rank 16]

Uses a random LoRA of the given rank on every linear layer (same cost as a trained one).
Prints a table and writes bench/results/engine.json.
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.engine import Engine  # noqa: E402
from config import load_settings  # noqa: E402
from config.models import resolve_model_path  # noqa: E402

PROMPT = "Write a long story about a lighthouse keeper and the sea."
LINEAR = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def random_adapter(engine: Engine, rank: int, path: Path) -> Path:
    import gguf

    rng = np.random.default_rng(0)
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
    args = ap.parse_args()

    import llama_cpp

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
        engine.close()

        rebuilds = []
        for _ in range(3):
            t0 = time.perf_counter()
            llm = llama_cpp.Llama(model_path=str(model), n_ctx=settings.model.n_ctx, lora_path=str(adapter),
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
    }
    print(f"model {model.name}, LoRA rank {args.rank} on all linear layers, {result['machine']}")
    print(f"  decode tok/s       base {base['decode_tok_s']:7.1f}   with adapter {with_adapter['decode_tok_s']:7.1f}"
          f"   ratio {result['adapter_vs_base_decode']:.3f}")
    print(f"  first token ms     base {base['first_token_ms']:7.1f}   with adapter {with_adapter['first_token_ms']:7.1f}")
    print(f"  swap ms (median of {len(swaps)})  {result['swap_ms_median']:.2f}  (p90 {result['swap_ms_p90']:.2f});"
          f" remove {result['remove_ms_median']:.2f}")
    print(f"  rebuild Llama with lora_path: {result['rebuild_llama_ms_median']:.0f} ms")
    out = Path(__file__).parent / "results" / "engine.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
