"""Consolidation benchmark: recall, retention, locality and wall time vs. number of facts.

    python bench/consolidation.py --facts 5 10 [--rounds 3] [--model PATH] [--set consolidation.anchors=128 ...]

Facts come from bench/data/persona.json (one user, distinct attributes, values the base model
cannot guess). With R rounds, round r consolidates the first r/R of the facts (a fresh
adapter each time, as the product does); retention is measured on facts of earlier rounds.
Writes bench/results/consolidation*.json and a PNG of recall/locality vs. fact count;
`--model PATH` runs another GGUF (results file consolidation-<file stem>.json unless --tag).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from agent.engine import Engine  # noqa: E402
from config import load_settings  # noqa: E402
from config.models import resolve_model_path  # noqa: E402
from consolidation.pipeline import build_candidate  # noqa: E402
from consolidation.registry import Registry  # noqa: E402

HERE = Path(__file__).parent
KEYS = ["efficacy", "recall", "retention", "locality", "locality_raw", "locality_personal",
        "locality_personal_raw", "knowledge", "knowledge_raw", "absence", "absence_declined", "n_absent", "ppl_drift",
        "scope_recall", "scope_false_positive", "train_steps", "train_tokens"]


def persona(n: int):
    data = json.loads((HERE / "data" / "persona.json").read_text())[:n]
    if len(data) < n:
        raise SystemExit(f"persona.json has only {len(data)} facts")
    return [SimpleNamespace(id=f"p{i:02d}", attribute=d["attribute"], value=d["value"],
                            text=f"My {d['attribute']} is {d['value']}.") for i, d in enumerate(data)]


def overrides(pairs: list[str]) -> dict:
    out: dict = {}
    for pair in pairs:
        key, _, raw = pair.partition("=")
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = json.loads(raw) if raw[:1] in "[{0123456789-tfn" else raw
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facts", type=int, nargs="+", default=[5, 10, 20, 40])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="settings override")
    ap.add_argument("--tag", default="", help="suffix of the results file")
    ap.add_argument("--model", type=Path, help="a GGUF to run and train instead of the configured one")
    args = ap.parse_args()

    settings = load_settings(**overrides(args.set + ([f"model.path={args.model}"] if args.model else [])))
    model_path = resolve_model_path(settings)
    tag = args.tag or (model_path.stem if args.model else "")
    engine = Engine(model_path, settings.model)
    runs = []
    for n in args.facts:
        facts = persona(n)
        done: list = []
        for r in range(1, args.rounds + 1):
            upto = max(1, round(n * r / args.rounds))
            batch = facts[:upto]
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                cand = build_candidate(settings, engine, batch, {f.id for f in done}, [], Registry(Path(tmp)),
                                       log=lambda m: None)
                wall = time.perf_counter() - t0
                shutil.rmtree(cand.staging, ignore_errors=True)
            row = {"facts": n, "round": r, "facts_in_round": len(batch), "wall_s": wall,
                   "seconds": cand.seconds, "passed": cand.gate.passed, "failures": cand.gate.failures,
                   **{k: cand.metrics.get(k) for k in KEYS},
                   "wrong": cand.gate.details["wrong"][:20], "changed": cand.gate.details["changed"][:20]}
            runs.append(row)
            done = batch
            print(f"{n:3d} facts, round {r}: " + "  ".join(
                f"{k}={row[k]:.3f}" if isinstance(row[k], float) else f"{k}={row[k]}"
                for k in ["recall", "efficacy", "retention", "locality", "locality_raw", "locality_personal",
                          "knowledge", "absence", "ppl_drift", "wall_s"]), flush=True)
            if not cand.gate.passed:
                print("     gate:", "; ".join(cand.gate.failures), flush=True)
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
              "command": " ".join(["python bench/consolidation.py", *sys.argv[1:]]),
              "model": model_path.name, "prompt_style": engine.format.style, "settings": settings.consolidation.model_dump(mode="json"), "runs": runs}
    out = HERE / "results" / f"consolidation{('-' + tag) if tag else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    plot(runs, out.with_suffix(".png"))


def plot(runs: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plot (pip install matplotlib)")
        return
    last = {}
    for r in runs:
        last[r["facts"]] = r  # the final round of each size
    xs = sorted(last)
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in [("recall", "held-out recall"), ("locality", "locality (scope gate)"),
                       ("locality_raw", "locality (raw adapter)"), ("retention", "retention")]:
        ys = [last[x].get(key) for x in xs]
        if any(y is not None for y in ys):
            ax.plot(xs, [y if y is not None else float("nan") for y in ys], marker="o", label=label)
    ax.set_xlabel("facts consolidated")
    ax.set_ylim(0, 1.05)
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.legend(loc="lower left")
    ax.set_title("hippo-agent consolidation (final round)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
