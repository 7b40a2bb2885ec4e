"""Evaluation: parametric memory (hippo) vs. retrieval vs. no memory, on our sets and LoCoMo.

    python bench/evaluate.py --quick                 # reduced version of every part (<= 15 min, 2 cores)
    python bench/evaluate.py                         # the full run
    python bench/evaluate.py --only systems scaling  # some parts

Systems, all on the same base model and the same conversations, built with the real pipeline
(turns -> Memory (Chroma + MiniLM) -> detect -> consolidate -> publish):
  A  no memory         the base model alone
  B  retrieval         top-k user turns from the Chroma store in the prompt (k, min_score tuned
                       on a dev split of training-template questions; B never consolidates)
  C  hippo             the published adapter (with its scope gate), retrieval off
  D  hippo+retrieval   the adapter plus retrieval of turns not yet consolidated (the chat default)

Parts (each writes bench/results/evaluate-<part>.json with machine, date, settings, wall time):
  systems  persona facts stated in 1, 2, 3 or 5 sessions: held-out paraphrase accuracy on
           repeated facts and on facts stated once, unchanged answers on the unrelated bank,
           prompt tokens, first-token latency, decode tok/s, memory/disk footprint
  natural  the natural test split (bench/data/natural/test: conversations written by people who never
           saw the extractor) end to end: detect -> consolidate -> the writers' own questions;
           A-D on repeated facts, facts said once, and the repeated facts that were detected
  locomo   LoCoMo conversations 44, 47-50 (--quick: 44; the ones bench/detection.py holds out;
           speaker_a = the user): containment and token F1 per category, and on the QA items whose
           evidence lies on a detected / consolidated fact
  scaling  cumulative rounds 10 -> 50 -> 100 -> ... -> 490 -> 500 facts (--upto N stops at N facts, --plan
           A B C runs those; --quick:
           1 -> 2 -> 4): recall, retention, locality, absence, round time (PNG)
  data     held-out recall and locality vs. training examples per fact and vs. the number of
           sessions a fact was stated in (PNG)
Accuracy is only ever measured on held-out paraphrases (never on training questions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo first: bench/consolidation.py shadows
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from agent.engine import Engine  # noqa: E402
from agent.operations import RETRIEVAL_K, RETRIEVAL_MIN_SCORE, recalled_texts  # noqa: E402
from config import load_settings  # noqa: E402
from config.models import resolve_model_path  # noqa: E402
from consolidation import pipeline  # noqa: E402
from consolidation.bank import cached_answers, locality_bank  # noqa: E402
from consolidation.gate import unlearn_probes  # noqa: E402
from consolidation.live import apply_version  # noqa: E402
from consolidation.registry import Registry, ShardFiles  # noqa: E402
from consolidation.synthesize import is_correct, mentions, normalise, synthesize  # noqa: E402
from memory import Memory  # noqa: E402
from memory.embedder import get_embedder  # noqa: E402
from memory.extract import TurnInput, extract, get_extractor  # noqa: E402
from memory.values import grounded  # noqa: E402

HERE = Path(__file__).parent
RESULTS = HERE / "results"
LOCOMO = Path("/work/shared/datasets/locomo")
SYSTEMS = ["A", "B", "C", "D"]
SYSTEM_NAMES = {"A": "no memory", "B": "retrieval", "C": "hippo", "D": "hippo + retrieval"}
SESSION_GROUPS = [1, 2, 3, 5]
N_SESSIONS = 6

# How a user states a persona fact in conversation (the detector must pick it up).
SAY = {"allergy": "I am allergic to {v}.", "car": "I drive a {v}.", "plays instrument": "I play the {v}.",
       "birth year": "I was born in {v}.", "speaks language": "I speak {v}.", "plays sport": "I play {v}.",
       "supports team": "I support {v}.", "office location": "My office is in {v}.",
       "field of study": "I study {v}.", "school": "I study at {v}.", "diet": "I am {v}.",
       "number of kids": "I have {v} kids.", "age": "I am {v} years old.", "home city": "I live in {v}.",
       "employer": "I work at {v}.", "job title": "I work as a {v}.", "hometown": "I am from {v}."}
WRAP = ["{s}", "By the way, {s}", "Just so you know, {s}", "Oh, and {s}", "As I mentioned, {s}"]
FILLER = [("What a long week it has been.", "Sounds tiring. I hope the weekend is calm."),
          ("Can you suggest a quick dinner idea?", "A vegetable stir-fry with rice is quick and easy."),
          ("The weather keeps changing all the time.", "It does. A good jacket helps."),
          ("How do I keep houseplants alive?", "Water them when the soil is dry and give them light."),
          ("Tell me something interesting about octopuses.", "Octopuses have three hearts."),
          ("I need a name for a spreadsheet of recipes.", "How about 'Kitchen Notes'?")]
ACKS = ["Got it, thanks for telling me.", "Nice, noted.", "Good to know.", "Thanks, I'll keep that in mind."]

QUICK = {"latency_questions": 6, "systems_facts": 12, "bank": 24, "dev_per_fact": 1,
         "grid": [(1, 0.35), (3, 0.2), (3, 0.35), (5, 0.35)],
         "locomo_convs": ["44"], "locomo_qa": 20, "scaling": [1, 2, 4], "data_facts": 3, "natural_every": 4,
         "data_examples": [1, 4, 16]}
FULL = {"latency_questions": 24, "systems_facts": 40, "bank": None, "dev_per_fact": 2,
        "grid": [(1, 0.2), (1, 0.35), (3, 0.2), (3, 0.35), (3, 0.5), (5, 0.2), (5, 0.35), (8, 0.35)],
        "locomo_convs": ["44", "47", "48", "49", "50"], "locomo_qa": 40, "scaling": [10, *range(50, 500, 50), 490, 500], "data_facts": 10,
        "data_examples": [1, 2, 4, 8, 16], "natural_every": 1}


# ------------------------------------------------------------------------------ helpers
def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stage_printer(prefix: str):
    """A consolidation progress callback that prints each stage once (and training every 50 steps)."""
    last = {"stage": None}

    def progress(stage: str, done: int, total: int) -> None:
        name = stage
        if name != last["stage"] or (stage == "training" and done % 50 == 0 and done):
            last["stage"] = name
            log(f"   {prefix}{stage} {done}/{total}")
    return progress


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) if Path(path).exists() else 0


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def rate(flags) -> float | None:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else None


def fact(i: int, d: dict) -> SimpleNamespace:
    """A FactLike from a persona entry."""
    return SimpleNamespace(id=f"p{i:03d}", attribute=d["attribute"], value=d["value"],
                           text=f"My {d['attribute']} is {d['value']}.")


def persona(name: str = "persona.json") -> list[SimpleNamespace]:
    return [fact(i, d) for i, d in enumerate(json.loads((HERE / "data" / name).read_text()))]


class Asker:
    """Asks the engine one question and measures it (prompt tokens, first token, decode rate)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def prompt_tokens(self, question: str, context: tuple[str, ...]) -> int:
        return len(self.engine.prompt(question, (), context))

    def __call__(self, question: str, context: tuple[str, ...] = (), t_start: float | None = None) -> dict:
        t0 = t_start if t_start is not None else time.perf_counter()
        pieces, t_first = [], None
        for piece in self.engine.stream_answer(question, (), context):
            if t_first is None:
                t_first = time.perf_counter()
            pieces.append(piece)
        t_end = time.perf_counter()
        answer = "".join(pieces).strip()
        n_out = len(self.engine.llm.tokenize(answer.encode(), add_bos=False)) if answer else 0
        decode_s = t_end - t_first if t_first else 0.0
        return {"answer": answer, "prompt_tokens": self.prompt_tokens(question, context),
                "first_token_ms": (t_first - t0) * 1000 if t_first else None,
                "decode_tok_s": (n_out - 1) / decode_s if n_out > 1 and decode_s > 0 else None,
                "output_tokens": n_out, "routed": self.engine.last_routed}


