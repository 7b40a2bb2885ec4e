"""Train the fact-extraction adapter shipped as memory/data/extractor.gguf.

    python training/train_extractor.py                      # train + export + dev-split scores
    python training/train_extractor.py --steps 40 --out /tmp/x.gguf    # a quick try
    python training/train_extractor.py --eval-only          # dev-split scores of the shipped adapter

A rank-8 LoRA on the embedded Gemma 3 270M (the dequantised copy llama.cpp's quantised model
is exact for), trained on the labelled turns in training/extractor/data/ (FORMAT.md, LABELLING.md)
with the loss on the fact lines only. Every turn goes through the same voice rules, pre-filter,
prompt and grounding as at run time (memory.extract), so the model learns exactly the task it
gets: a label the grounding would drop is not trained either. One conversation in ten is the dev
split (never trained on), scored turn by turn at the end, and so are the labelled turns of LoCoMo
conversations 26/30/41/42/43: LoCoMo is for evaluation only (its README), so it is never trained on.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import load_settings  # noqa: E402
from memory.extract import (  # noqa: E402
    ADAPTER_PATH, SESSION_TURNS, LlamaExtractor, TurnInput, last_assistant, value_sources, extract, parse_lines,
    render_prompt, target_text,
)
from memory.shapes import normal_attribute  # noqa: E402
from memory.values import grounded, values_compatible  # noqa: E402
from memory.voice import speaks_of_self, statements  # noqa: E402

DATA = ROOT / "training" / "extractor" / "data"
SPC = Path(os.environ.get("HIPPO_DATASETS", ROOT.parent / "shared" / "datasets")) / "synthetic-persona-chat"
LOCOMO = SPC.parent / "locomo"
LOCOMO_LABELLED = {"26", "30", "41", "42", "43"}  # 44, 47, 48, 49, 50: bench/detection.py's held-out set


# ----------------------------------------------------------------------------- data

def _spc_conversations() -> list[list[tuple[str, str]]]:
    with open(SPC / "Synthetic-Persona-Chat_valid.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        lines, speaker = [], "User 2"
        for raw in row["Best Generated Conversation"].split("\n"):
            m = re.match(r"\s*(User [12])\s*:\s*(.*)", raw)
            if m:
                speaker, text = m.group(1), m.group(2)
            else:
                text = raw.strip()
            lines.append((speaker, text))
        out.append(lines)
    return out


def _locomo_sessions(conv: str) -> dict[str, tuple[list[dict], int]]:
    """dia_id -> (its session's turns, index in the session)."""
    d = json.loads((LOCOMO / f"{conv}.json").read_text())
    where = {}
    for key, turns in d.items():
        if re.fullmatch(r"session_\d+", key):
            for i, t in enumerate(turns):
                where[t["dia_id"]] = (turns, i)
    return where


def _context(lines: list[tuple[str, str]], i: int, me: str) -> tuple[tuple[str, str], ...]:
    prev = [(("user" if s == me else "assistant"), t) for s, t in lines[max(0, i - SESSION_TURNS):i] if t.strip()]
    return tuple(prev)


def load_examples() -> list[dict]:
    """Every labelled turn as {group, turn: TurnInput, facts: [lines]}."""
    spc, locomo = None, {}
    out = []
    for path in sorted(DATA.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            r = json.loads(line)
            if r["source"] == "spc-valid":
                spc = spc or _spc_conversations()
                lines = spc[r["row"]]
                speaker, text = lines[r["line"]]
                turn = TurnInput(text, _context(lines, r["line"], speaker))
                group = f"spc{r['row']}"
            elif r["source"] == "locomo":
                if r["conv"] not in LOCOMO_LABELLED:
                    raise SystemExit(f"{path.name}:{n + 1}: LoCoMo conversation {r['conv']} is held out")
                where = locomo.setdefault(r["conv"], _locomo_sessions(r["conv"]))
                turns, i = where[r["dia_id"]]
                me = turns[i]["speaker"]
                lines = [(t["speaker"], t["text"]) for t in turns]
                turn = TurnInput(turns[i]["text"], _context(lines, i, me))
                group = f"locomo{r['conv']}-{r['dia_id'].split(':')[0]}"
            else:
                turn = TurnInput(r["turn"], tuple((c["role"], c["content"]) for c in r.get("context", [])))
                group = f"{path.stem}-{n // 10}"
            out.append({"group": group, "turn": turn, "facts": r["facts"], "file": path.name})
    return out


def prepare(ex: dict) -> tuple[str, str] | None:
    """(prompt, target) as the run-time extractor reads the whole turn, or None when the pre-filter skips it.
    (Training on each sentence alone as well, as the run-time extractor also reads them, was measured and
    lost recall: bench/results/experiments/README.md, v4.)"""
    turn = ex["turn"]
    own = statements(turn.text)
    if not speaks_of_self(own, last_assistant(turn)):
        return None
    sources = value_sources(turn, own)
    lines = []
    for attr, value, episodic, update in parse_lines("\n".join(ex["facts"])):
        if grounded(value, sources):
            lines.append(f"{'~' if episodic else ''}{normal_attribute(attr)}: {value}{' (new)' if update else ''}")
    return render_prompt(turn, own), target_text(lines)


def split_of(ex: dict) -> str:
    """`locomo` (LoCoMo is for evaluation only, never trained on), else `dev` for one group in ten, else `train`."""
    if ex["group"].startswith("locomo"):
        return "locomo"
    return "dev" if int(hashlib.sha1(ex["group"].encode()).hexdigest(), 16) % 10 == 0 else "train"


class Rendered:
    """The prompt format object `consolidation.train` expects: prompts are rendered already."""

    def render(self, question: str) -> str:
        return question

    def answer_text(self, answer: str) -> str:
        return answer


# ----------------------------------------------------------------------------- scoring

def score(extractor, dev: list[dict]) -> dict:
    """Turn-level precision/recall of grounded facts (attribute and value must both agree)."""
    tp = fp = fn = 0
    t0 = time.perf_counter()
    found = extract(extractor, [ex["turn"] for ex in dev])
    secs = time.perf_counter() - t0
    misses, wrong = [], []
    for ex, facts in zip(dev, found):
        turn, own = ex["turn"], statements(ex["turn"].text)
        gold = [(normal_attribute(a), v) for a, v, _, _ in parse_lines("\n".join(ex["facts"]))
                if grounded(v, value_sources(turn, own))]
        hit = set()
        for f in facts:
            k = next((i for i, (ga, gv) in enumerate(gold)
                      if i not in hit and ga == f.attribute and values_compatible(gv, f.value)), None)
            if k is None:
                fp += 1
                wrong.append(f"{turn.text[:80]!r} -> {f.attribute}: {f.value}")
            else:
                hit.add(k)
                tp += 1
        for i, (a, v) in enumerate(gold):
            if i not in hit:
                fn += 1
                misses.append(f"{turn.text[:80]!r} missed {a}: {v}")
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"turns": len(dev), "tp": tp, "fp": fp, "fn": fn, "precision": round(p, 3), "recall": round(r, 3),
            "turns_per_second": round(len(dev) / secs, 2), "false_positives": wrong[:40], "misses": misses[:40]}


# ----------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: --epochs over the data)")
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--none-share", type=float, default=0.3, help="most share of 'none' examples kept")
    ap.add_argument("--twice", default="synthetic-[3-9]*", help="files (glob) whose examples are trained twice per epoch: "
                    "the ones closest to chatting with an assistant")
    ap.add_argument("--out", default=str(ADAPTER_PATH))
    ap.add_argument("--eval-only", action="store_true")
    ap.add_argument("--dev-limit", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    settings = load_settings()
    rng = random.Random(args.seed)

    examples = load_examples()
    splits: dict[str, list[dict]] = {"train": [], "dev": [], "locomo": []}
    for ex in examples:
        splits[split_of(ex)].append(ex)
    train, skipped, lost = splits["train"], 0, 0
    pairs = []
    for ex in train:
        p = prepare(ex)
        if p is None:
            skipped += 1
            lost += bool(ex["facts"])
            continue
        pairs += [p] * (2 if Path(ex["file"]).match(args.twice + ".jsonl") else 1)
    with_facts = [p for p in pairs if p[1].strip() != "none"]
    nones = [p for p in pairs if p[1].strip() == "none"]
    keep = min(len(nones), int(len(with_facts) * args.none_share / (1 - args.none_share)))
    rng.shuffle(nones)
    pairs = with_facts + nones[:keep]
    rng.shuffle(pairs)
    print(f"{len(examples)} labelled turns from {len({e['file'] for e in examples})} files; dev {len(splits['dev'])}, "
          f"LoCoMo (evaluation only) {len(splits['locomo'])}; "
          f"train {len(pairs)} ({len(with_facts)} with facts, {keep} of {len(nones)} none); "
          f"pre-filter skipped {skipped} ({lost} of them labelled with facts)")

    out = Path(args.out)
    if not args.eval_only:
        train_adapter(settings, pairs, args, out)
    extractor = LlamaExtractor(settings, out)
    scores = {}
    for name in ("dev", "locomo"):
        part = splits[name][:]
        random.Random(args.seed).shuffle(part)
        result = scores[name] = score(extractor, part[: args.dev_limit])
        print(f"{name} ({result['turns']} turns): precision {result['precision']} recall {result['recall']} "
              f"(tp {result['tp']}, fp {result['fp']}, fn {result['fn']}), {result['turns_per_second']} turns/s")
        for line in result["false_positives"][:12]:
            print("  FP", line)
        for line in result["misses"][:12]:
            print("  FN", line)
    meta = out.with_suffix(".json")
    if not args.eval_only:
        meta.write_text(json.dumps({**json.loads(meta.read_text()), "scores": scores}, indent=1) + "\n")
    return 0


def train_adapter(settings, pairs, args, out: Path) -> None:
    from consolidation.adapter_file import write_lora_gguf
    from consolidation.base_model import load_base_model, uses_bf16
    from consolidation.train import Example, LoraTrainConfig, lora_state_dict, train_lora

    model, tokenizer, info = load_base_model(settings)
    steps = args.steps or int(len(pairs) * args.epochs / args.batch)
    cfg = LoraTrainConfig(rank=args.rank, alpha=2.0 * args.rank, learning_rate=args.lr, steps=steps,
                          batch_size=args.batch, seed=args.seed,
                          bf16=uses_bf16(settings.consolidation.precision, next(model.parameters()).device.type))
    t0 = time.perf_counter()

    def on_step(i, loss):
        if i % 25 == 0 or i == steps:
            print(f"  step {i}/{steps}  loss {loss:.3f}  {time.perf_counter() - t0:.0f} s", flush=True)

    result = train_lora(model, tokenizer, Rendered(), [Example(p, t) for p, t in pairs], cfg, on_step=on_step,
                        anchor_share=0.0)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_lora_gguf(lora_state_dict(result.model), out, architecture=info.architecture, n_layers=info.n_layers,
                    alpha=cfg.alpha, base_sha256=info.sha256, version="extractor")
    data_hash = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(DATA.glob("*.jsonl")))).hexdigest()
    out.with_suffix(".json").write_text(json.dumps({
        "base_sha256": info.sha256, "data_sha256": data_hash, "examples": len(pairs), "steps": steps,
        "rank": args.rank, "learning_rate": args.lr, "batch_size": args.batch, "seed": args.seed,
        "final_loss": round(sum(result.losses[-20:]) / len(result.losses[-20:]), 4),
        "train_seconds": round(time.perf_counter() - t0), "trained": time.strftime("%Y-%m-%d"),
    }, indent=1) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
