"""Benchmark of fact detection on the dev set (and optionally LoCoMo).

    python bench/detection.py                 # dev set, real MiniLM
    python bench/detection.py --locomo        # + LoCoMo conversations (robustness, rate)
    python bench/detection.py --embedder tests.fakes:FakeEmbedder   # no model, quick

Each conversation is imported into its own temporary AGENT_HOME (one user per home).
Prints precision / recall / F1 of candidate detection against bench/data/labels.json,
assistant-only / single-session facts promoted, secrets stored as facts, ingest throughput
(turns/s, add_turns + detect, model load excluded) and store size on disk. Writes
bench/results/detection.json.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import load_settings  # noqa: E402
from memory import Memory  # noqa: E402
from memory.embedder import get_embedder  # noqa: E402
from memory.facts import _SECRET_WORDS, attribute_key, contains_secret, values_compatible  # noqa: E402

DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
NOT_PROMOTABLE = {"assistant only", "single session", "one session only"}


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _read_jsonl(p: Path) -> list[dict]:
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def _matches(fact, label) -> bool:
    return attribute_key(fact.attribute) == attribute_key(label["attribute"]) and values_compatible(
        fact.value, label["value"]
    )


def _is_secret_fact(f) -> bool:
    return contains_secret(f.value) or contains_secret(f.text) or bool(_SECRET_WORDS.search(f.attribute))


def run_import(turns: list[dict], embedder_spec: str, embedder) -> tuple[dict, list, float, int]:
    with tempfile.TemporaryDirectory(prefix="hippo-bench-") as tmp:
        home = Path(tmp)
        settings = load_settings(home=home, memory={"embedder": embedder_spec})
        with Memory(settings, embedder=embedder) as mem:
            t0 = time.perf_counter()
            mem.add_turns(turns)
            rep = mem.detect()
            dt = time.perf_counter() - t0
            facts = mem.facts()
        size = _du(home)
    return rep.to_dict(), facts, dt, size


def devset(embedder_spec: str, embedder, verbose: bool) -> dict:
    build = DATA / "build_devset.py"
    if not (DATA / "labels.json").exists():
        os.system(f"{sys.executable} {build}")
    labels = json.loads((DATA / "labels.json").read_text())
    tp = fp = fn = 0
    bad_promoted, secrets, n_turns, secs, size = [], [], 0, 0.0, 0
    false_pos, missed = [], []
    for name, lab in labels.items():
        turns = _read_jsonl(DATA / "devset" / f"{name}.jsonl")
        _, facts, dt, sz = run_import(turns, embedder_spec, embedder)
        n_turns += len(turns)
        secs += dt
        size += sz
        cands = [f for f in facts if f.status in ("candidate", "consolidated")]
        hit = set()
        for f in cands:
            m = [i for i, p in enumerate(lab["positive"]) if _matches(f, p)]
            if m:
                tp += 1
                hit.update(m)
            else:
                fp += 1
                false_pos.append(f"{name}: {f.text} [{f.attribute}={f.value}] sessions={f.sessions}")
            for neg in lab["negative"]:
                if neg["why"] in NOT_PROMOTABLE and _matches(f, neg):
                    bad_promoted.append(f"{name}: {f.text} ({neg['why']})")
        for i, p in enumerate(lab["positive"]):
            if i not in hit:
                fn += 1
                missed.append(f"{name}: {p['attribute']}={p['value']}")
        for f in facts:
            if _is_secret_fact(f) or any(
                n["why"] == "secret" and values_compatible(f.value, n["value"]) for n in lab["negative"]
            ):
                secrets.append(f"{name}: {f.text}")
        if verbose:
            for f in facts:
                print(f"   {name:10s} {f.status:11s} {f.attribute}={f.value}  {f.sessions}")
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {
        "conversations": len(labels),
        "positives": tp + fn,
        "true_positives": tp,
        "false_positives": fp,
        "false_negatives": fn,
        "precision": round(prec, 4),
        "recall": round(rec, 4),
        "f1": round(f1, 4),
        "assistant_or_single_session_promoted": len(bad_promoted),
        "secrets_stored_as_facts": len(secrets),
        "turns": n_turns,
        "ingest_seconds": round(secs, 3),
        "turns_per_second": round(n_turns / secs, 1) if secs else None,
        "store_bytes": size,
        "false_positive_facts": false_pos,
        "missed_facts": missed,
        "bad_promotions": bad_promoted,
        "secret_facts": secrets,
    }


def _locomo_time(s: str) -> str:
    s = re.sub(r"\s+", " ", s.strip())
    return datetime.strptime(s, "%I:%M %p on %d %B, %Y").isoformat()


def locomo_turns(path: Path) -> list[dict]:
    d = json.loads(path.read_text())
    conv = d.get("conversation", d)
    a = conv["speaker_a"]
    keys = sorted((k for k in conv if re.fullmatch(r"session_\d+", k)), key=lambda k: int(k[8:]))
    turns = []
    for k in keys:
        when = conv.get(f"{k}_date_time")
        base = _locomo_time(when) if when else None
        for t in conv[k]:
            turns.append({
                "session": f"{path.stem}-{k}",
                "role": "user" if t["speaker"] == a else "assistant",
                "content": t["text"],
                **({"time": base} if base else {}),
            })
    return turns


def locomo(embedder_spec: str, embedder, verbose: bool) -> dict:
    files = sorted(glob.glob("/work/shared/datasets/locomo/*.json"))
    per, n_turns, secs, cands_total, facts_total, secrets = [], 0, 0.0, 0, 0, []
    for f in files:
        turns = locomo_turns(Path(f))
        rep, facts, dt, size = run_import(turns, embedder_spec, embedder)
        cands = [x for x in facts if x.status in ("candidate", "consolidated")]
        secrets += [x.text for x in facts if _is_secret_fact(x)]
        n_turns += len(turns)
        secs += dt
        cands_total += len(cands)
        facts_total += len(facts)
        per.append({"file": Path(f).name, "turns": len(turns), "facts": len(facts),
                    "cross_session_facts": len(cands), "seconds": round(dt, 2),
                    "store_bytes": size, "examples": [c.text for c in cands][:10]})
        if verbose:
            print(f"   {Path(f).name}: {len(turns)} turns, {len(facts)} facts, {len(cands)} candidates")
            for c in cands:
                print(f"      {c.text}  {c.sessions}")
    return {
        "files": len(files),
        "turns": n_turns,
        "facts": facts_total,
        "cross_session_facts": cands_total,
        "secrets_stored_as_facts": len(secrets),
        "ingest_seconds": round(secs, 2),
        "turns_per_second": round(n_turns / secs, 1) if secs else None,
        "per_file": per,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--locomo", action="store_true", help="also run on LoCoMo conversations")
    ap.add_argument("--embedder", default="minilm", help="'minilm' or module:Class")
    ap.add_argument("--out", default=str(RESULTS / "detection.json"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if ":" in args.embedder:
        sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    embedder = get_embedder(None, args.embedder)
    embedder.encode(["warm up"])
    load_s = time.perf_counter() - t0
    results = {"embedder": args.embedder, "embedder_load_seconds": round(load_s, 2),
               "cpu_count": os.cpu_count(), "devset": devset(args.embedder, embedder, args.verbose)}
    d = results["devset"]
    print(f"dev set: {d['conversations']} conversations, {d['turns']} turns, {d['positives']} repeated facts")
    print(f"  precision {d['precision']:.3f}  recall {d['recall']:.3f}  F1 {d['f1']:.3f}"
          f"  (tp {d['true_positives']}, fp {d['false_positives']}, fn {d['false_negatives']})")
    print(f"  assistant-only / single-session facts promoted: {d['assistant_or_single_session_promoted']}")
    print(f"  secrets stored as facts: {d['secrets_stored_as_facts']}")
    print(f"  ingest: {d['turns_per_second']} turns/s (add_turns + detect; model load {load_s:.1f} s excluded)")
    print(f"  store size: {d['store_bytes'] / 1e6:.2f} MB for {d['conversations']} homes")
    for line in d["false_positive_facts"]:
        print(f"  FP  {line}")
    for line in d["missed_facts"]:
        print(f"  FN  {line}")
    for line in d["bad_promotions"] + d["secret_facts"]:
        print(f"  BAD {line}")
    if args.locomo:
        lo = results["locomo"] = locomo(args.embedder, embedder, args.verbose)
        print(f"LoCoMo: {lo['files']} conversations, {lo['turns']} turns, {lo['facts']} facts, "
              f"{lo['cross_session_facts']} cross-session facts, secrets {lo['secrets_stored_as_facts']}, "
              f"{lo['turns_per_second']} turns/s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"results -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