def base_bank_answers(settings, engine: Engine, n: int | None) -> tuple[list[str], list[str]]:
    """The unrelated bank (first `n`) and the base model's cached answers (as the gate uses)."""
    bank = locality_bank()
    key = [engine.base_sha256, engine.format.style, engine.format.render("{q}")]
    engine.set_adapter(None)
    answers = cached_answers(settings.cache, key, [b.question for b in bank], engine.answer)
    n = n or len(bank)
    return [b.question for b in bank][:n], answers[:n]


def write_result(part: str, result: dict, tag: str) -> Path:
    out = RESULTS / f"evaluate-{part}{('-' + tag) if tag else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    log(f"wrote {out}")
    return out


def threads(settings) -> dict:
    """Threads used by llama.cpp (inference) and torch (training); set by AGENT_MODEL__N_THREADS / OMP_NUM_THREADS."""
    import torch

    return {"llama": settings.model.n_threads or os.cpu_count(), "torch": torch.get_num_threads(),
            "load_avg_at_end": os.getloadavg()[0]}


def header(args, part: str, settings, t0: float) -> dict:
    return {"part": part, "mode": "quick" if args.quick else "full", "machine": machine(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "wall_s": time.perf_counter() - t0,
            "command": "python bench/evaluate.py " + " ".join(sys.argv[1:]), "threads": threads(settings),
            "settings": {"consolidation": settings.consolidation.model_dump(mode="json"),
                         "memory": settings.memory.model_dump(mode="json"),
                         "model": settings.model.model_dump(mode="json")}}


# ------------------------------------------------------------------------------ conversations
def statement(f) -> str:
    return SAY.get(f.attribute, "My {a} is {v}.").format(a=f.attribute, v=f.value)


def detectable(facts, settings) -> tuple[list, list]:
    """Split facts into those the configured extractor finds in `statement` and the rest."""
    ok, bad = [], []
    found = extract(get_extractor(settings), [TurnInput(statement(f)) for f in facts])
    for f, got in zip(facts, found):
        (ok if any(normalise(x.value) == normalise(f.value) for x in got) else bad).append(f)
    return ok, bad


def plan_sessions(facts, seed: int = 0) -> dict[str, int]:
    """Assign each fact a number of sessions (cycling 1, 2, 3, 5)."""
    return {f.id: SESSION_GROUPS[i % len(SESSION_GROUPS)] for i, f in enumerate(facts)}


def build_turns(facts, n_sessions: dict[str, int], seed: int = 0) -> list[dict]:
    """Sessions of small talk in which each fact is stated in its number of sessions."""
    rng = random.Random(seed)
    per_session: dict[int, list] = defaultdict(list)
    for f in facts:
        for s in sorted(rng.sample(range(N_SESSIONS), n_sessions[f.id])):
            per_session[s].append(f)
    turns = []
    for s in range(N_SESSIONS):
        items = [("fact", f) for f in per_session[s]] + [("filler", x) for x in rng.sample(FILLER, 3)]
        rng.shuffle(items)
        minute = 0
        for kind, item in items:
            if kind == "fact":
                sent = statement(item)
                wrap = rng.choice(WRAP)
                user = wrap.format(s=sent if wrap == "{s}" or sent.startswith("I ") else sent[0].lower() + sent[1:])
                pair = (user, rng.choice(ACKS))
            else:
                pair = item
            for role, text in zip(("user", "assistant"), pair):
                turns.append({"session": f"s{s + 1}", "role": role, "content": text,
                              "time": f"2025-0{1 + s // 28}-{1 + s % 28:02d}T18:{minute:02d}:00"})
                minute += 1
    return turns


# ------------------------------------------------------------------------------ part: systems
def consolidate_keeping_candidate(settings, memory, engine, keep: Path, gate_prompts: int | None):
    """`pipeline.consolidate`, keeping a copy of the candidate in `keep`.

    If the publish gate rejects the candidate, the product keeps answering without it; the copy
    lets the benchmark still show what the rejected adapter would have done (clearly labelled).
    Returns (report, AdapterVersion-like of the copy or None).
    """
    report = pipeline.consolidate(settings, memory, engine, progress=stage_printer(""), log=lambda m: None,
                                  gate_prompts=gate_prompts, keep=keep)
    if not keep.exists():
        return report, None
    shards = [ShardFiles(d.name, d, ()) for d in sorted(keep.glob("s[0-9]*")) if (d / "adapter.gguf").is_file()]
    return report, SimpleNamespace(path=keep, name="candidate", manifest={}, shards=shards)


def retrieve(memory: Memory, question: str, k: int, min_score: float, include_consolidated: bool):
    t0 = time.perf_counter()
    hits = memory.recall(question, k, min_score, include_consolidated=include_consolidated)
    return recalled_texts(hits), (time.perf_counter() - t0) * 1000, t0


def run_system(system: str, ask: Asker, engine, settings, memory, version, questions, k, min_score) -> list[dict]:
    """Answer `questions` as `system`; returns one record per question."""
    if system in ("C", "D") and version is not None:
        apply_version(engine, settings, version)
    else:
        engine.set_adapter(None)
    out = []
    for q in questions:
        context, ret_ms, t0 = (), None, None
        if system in ("B", "D"):
            context, ret_ms, t0 = retrieve(memory, q, k, min_score, include_consolidated=(system == "B"))
        rec = ask(q, context, t_start=t0)
        rec.update(question=q, retrieval_ms=ret_ms, context=context)
        out.append(rec)
    return out


def run_systems(ask: Asker, engine, settings, memory, version, questions, k, min_score) -> dict[str, list[dict]]:
    """Answer `questions` as every system; without an adapter C and D are A and B by construction."""
    answers = {}
    for s in SYSTEMS:
        if s in ("C", "D") and version is None:
            answers[s] = answers["A" if s == "C" else "B"]
            continue
        answers[s] = run_system(s, ask, engine, settings, memory, version, questions, k, min_score)
    return answers


def measure_latency(ask: Asker, engine, settings, memory, version, questions, k, min_score) -> dict:
    """First-token latency and decode rate, systems interleaved question by question.

    Round-robin (A, B, C, D for each question) so that other load on the machine hits every
    system alike; the KV cache is cleared before each question (cold prompt: the whole prompt
    is prefilled), so prefix reuse favours none of them.
    """
    out = {s: [] for s in SYSTEMS}
    for q in questions:
        for s in SYSTEMS:
            if s in ("C", "D") and version is not None:
                if engine.adapter is None or engine.adapter.version != version.name:
                    apply_version(engine, settings, version)
            else:
                engine.set_adapter(None)
            context, ret_ms, t0 = (), None, None
            engine._clear_cache()  # cold prompt for every system (bench only)
            if s in ("B", "D"):
                context, ret_ms, t0 = retrieve(memory, q, k, min_score, include_consolidated=(s == "B"))
            rec = ask(q, context, t_start=t0)
            out[s].append({**rec, "retrieval_ms": ret_ms})
    engine.set_adapter(None)
    return {s: {"first_token_ms_median": median(r["first_token_ms"] for r in recs),
                "decode_tok_s_median": median(r["decode_tok_s"] for r in recs),
                "retrieval_ms_median": median(r["retrieval_ms"] for r in recs),
                "prompt_tokens_mean": mean(r["prompt_tokens"] for r in recs), "n": len(recs)}
            for s, recs in out.items()}


def tune_retrieval(ask: Asker, engine, memory, dev: list, grid) -> dict:
    """Pick B's (k, min_score) by accuracy on the dev split; ties go to fewer prompt tokens."""
    engine.set_adapter(None)
    cache: dict = {}
    rows = []
    for k, min_score in grid:
        correct, tokens = [], []
        for qa in dev:
            context, _, _ = retrieve(memory, qa.question, k, min_score, include_consolidated=True)
            key = (qa.question, context)
            if key not in cache:
                cache[key] = ask(qa.question, context)
            correct.append(is_correct(cache[key]["answer"], qa.values))
            tokens.append(cache[key]["prompt_tokens"])
        rows.append({"k": k, "min_score": min_score, "dev_accuracy": rate(correct), "prompt_tokens": mean(tokens)})
        log(f"  B tuning k={k} min_score={min_score}: dev accuracy {rows[-1]['dev_accuracy']:.3f}, "
            f"{rows[-1]['prompt_tokens']:.0f} prompt tokens")
    best = max(rows, key=lambda r: (r["dev_accuracy"], -r["prompt_tokens"]))
    return {"grid": rows, "k": best["k"], "min_score": best["min_score"], "n_dev": len(dev),
            "dev_split": "training-template questions of every fact (the held-out paraphrases are the test)"}


def systems_part(args, cfg, engine, embedder) -> dict:
    """Build one user's conversations with the real pipeline and compare A-D on them."""
    t0 = time.perf_counter()
    facts, undetectable = detectable(persona()[: cfg["systems_facts"] + 4], load_settings())
    facts = facts[: cfg["systems_facts"]]
    groups = plan_sessions(facts)
    turns = build_turns(facts, groups)
    ask = Asker(engine)
    with tempfile.TemporaryDirectory(prefix="hippo-eval-") as tmp, \
            tempfile.TemporaryDirectory(prefix="hippo-eval-candidate-") as keep_dir:
        settings = load_settings(home=Path(tmp))
        rss_engine = rss_mb()
        memory = Memory(settings, embedder=embedder)
        try:
            t = time.perf_counter()
            memory.add_turns(turns)
            det = memory.detect()
            ingest_s = time.perf_counter() - t
            rss_memory = rss_mb()
            ledger = {normalise(f.value): f for f in memory.facts()}
            detection = {f.id: (ledger[normalise(f.value)].status if normalise(f.value) in ledger else "missed")
                         for f in facts}
            log(f"systems: {len(facts)} facts in {N_SESSIONS} sessions ({len(turns)} turns); detection: "
                f"{dict(Counter(detection.values()))}")
            log("systems: consolidating with the real pipeline (detect -> synthesize -> train -> gate -> publish)")
            t = time.perf_counter()
            report, kept = consolidate_keeping_candidate(settings, memory, engine, Path(keep_dir) / "v", cfg["bank"])
            consolidation_s = time.perf_counter() - t
            log(f"systems: {report.reason} ({consolidation_s:.0f} s)")
            published = Registry(settings.home).current()
            # C/D use the published adapter; if the gate rejected it, the unpublished candidate (labelled)
            version = published or kept
            if not published and kept:
                log("systems: the gate rejected the adapter: C/D use the unpublished candidate "
                    "(labelled in the results)")
            store_bytes = du(settings.home) - du(settings.home / "adapters") - du(settings.home / "consolidations")
            adapter_bytes = sum(s.gguf.stat().st_size for s in version.shards) if version else 0
            adapter_dir_bytes = du(version.path) if version else 0

            # questions: held-out paraphrases = test; training templates = dev (B tuning only)
            test, dev = [], []
            for f in facts:
                (g,) = synthesize([f], settings.consolidation.examples_per_fact)
                test += [(f, qa) for qa in g.heldout]
                dev += g.train_unique[: cfg["dev_per_fact"]]
            tuned = tune_retrieval(ask, engine, memory, dev, cfg["grid"])
            k, min_score = tuned["k"], tuned["min_score"]
            log(f"systems: tuned retrieval k={k}, min_score={min_score}")
            bank_q, bank_base = base_bank_answers(settings, engine, cfg["bank"])

            per_system, examples = {}, {}
            for s in SYSTEMS:
                log(f"systems: {s} ({SYSTEM_NAMES[s]}): {len(test)} held-out questions + {len(bank_q)} bank prompts")
                recs = run_system(s, ask, engine, settings, memory, version, [qa.question for _, qa in test], k,
                                  min_score)
                ok = [is_correct(r["answer"], qa.values) for r, (_, qa) in zip(recs, test)]
                if s == "A":
                    bank_recs = [{"answer": a} for a in bank_base]
                else:
                    bank_recs = run_system(s, ask, engine, settings, memory, version, bank_q, k, min_score)
                unchanged = [r["answer"] == b for r, b in zip(bank_recs, bank_base)]
                by_group = {}
                for n in SESSION_GROUPS:
                    flags = [o for o, (f, _) in zip(ok, test) if groups[f.id] == n]
                    by_group[str(n)] = {"accuracy": rate(flags), "n": len(flags)}
                rep = [o for o, (f, _) in zip(ok, test) if groups[f.id] >= 2]
                once = [o for o, (f, _) in zip(ok, test) if groups[f.id] == 1]
                timed = recs + [r for r in bank_recs if "first_token_ms" in r]
                per_system[s] = {
                    "name": SYSTEM_NAMES[s],
                    "accuracy_repeated": rate(rep), "n_repeated": len(rep),
                    "accuracy_once": rate(once), "n_once": len(once),
                    "accuracy_by_sessions": by_group,
                    "unchanged_rate": rate(unchanged), "n_bank": len(unchanged),
                    "prompt_tokens_mean": mean(r["prompt_tokens"] for r in recs),
                    "prompt_tokens_bank_mean": mean(r.get("prompt_tokens") for r in bank_recs),
                    "first_token_ms_median": median(r["first_token_ms"] for r in timed),
                    "decode_tok_s_median": median(r["decode_tok_s"] for r in timed),
                    "retrieval_ms_median": median(r.get("retrieval_ms") for r in timed),
                    "load_avg_1min": os.getloadavg()[0],
                    "adapter_routed_rate": rate(r["routed"] for r in recs) if s in ("C", "D") else None,
                    "bank_adapter_routed_rate": (rate(r["routed"] for r in bank_recs) if s in ("C", "D") else None),
                }
                examples[s] = [{"question": r["question"], "answer": r["answer"], "expected": qa.values,
                                "sessions": groups[f.id], "correct": o}
                               for r, (f, qa), o in zip(recs, test, ok)][:60]
                p = per_system[s]
                log(f"   {s}: repeated {p['accuracy_repeated']:.3f}  once {p['accuracy_once']:.3f}  "
                    f"unchanged {p['unchanged_rate']:.3f}  prompt tokens {p['prompt_tokens_mean']:.0f}  "
                    f"first token {p['first_token_ms_median']:.0f} ms  "
                    f"decode {p['decode_tok_s_median'] or 0:.1f} tok/s")
            n_lat = cfg.get("latency_questions", 12)
            log(f"systems: latency, A-D interleaved on {n_lat} held-out questions (cold KV cache)")
            latency = measure_latency(ask, engine, settings, memory, version,
                                      [qa.question for _, qa in test][:: max(1, len(test) // n_lat)][:n_lat],
                                      k, min_score)
            for s in SYSTEMS:
                per_system[s].update({"sequential_" + key: per_system[s][key] for key in
                                      ("first_token_ms_median", "decode_tok_s_median", "retrieval_ms_median")})
                per_system[s].update({key: latency[s][key] for key in
                                      ("first_token_ms_median", "decode_tok_s_median", "retrieval_ms_median")})
                per_system[s]["n_latency"] = latency[s]["n"]
                log(f"   {s}: first token {latency[s]['first_token_ms_median']:.0f} ms, decode "
                    f"{latency[s]['decode_tok_s_median'] or 0:.1f} tok/s, retrieval "
                    f"{latency[s]['retrieval_ms_median'] or 0:.0f} ms")
            footprint = {"ram_engine_mb": rss_engine, "ram_embedder_store_mb": rss_memory - rss_engine,
                         "peak_rss_consolidation_mb": peak_rss_mb(), "adapter_bytes": adapter_bytes,
                         "adapter_dir_bytes": adapter_dir_bytes, "store_bytes": store_bytes,
                         "uses": {"A": ["engine"], "B": ["engine", "embedder+store"],
                                  "C": ["engine", "adapter", "embedder (scope gate)"],
                                  "D": ["engine", "adapter", "embedder+store"]}}
        finally:
            memory.close()
    result = {
        "facts": len(facts), "sessions": N_SESSIONS, "turns": len(turns),
        "facts_per_session_group": dict(Counter(str(v) for v in groups.values())),
        "undetectable_skipped": [f.text for f in undetectable],
        "detection": {str(n): dict(Counter(detection[f.id] for f in facts if groups[f.id] == n))
                      for n in SESSION_GROUPS},
        "detect_report": det.to_dict() if hasattr(det, "to_dict") else None,
        "consolidation": {"published": report.published, "reason": report.reason, "seconds": report.seconds,
                          "adapter_evaluated": ("published" if published else
                                                "unpublished candidate (rejected by the gate)" if kept else "none"),
                          "wall_s": consolidation_s, "facts": len(report.facts),
                          "metrics": report.metrics, "failures": report.failures},
        "ingest_s": ingest_s, "retrieval": tuned, "bank_prompts": len(bank_q),
        "systems": per_system, "footprint": footprint, "examples": examples,
    }
    result.update(header(args, "systems", settings, t0))
    return result


# ------------------------------------------------------------------------------ part: natural
def core_value(value: str) -> str:
    """A label's value without its explanation: "chef (runs the kitchen at …)" -> "chef"."""
    return re.sub(r"\s*\(.*?\)\s*", " ", value).strip() or value


def answers_with(answer: str, value: str) -> bool:
    """Does the answer give the value (its words, word forms joined), and not deny it ("You are not a chef")?"""
    return grounded(value, [answer]) and not re.search(r"\b(?:not|n't|no|never|don't know)\b", answer, re.IGNORECASE)


def natural_part(args, cfg, engine, embedder) -> dict:
    """The natural test split end to end: import -> detect (the extractor) -> consolidate -> ask.

    Questions are the ones the conversations' writers wrote for each fact (never seen by synthesis
    or the gate); an answer is right when it contains the labelled value (its explanation in
    brackets dropped; word forms joined). A, B, D as in `systems` (retrieval with the chat's
    defaults), C = hippo with retrieval off.
    """
    matcher = _bench_module("detection").Matcher(embedder)
    t0 = time.perf_counter()
    ask = Asker(engine)
    users = sorted((HERE / "data" / "natural" / "test").glob("*.jsonl"))[:: cfg["natural_every"]]
    per_user, scored = [], {s: [] for s in SYSTEMS}
    settings = load_settings()
    for path in users:
        labels = json.loads(path.with_name(path.stem + ".labels.json").read_text())
        turns = [{k: t[k] for k in ("session", "role", "content", "time")} for t in map(json.loads, path.open())]
        with tempfile.TemporaryDirectory(prefix="hippo-eval-natural-") as tmp:
            settings = load_settings(home=Path(tmp))
            with Memory(settings, embedder=embedder) as memory:
                memory.add_turns(turns)
                memory.detect()
                cands = memory.facts("candidate")
                report = None
                if cands:
                    log(f"natural {path.stem}: consolidating {len(cands)} candidate(s)")
                    report = pipeline.consolidate(settings, memory, engine, progress=stage_printer(""),
                                                  log=lambda m: None, gate_prompts=cfg["bank"])
                version = Registry(settings.home).current()
                learned = memory.facts("consolidated") if version else []
                qs = []
                for f in labels["facts"]:
                    if not f.get("current", True):
                        continue
                    repeated = len(set(f["sessions"])) >= 2
                    about_user = f.get("about", "user") == "user"
                    detected = any(matcher.same(c, f["value"], f["sentence"], about_user) for c in cands)
                    consolidated = any(matcher.same(c, f["value"], f["sentence"], about_user) for c in learned)
                    qs += [{"question": q, "value": core_value(f["value"]), "repeated": repeated,
                            "detected": detected, "consolidated": consolidated} for q in f.get("questions", [])]
                log(f"natural {path.stem}: {len(cands)} candidate(s); adapter {version.name if version else 'none'}"
                    f" ({report.reason if report else 'nothing to consolidate'}); {len(qs)} questions")
                answers = run_systems(ask, engine, settings, memory, version, [q["question"] for q in qs],
                                      RETRIEVAL_K, RETRIEVAL_MIN_SCORE)
                for s in SYSTEMS:
                    scored[s] += [{**q, "correct": answers_with(r["answer"], q["value"])} for q, r in zip(qs, answers[s])]
                per_user.append({"user": path.stem, "turns": len(turns), "candidates": len(cands),
                                 "adapter": version.name if version else None,
                                 "consolidation": report.reason if report else "nothing to consolidate",
                                 "gate": report.metrics if report else None,
                                 "examples": [{"question": q["question"], "value": q["value"],
                                               **{s: answers[s][i]["answer"] for s in SYSTEMS}}
                                              for i, q in enumerate(qs[:6])]})
                engine.set_adapter(None)
    subsets = {"repeated": lambda q: q["repeated"], "once": lambda q: not q["repeated"],
               "repeated_detected": lambda q: q["repeated"] and q["detected"],
               "repeated_consolidated": lambda q: q["repeated"] and q["consolidated"]}
    results = {name: {s: {"accuracy": rate(q["correct"] for q in scored[s] if pred(q)),
                          "n": sum(1 for q in scored[s] if pred(q))} for s in SYSTEMS}
               for name, pred in subsets.items()}
    for s in SYSTEMS:
        r = results["repeated"][s]
        log(f"   natural {s}: repeated facts {r['accuracy'] or 0:.3f} (n={r['n']}), once "
            f"{results['once'][s]['accuracy'] or 0:.3f}")
    out = {"users": per_user, "results": results, "retrieval": {"k": RETRIEVAL_K, "min_score": RETRIEVAL_MIN_SCORE},
           "adapters_published": sum(1 for u in per_user if u["adapter"]),
           "metric": "answer contains the labelled value (bracketed explanation dropped, word forms joined) and no "
                     "negation; questions written by the conversations' writers"}
    out.update(header(args, "natural", settings, t0))
    return out


# ------------------------------------------------------------------------------ part: locomo
def token_f1(pred: str, gold: str) -> float:
    p, g = normalise(pred).split(), normalise(gold).split()
    common = Counter(p) & Counter(g)
    n = sum(common.values())
    if not p or not g or n == 0:
        return 0.0
    prec, rec = n / len(p), n / len(g)
    return 2 * prec * rec / (prec + rec)


def contains(pred: str, gold: str) -> bool:
    g = normalise(gold)
    return bool(g) and f" {g} " in f" {normalise(pred)} "


def locomo_items(path: Path, turns: list[dict], n_sample: int, seed: int = 0) -> list[dict]:
    """QA items with evidence info; all with evidence in >= 2 sessions plus a sample of the rest."""
    d = json.loads(path.read_text())
    a = d["speaker_a"]
    speaker = {}
    for key, val in d.items():
        if re.fullmatch(r"session_\d+", key):
            for t in val:
                speaker[t["dia_id"]] = t["speaker"]
    items = []
    for i, qa in enumerate(d["qa"]):
        ev = re.findall(r"D\d+:\d+", " ".join(e for e in qa.get("evidence", []) if isinstance(e, str)))
        sessions = {e.split(":")[0] for e in ev}
        items.append({"index": i, "question": qa["question"], "category": qa["category"],
                      "answer": str(qa.get("answer", "")), "adversarial_answer": str(qa.get("adversarial_answer", "")),
                      "evidence": ev, "evidence_sessions": len(sessions),
                      "evidence_user": any(speaker.get(e) == a for e in ev)})
    repeated = [x for x in items if x["evidence_sessions"] >= 2]
    rest = [x for x in items if x["evidence_sessions"] < 2]
    random.Random(seed).shuffle(rest)
    return repeated[: n_sample // 2] + rest[: n_sample - min(len(repeated), n_sample // 2)]


def score_locomo(item: dict, answer: str) -> dict:
    if item["category"] == 5:  # adversarial: the trap answer should not be given
        trap = item["adversarial_answer"]
        return {"trap_given": contains(answer, trap) or token_f1(answer, trap) >= 0.5}
    return {"contains": contains(answer, item["answer"]), "f1": token_f1(answer, item["answer"])}


def locomo_summary(items, scores) -> dict:
    out = {}
    for cat in sorted({x["category"] for x in items}):
        idx = [i for i, x in enumerate(items) if x["category"] == cat]
        s = [scores[i] for i in idx]
        out[str(cat)] = ({"n": len(idx), "trap_rate": rate(x["trap_given"] for x in s)} if cat == 5 else
                         {"n": len(idx), "containment": rate(x["contains"] for x in s), "f1": mean(x["f1"] for x in s)})
    answerable = [s for s, x in zip(scores, items) if x["category"] != 5]
    out["1-4"] = {"n": len(answerable), "containment": rate(x["contains"] for x in answerable),
                  "f1": mean(x["f1"] for x in answerable)}
    return out


def locomo_part(args, cfg, engine, embedder, k: int, min_score: float) -> dict:
    """LoCoMo through the real pipeline: one home per conversation, speaker_a is the user."""
    locomo_turns = _bench_module("detection").locomo_turns
    t0 = time.perf_counter()
    ask = Asker(engine)
    files = sorted(LOCOMO.glob("*.json"))
    if cfg["locomo_convs"]:
        files = [f for f in files if f.stem in cfg["locomo_convs"]]
    convs, all_items, all_scores = [], [], {s: [] for s in SYSTEMS}
    settings = load_settings()
    for path in files:
        turns = locomo_turns(path)
        with tempfile.TemporaryDirectory(prefix="hippo-eval-locomo-") as tmp:
            settings = load_settings(home=Path(tmp))
            with Memory(settings, embedder=embedder) as memory:
                memory.add_turns(turns)
                memory.detect()
                cands = memory.facts("candidate")
                support = {(t.session, t.content) for f in cands for t in memory.ledger.turns(
                    memory.ledger.support_turn_ids(f.id))}
                version, report = None, None
                if cands:
                    log(f"locomo {path.stem}: consolidating {len(cands)} detected fact(s)")
                    report = pipeline.consolidate(settings, memory, engine, progress=stage_printer(""),
                                                  log=lambda m: None, gate_prompts=cfg["bank"])
                    version = Registry(settings.home).current()
                ev_text = _evidence_text(path)
                sampled = {x["index"] for x in locomo_items(path, turns, cfg["locomo_qa"])}
                items = []  # the sample, plus every item whose evidence lies on a detected fact
                for x in locomo_items(path, turns, 10**6):
                    x["conversation"] = path.stem
                    x["evidence_on_detected_fact"] = any(
                        (f"{path.stem}-session_{e.split(':')[0][1:]}", ev_text.get(e)) in support
                        for e in x["evidence"])
                    x["evidence_on_consolidated_fact"] = x["evidence_on_detected_fact"] and version is not None
                    x["sampled"] = x["index"] in sampled
                    if x["sampled"] or x["evidence_on_detected_fact"]:
                        items.append(x)
                log(f"locomo {path.stem}: {len(turns)} turns, {len(cands)} cross-session fact(s), "
                    f"{len(items)} QA items; adapter: {version.name if version else 'none'}")
                answers = run_systems(ask, engine, settings, memory, version, [x["question"] for x in items],
                                      k, min_score)
                for s in SYSTEMS:
                    all_scores[s] += [score_locomo(x, r["answer"]) for x, r in zip(items, answers[s])]
                convs.append({"conversation": path.stem, "turns": len(turns), "cross_session_facts": len(cands),
                              "facts": [f.text for f in cands], "adapter": version.name if version else None,
                              "consolidation": (report.reason if report else
                                                "nothing detected: no adapter (C = A, D = B)"),
                              "qa_items": len(items),
                              "examples": [{"question": x["question"], "gold": x["answer"], "category": x["category"],
                                            **{s: answers[s][i]["answer"] for s in SYSTEMS}}
                                           for i, x in enumerate(items[:8])]})
                all_items += items
                engine.set_adapter(None)
    subsets = {"all_sampled": lambda x: x["sampled"],
               "evidence_in_2+_sessions": lambda x: x["sampled"] and x["evidence_sessions"] >= 2,
               "evidence_on_detected_fact": lambda x: x["evidence_on_detected_fact"],
               "evidence_on_consolidated_fact": lambda x: x["evidence_on_consolidated_fact"]}
    results = {}
    for name, pred in subsets.items():
        idx = [i for i, x in enumerate(all_items) if pred(x)]
        results[name] = {s: locomo_summary([all_items[i] for i in idx], [all_scores[s][i] for i in idx])
                         for s in SYSTEMS} if idx else {}
        results[name + "_n"] = len(idx)
    for s in SYSTEMS:
        r = results["all_sampled"][s]["1-4"]
        log(f"   locomo {s}: containment {r['containment']:.3f}  token F1 {r['f1']:.3f}  (n={r['n']}, categories 1-4)")
    out = {"conversations": convs, "qa_items": len(all_items),
           "category_counts": dict(Counter(str(x["category"]) for x in all_items)),
           "metric": "categories 1-4: containment of the normalised gold answer, and token F1; "
                     "category 5 (adversarial): rate of giving the trap answer (lower is better)",
           "sampling": f"per conversation: up to {cfg['locomo_qa'] // 2} QA items whose evidence spans >= 2 sessions, "
                       f"the rest a seeded sample of the others ({cfg['locomo_qa']} in all); plus every item whose "
                       f"evidence lies on a detected fact (only in the evidence_on_* subsets)",
           "retrieval": {"k": k, "min_score": min_score}, "results": results}
    out.update(header(args, "locomo", settings, t0))
    return out


def _bench_module(name: str):
    """A sibling bench script as a module (bench/ is not a package and must not shadow the repo)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _evidence_text(path: Path) -> dict[str, str]:
    d = json.loads(path.read_text())
    return {t["dia_id"]: t["text"] for key, val in d.items() if re.fullmatch(r"session_\d+", key) for t in val}


# ------------------------------------------------------------------------------ part: scaling
def consolidate_facts(settings, engine, facts, earlier_ids, bank_n, registry: Registry,
                      unlearn=()) -> tuple[dict, float]:
    """One round on `facts` as the product runs it: the live version's unchanged shards carried,
    the changed ones trained, published if the gate passes; metrics + wall time."""
    t = time.perf_counter()
    cand = pipeline.build_candidate(settings, engine, facts, earlier_ids, list(unlearn), registry,
                                    progress=stage_printer(""),
                                    log=lambda m: None, gate_prompts=bank_n, previous=registry.current())
    if cand.gate.passed:
        registry.set_current(registry.commit(cand.staging, cand.manifest))
    else:
        shutil.rmtree(cand.staging, ignore_errors=True)
    wall = time.perf_counter() - t
    engine.set_adapter(None)
    keep = ["efficacy", "recall", "retention", "locality", "locality_raw", "locality_personal", "knowledge",
            "absence", "absence_declined", "ppl_drift", "train_steps", "train_tokens", "train_examples", "train_rescores",
            "unlearn_leaks", "n_heldout", "n_bank", "shards", "shards_trained", "shards_continued"]
    return {**{k: cand.metrics.get(k) for k in keep}, "passed": cand.gate.passed, "failures": cand.gate.failures,
            "seconds": cand.seconds, "wall_s": wall}, wall


def scaling_part(args, cfg, engine, save=None) -> dict:
    """Cumulative rounds over persona_large.json; `save(partial_result)` is called after each round."""
    t0 = time.perf_counter()
    settings = load_settings()
    facts = persona("persona_large.json")[getattr(args, "skip", 0):]
    rows, earlier = [], set()
    registry = Registry(Path(tempfile.mkdtemp(prefix="hippo-eval-reg-")))
    planned = getattr(args, "plan", None) or [n for n in cfg["scaling"] if n <= (getattr(args, "upto", None) or n)]
    for r, n in enumerate(planned, 1):
        log(f"scaling: round {r}: {n} facts (retention on {len(earlier)} earlier)")
        m, wall = consolidate_facts(settings, engine, facts[:n], earlier, cfg["bank"], registry)
        rows.append({"round": r, "facts": n, **m})
        log(f"   recall {m['recall']:.3f}  retention {m['retention'] if m['retention'] is not None else '-'}  "
            f"locality {m['locality']:.3f}  absence {m['absence'] if m['absence'] is not None else '-'}  "
            f"steps {m['train_steps']}  wall {wall:.0f} s  passed {m['passed']}")
        earlier = {f.id for f in facts[:n]}
        if save and n != planned[-1]:
            save({"rounds": rows, "facts_file": "bench/data/persona_large.json", "complete": False,
                  "planned": planned, **header(args, "scaling", settings, t0)})
    out = {"rounds": rows, "facts_file": "bench/data/persona_large.json", "complete": True, "planned": planned,
           "skipped": getattr(args, "skip", 0), "shard_size": settings.consolidation.shard_size}
    if getattr(args, "whole", False) and rows[-1]["passed"]:
        live = facts[:planned[-1]]
        out["whole_memory"] = whole_memory(settings, engine, registry, live)
        log(f"   whole memory: recall {out['whole_memory']['recall']:.3f}  retention "
            f"{out['whole_memory']['retention']:.3f}  absence {out['whole_memory']['absence']:.3f}  "
            f"adapters {out['whole_memory']['engine']['rss_added_mb']:.0f} MB")
        if save:
            save({**out, "complete": False, **header(args, "scaling", settings, t0)})
        out["forget_one"] = forget_one(settings, engine, registry, live, cfg["bank"], out["whole_memory"])
        log(f"   forget one: shards trained {out['forget_one']['round']['shards_trained']}  "
            f"its questions answered {out['forget_one']['recalled']} of {out['forget_one']['asked']}  "
            f"other answers changed {out['forget_one']['others_changed']} of {out['forget_one']['others_asked']}")
    shutil.rmtree(registry.root.parent, ignore_errors=True)
    out.update(header(args, "scaling", settings, t0))
    return out


def shard_questions(settings, version) -> dict[str, list]:
    """Each shard's FactQuestions, synthesised as its round did (per shard, from its facts)."""
    by_id = {f["id"]: SimpleNamespace(**f) for f in version.manifest["facts"]}
    n = settings.consolidation.examples_per_fact
    return {s.id: synthesize([by_id[i] for i in s.facts], n) for s in version.shards}


def whole_memory(settings, engine, registry: Registry, facts) -> dict:
    """The live version asked about every fact it holds, every shard loaded and the scope picking one
    per question: one held-out paraphrase and one trained question per fact (seeded), one "never
    said" question per fact group; what loading every shard adds to a fresh engine's RSS; pick time."""
    from consolidation.absence import ABSENT_ANSWER, absent_questions

    version = registry.current()
    rng = random.Random(0)
    groups = shard_questions(settings, version)
    said = ([f.attribute for f in facts], [f.value for f in facts])
    held = [(sid, g, rng.choice(g.heldout)) for sid, gs in groups.items() for g in gs if g.heldout]
    trained = [(sid, g, rng.choice(g.train_unique)) for sid, gs in groups.items() for g in gs if g.train_unique]
    absent = absent_questions([g for gs in groups.values() for g in gs], *said, "heldout", 1)

    footprint = engine_footprint(registry.root.parent, [qa.question for _, _, qa in held])
    apply_version(engine, settings, version)

    def ask(items, label):
        out = []
        for i, (sid, g, qa) in enumerate(items, 1):
            a = engine.answer(qa.question)
            out.append({"shard": sid, "facts": list(qa.fact_ids), "question": qa.question, "answer": a,
                        "correct": is_correct(a, qa.values)})
            if i % 50 == 0 or i == len(items):
                log(f"   whole memory: {label} {i}/{len(items)}")
        return out

    t0 = time.perf_counter()
    held_out, kept = ask(held, "held-out"), ask(trained, "trained")
    absent_answers = [engine.answer(qa.question) for qa in absent]
    per_shard = defaultdict(list)
    for r in held_out:
        per_shard[r["shard"]].append(r["correct"])
    engine.set_adapter(None)
    return {"version": version.name, "facts": len(facts), "shards": len(version.shards),
            "recall": rate(r["correct"] for r in held_out), "n_heldout": len(held_out),
            "retention": rate(r["correct"] for r in kept), "n_trained": len(kept),
            "absence": rate(not any(mentions(a, v) for v in said[1]) for a in absent_answers),
            "absence_declined": rate(mentions(a, ABSENT_ANSWER) for a in absent_answers),
            "n_absent": len(absent), "recall_per_shard": {s: rate(v) for s, v in per_shard.items()},
            "engine": {**footprint, "adapter_bytes": sum(s.gguf.stat().st_size for s in version.shards)},
            "ask_seconds": time.perf_counter() - t0, "answers": held_out}


FOOTPRINT = r"""
import json, sys, time
import psutil
from agent.engine import Engine
from config import load_settings
from config.models import resolve_model_path
from consolidation.live import apply_version
from consolidation.registry import Registry
from consolidation.live import embedder_for

questions = json.loads(sys.stdin.read())
settings = load_settings()
engine = Engine(resolve_model_path(settings), settings.model)
engine.answer(questions[0])  # what any first answer allocates, and the embedder the memory store loads anyway
embedder_for(settings).encode(["warm up"])
rss = lambda: psutil.Process().memory_info().rss / 2**20
before = rss()
apply_version(engine, settings, Registry(sys.argv[1]).current())
loaded = rss() - before
engine.scope.pick(questions[0])  # the first pick pays for lazily built tables
picks = []
for q in questions:
    t = time.perf_counter()
    engine.scope.pick(q)
    picks.append((time.perf_counter() - t) * 1000)
for q in questions[:8]:
    engine.answer(q)
picks.sort()
print(json.dumps({"rss_added_mb": loaded, "rss_added_after_answers_mb": rss() - before,
                  "pick_ms_median": picks[len(picks) // 2], "pick_ms_p90": picks[int(len(picks) * 0.9)]}))
"""


def engine_footprint(home: Path, questions: list[str]) -> dict:
    """In a new process (so that nothing freed earlier hides it): what loading every shard of the
    live version under `home` (and its scope) adds to an engine's RSS, and the scope's pick time."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", FOOTPRINT, str(home)], input=json.dumps(questions), text=True,
                         capture_output=True, check=True, cwd=HERE.parent,
                         env={**os.environ, "PYTHONPATH": str(HERE.parent)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def forget_one(settings, engine, registry: Registry, facts, bank_n, whole: dict) -> dict:
    """Forget one fact (seeded) as `agent forget` + a round do: the round retrains its shard from the
    base model; then its questions and every other fact's held-out question of `whole` are asked again."""
    gone = random.Random(1).choice(facts)
    rest = [f for f in facts if f.id != gone.id]
    log(f"scaling: forget {gone.id} ({gone.attribute}: {gone.value}) among {len(facts)}")
    m, wall = consolidate_facts(settings, engine, rest, {f.id for f in rest}, bank_n, registry, unlearn=[gone])
    version = registry.current()
    apply_version(engine, settings, version)
    own = unlearn_probes(synthesize([gone], settings.consolidation.examples_per_fact))
    leaked = [{"question": qa.question, "answer": a} for qa in own
              if any(mentions(a := engine.answer(qa.question), v) for v in qa.values)]
    retrained = next((s.id for s in version.shards if s.trained == version.name), None) if m["passed"] else None
    changed, still = [], []
    for r in whole["answers"]:
        if gone.id in r["facts"]:
            continue
        a = engine.answer(r["question"])
        still.append(is_correct(a, [f.value for f in facts if f.id in r["facts"]]))
        if a != r["answer"]:
            changed.append({"shard": r["shard"], "question": r["question"], "before": r["answer"], "after": a})
    engine.set_adapter(None)
    return {"fact": {"id": gone.id, "attribute": gone.attribute, "value": gone.value}, "round": m, "wall_s": wall,
            "retrained_shard": retrained, "asked": len(own), "recalled": len(leaked), "leaks": leaked,
            "others_asked": len(still), "others_changed": len(changed), "others_recall": rate(still),
            "changed": changed}


# ------------------------------------------------------------------------------ part: data
def data_part(args, cfg, engine, systems: dict | None) -> dict:
    t0 = time.perf_counter()
    base = load_settings()
    facts = persona()[: cfg["data_facts"]]
    rows = []
    for e in cfg["data_examples"]:
        settings = load_settings(consolidation={"examples_per_fact": e})
        log(f"data: {e} training example(s) per fact, {len(facts)} facts")
        with tempfile.TemporaryDirectory(prefix="hippo-eval-reg-") as tmp:
            m, wall = consolidate_facts(settings, engine, facts, set(), cfg["bank"], Registry(Path(tmp)))
        rows.append({"examples_per_fact": e, **m})
        log(f"   recall {m['recall']:.3f}  locality {m['locality']:.3f}  efficacy {m['efficacy']:.3f}  "
            f"steps {m['train_steps']}  wall {wall:.0f} s")
    sessions = None
    if systems:
        c, d, b = (systems["systems"][s]["accuracy_by_sessions"] for s in ("C", "D", "B"))
        loc = systems["consolidation"]["metrics"].get("locality")
        sessions = {"source": f"the systems part ({systems['mode']} run, {systems['date']})",
                    "min_sessions": base.memory.min_sessions, "locality": loc,
                    "rows": [{"sessions": int(n), "n": c[n]["n"], "recall_hippo": c[n]["accuracy"],
                              "recall_hippo_retrieval": d[n]["accuracy"], "recall_retrieval": b[n]["accuracy"],
                              "detection": systems["detection"].get(n)} for n in c]}
    out = {"facts": len(facts), "examples_curve": rows, "sessions_curve": sessions}
    out.update(header(args, "data", base, t0))
    return out


# ------------------------------------------------------------------------------ plots
def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        print("matplotlib not installed: no plot (pip install matplotlib)")
        return None


def plot_scaling(result: dict, path: Path) -> None:
    plt = _plt()
    if not plt:
        return
    rows = result["rounds"]
    xs = [r["facts"] for r in rows]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
    for (key, label), (marker, size, style) in zip(
            [("recall", "held-out recall"), ("retention", "retention (earlier rounds)"),
             ("locality", "locality (scope gate)"), ("locality_raw", "locality (raw adapter)"),
             ("absence", "absence (never-said questions)")],
            [("o", 9, "-"), ("s", 6, "--"), ("^", 5, ":"), ("v", 5, "-"), ("D", 5, "-.")]):  # distinct when they overlap
        ax.plot(xs, [r[key] if r.get(key) is not None else float("nan") for r in rows], marker=marker,
                markersize=size, linestyle=style, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("facts consolidated (cumulative rounds)")
    ax.legend(loc="lower left", fontsize=8)
    ax2.bar([str(x) for x in xs], [r["wall_s"] / 60 for r in rows], color="tab:gray")
    ax2.set_xlabel("facts consolidated")
    ax2.set_ylabel("consolidation wall time (min)")
    fig.suptitle(f"hippo-agent scaling ({result['mode']} run, {result['machine'].split(',')[1].strip()})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log(f"wrote {path}")


def plot_data(result: dict, path: Path) -> None:
    plt = _plt()
    if not plt:
        return
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
    rows = result["examples_curve"]
    xs = [r["examples_per_fact"] for r in rows]
    ax.plot(xs, [r["recall"] for r in rows], marker="o", markersize=9, label="held-out recall")
    ax.plot(xs, [r["locality"] for r in rows], marker="s", markersize=5, linestyle="--", label="locality")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("synthesized training examples per fact")
    ax.legend(loc="lower right", fontsize=8)
    sc = result.get("sessions_curve")
    if sc:
        ns = [r["sessions"] for r in sc["rows"]]
        ax2.plot(ns, [r["recall_hippo"] for r in sc["rows"]], marker="o", label="hippo (C) held-out recall")
        ax2.plot(ns, [r["recall_retrieval"] for r in sc["rows"]], marker="^", label="retrieval (B)")
        if sc.get("locality") is not None:
            ax2.axhline(sc["locality"], ls="--", color="tab:orange", label="locality (C)")
        ax2.axvline(sc["min_sessions"] - 0.5, ls=":", color="gray")
        ax2.set_xticks(ns)
        ax2.set_ylim(0, 1.05)
        ax2.legend(loc="lower right", fontsize=8)
    ax2.set_xlabel("sessions the fact was stated in")
    fig.suptitle(f"How much data is needed? ({result['mode']} run)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log(f"wrote {path}")


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="reduced version of every part (target: <= 15 min on an idle 2-core machine)")
    ap.add_argument("--only", nargs="+", choices=["systems", "natural", "locomo", "scaling", "data"],
                    default=["systems", "natural", "locomo", "scaling", "data"])
    ap.add_argument("--tag", default="", help="suffix of the results files")
    ap.add_argument("--upto", type=int, default=None, help="scaling: stop after the round that reaches this many facts")
    ap.add_argument("--plan", type=int, nargs="+", help="scaling: these cumulative fact counts instead (e.g. 40 50 60)")
    ap.add_argument("--skip", type=int, default=0,
                    help="scaling: leave out persona_large's first N facts (a first round on the facts a later round adds)")
    ap.add_argument("--whole", action="store_true",
                    help="scaling: after the last round, ask every fact of the live version, measure the engine with "
                         "every shard loaded, then forget one fact and ask again")
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    t_all = time.perf_counter()
    settings = load_settings()
    log(f"evaluate ({'quick' if args.quick else 'full'}): parts {', '.join(args.only)}; {machine()}")
    engine = Engine(resolve_model_path(settings), settings.model)
    embedder = get_embedder(settings.memory.embedder_path, settings.memory.embedder)
    embedder.encode(["warm up"])
    tag = args.tag or ("quick" if args.quick else "")
    systems = None
    k, min_score = RETRIEVAL_K, RETRIEVAL_MIN_SCORE
    if "systems" in args.only:
        systems = systems_part(args, cfg, engine, embedder)
        write_result("systems", systems, tag)
        k, min_score = systems["retrieval"]["k"], systems["retrieval"]["min_score"]
    else:  # an earlier systems run (this mode's first): its tuned retrieval and its sessions curve
        for name in dict.fromkeys([f"evaluate-systems{('-' + tag) if tag else ''}.json", "evaluate-systems.json",
                                   "evaluate-systems-quick.json"]):
            if (RESULTS / name).exists():
                systems = json.loads((RESULTS / name).read_text())
                k, min_score = systems["retrieval"]["k"], systems["retrieval"]["min_score"]
                log(f"using the tuned retrieval and sessions curve of {name}")
                break
    if "data" in args.only:
        data = data_part(args, cfg, engine, systems)
        write_result("data", data, tag)
        plot_data(data, RESULTS / f"evaluate-data{('-' + tag) if tag else ''}.png")
    if "scaling" in args.only:
        scaling = scaling_part(args, cfg, engine, save=lambda partial: write_result("scaling", partial, tag))
        write_result("scaling", scaling, tag)
        plot_scaling(scaling, RESULTS / f"evaluate-scaling{('-' + tag) if tag else ''}.png")
    if "natural" in args.only:
        write_result("natural", natural_part(args, cfg, engine, embedder), tag)
    if "locomo" in args.only:
        write_result("locomo", locomo_part(args, cfg, engine, embedder, k, min_score), tag)
    log(f"done in {(time.perf_counter() - t_all) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
