"""One consolidation run: ledger → synthesize → train → measure → export → gate → publish.

Facts live in shards (consolidation/shards.py), one adapter each. A run trains only the shards
whose fact set changed: one that lost a fact (superseded, forgotten) from the base model, so the
fact leaves the weights exactly; one that only gained facts on from its adapter (early stop on
every fact it holds). Unchanged shards are carried over as they are.
The gate measures the whole new set: the retrained shards' facts, a sample of the carried
ones (routing between shards), locality and knowledge through the scope gate.
Crash safety: the new version is built in a staging dir and only renamed into place when
complete; `current` switches atomically after that; the ledger is updated last, in one
transaction. A crash anywhere leaves the previous adapter live and the ledger as it was.
"""

from __future__ import annotations

import math
import random
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from config import Settings
from config.atomic import atomic_write_json
from consolidation.absence import absent_questions
from consolidation.erase import erase_values
from consolidation.bank import cached_answers, cached_value, distill_prompts, locality_bank, reference_text
from consolidation.gate import evaluate
from consolidation.live import apply_version, embedder_for, fits, shard_scope
from consolidation.registry import AdapterVersion, Registry
from consolidation.scope import Scope, is_personal
from consolidation.shards import plan_shards
from consolidation.synthesize import FactQuestions, synthesize
from consolidation.train import Example, LoraTrainConfig

Progress = Callable[[str, int, int], None]  # (stage, done, total)
CARRIED_SAMPLE = 12  # facts of unchanged shards whose questions the gate asks again (retention, routing)
CARRIED_HELDOUT = 2  # held-out questions asked per carried fact


def gate_questions(trained: list[FactQuestions], known_before: set[str],
                   carried: list[FactQuestions]) -> list[FactQuestions]:
    """What the gate asks of each fact: every held-out question of a fact new to its adapter;
    CARRIED_HELDOUT of one whose adapter file is carried over, or whose shard continued training
    from an adapter that was gated on it before (training rescored all its trained questions)."""
    def few(g: FactQuestions) -> FactQuestions:
        return replace(g, heldout=g.heldout[:CARRIED_HELDOUT])

    return [few(g) if set(g.fact_ids) <= known_before else g for g in trained] + [few(g) for g in carried]


@dataclass
class ConsolidationReport:
    version: str | None
    published: bool
    facts: list[dict]
    metrics: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    reason: str = ""
    unlearned: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def train_config(settings: Settings, steps: int) -> LoraTrainConfig:
    from consolidation.base_model import pick_device, uses_bf16

    c = settings.consolidation
    return LoraTrainConfig(rank=c.rank, alpha=c.alpha, learning_rate=c.learning_rate, steps=steps,
                           batch_size=c.batch_size, target_modules=tuple(c.target_modules),
                           layers=c.layers, seed=c.seed, bf16=uses_bf16(c.precision, pick_device(c.device)),
                           focus=c.focus)


def perplexity(model, tokenizer, text: str, window: int = 512, windows: int | None = None) -> float:
    """Token perplexity of `text` in non-overlapping windows (no grad); the first `windows` only if given."""
    import torch

    ids = tokenizer(text, add_special_tokens=False)["input_ids"][:window * windows if windows else None]
    bos = getattr(tokenizer, "bos_token_id", None)
    device = next(model.parameters()).device
    nll, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids), window):
            chunk = ([bos] if bos is not None else []) + ids[start:start + window]
            x = torch.tensor([chunk], device=device)
            out = model(input_ids=x, labels=x)
            n = len(chunk) - 1
            nll += float(out.loss) * n
            count += n
    return math.exp(nll / max(count, 1))


@dataclass
class Candidate:
    """A trained, exported, measured set of shard adapters waiting in a staging dir."""

    staging: Path
    version: str
    adapters: list[Path]
    scope: object
    gate: object  # GateResult
    metrics: dict
    seconds: dict
    manifest: dict


def export_adapter(model, info, alpha: float, out_dir: Path, version: str | None = None) -> Path:
    """Save the trained LoRA `model` into `out_dir`: PEFT files (for torch) and `adapter.gguf` (for
    llama.cpp, stamped with the base model `info`)."""
    from consolidation.adapter_file import write_lora_gguf
    from consolidation.train import lora_state_dict

    model.save_pretrained(out_dir, safe_serialization=True)
    return write_lora_gguf(lora_state_dict(model), out_dir / "adapter.gguf", architecture=info.architecture,
                           n_layers=info.n_layers, alpha=alpha, base_sha256=info.sha256, version=version)


def baseline_key(engine, settings: Settings) -> list[str]:
    """What the cached base answers depend on: the model, its prompt, and how long an answer may be."""
    return [engine.base_sha256, engine.format.style, engine.format.render("{q}"), str(settings.model.max_tokens)]


def build_candidate(settings: Settings, engine, facts, earlier_ids: set[str], unlearn, registry: Registry,
                    progress: Progress | None = None, log: Callable[[str], None] = print,
                    gate_prompts: int | None = None, previous: AdapterVersion | None = None) -> Candidate:
    """Plan shards → synthesize → train the changed shards → perplexity → export + scope → gate,
    for `facts` (FactLike, the whole live set, oldest first).

    `earlier_ids`: facts consolidated before (their retention is checked); `unlearn`: facts
    whose values must no longer come out; `previous`: the live version, whose unchanged shards are
    carried over (None: every shard is trained); `gate_prompts`: the gate measures locality on the
    first `gate_prompts` bank and personal prompts only (benchmarks' quick runs; None: all of them).
    Needs no memory store: benchmarks call it directly.
    """
    progress = progress or (lambda *a: None)
    c = settings.consolidation
    seconds: dict[str, float] = {}

    t0 = time.perf_counter()
    before = {s.id: s for s in previous.shards} if previous else {}
    replaces = {f.superseded_by: f.id for f in unlearn if getattr(f, "superseded_by", None)}
    size = c.shard_size if c.scope_gate else max(len(facts), 1)  # without the scope gate nothing picks a shard
    shards = plan_shards(list(before.values()) if c.scope_gate else [], facts, size, replaces)
    changed = [s for s in shards if s.changed]
    groups = {s.id: synthesize(s.facts, c.examples_per_fact) for s in changed}
    carried = [f for s in shards if not s.changed for f in s.facts]
    carried = random.Random(c.seed).sample(carried, min(len(carried), CARRIED_SAMPLE))
    unlearn_groups = synthesize(unlearn, c.examples_per_fact)
    said = ([f.attribute for f in facts], [f.value for f in facts])  # absence questions avoid all of it
    seconds["synthesis"] = time.perf_counter() - t0

    # base answers (cached per model): anchors for training, the bank for the gate
    t0 = time.perf_counter()
    engine.set_adapter(None)
    key = baseline_key(engine, settings)
    prompts = distill_prompts()
    random.Random(c.seed).shuffle(prompts)
    anchors = prompts[: c.anchors]
    anchor_answers = cached_answers(settings.cache, key, anchors, engine.answer,
                                    lambda i, n: progress("base answers (anchors, once)", i, n)) if anchors else []
    bank = locality_bank()[:gate_prompts]
    base_bank = cached_answers(settings.cache, key, [b.question for b in bank], engine.answer,
                               lambda i, n: progress("base answers (bank, once)", i, n))
    seconds["baselines"] = time.perf_counter() - t0

    staging = registry.stage()
    version = registry.next_name()
    seconds.update(training=0.0, perplexity=0.0, export=0.0)
    trained, drifts, scopes = [], [], []
    known_before = set()  # facts a continued shard's adapter had learned and was gated on before
    model = tokenizer = info = fmt = None
    for shard in shards:
        t0 = time.perf_counter()
        if not shard.changed:
            directory = registry.carry(staging, before[shard.id])
            scope = shard_scope(settings, directory) if c.scope_gate else None
            if scope is not None and scope.attributes is None:  # saved before keys knew their fact: rebuilt
                scope = Scope.of_groups(synthesize(shard.facts, c.examples_per_fact), embedder_for(settings),
                                        c.scope_threshold)
                scope.save(directory)  # a new file: the earlier version's hard link stays as it was
            scopes.append(scope)
            seconds["export"] += time.perf_counter() - t0
            continue
        from consolidation.base_model import load_base_model
        from consolidation.prompt import format_for_model
        from consolidation.train import resume_lora, train_lora

        if model is None:
            model, tokenizer, info = load_base_model(settings, progress=log)
            fmt = format_for_model(settings.model.prompt_format, info.gguf_path)
        shard_groups = groups[shard.id]
        qas = [qa for g in shard_groups for qa in g.train] + absent_questions(shard_groups, *said, "train",
                                                                               c.absence_per_fact)
        examples = [Example(qa.question, qa.answer) for qa in qas]
        must = [True] * len(examples)
        examples += [Example(p, a, c.anchor_weight) for p, a in zip(anchors, anchor_answers) if a.strip()]
        must += [False] * (len(examples) - len(must))
        budget = c.max_steps
        label = "training" if len(changed) == 1 else f"training {shard.id} ({len(trained) + 1} of {len(changed)})"
        cfg = train_config(settings, budget)
        start = resume_lora(model, before[shard.id].path, cfg) if shard.grown and c.continue_shards else None
        known = set(before[shard.id].facts) if start is not None else set()  # what its adapter learned already
        known_before |= known
        learned = [bool(known) and set(qa.fact_ids) <= known for qa in qas] + [False] * (len(examples) - len(qas))
        result = train_lora(model, tokenizer, fmt, examples, cfg, on_step=lambda i, loss: progress(label, i, budget),
                            stop_loss=c.stop_loss, must_learn=must, anchor_share=c.anchor_share, start=start,
                            learned=learned)
        progress(label, result.steps, result.steps)  # early stop: the bar ends where training did
        seconds["training"] += time.perf_counter() - t0

        t0 = time.perf_counter()
        ref = reference_text()
        windows = 1 if c.scope_gate else None  # behind the scope gate, drift only guards against catastrophe

        def base_ppl() -> float:
            with result.model.disable_adapter():
                return perplexity(result.model, tokenizer, ref, windows=windows)

        ppl_base = cached_value(settings.cache, ["ppl", info.sha256, ref, str(windows)], base_ppl)
        drifts.append(perplexity(result.model, tokenizer, ref, windows=windows) / ppl_base - 1.0)
        seconds["perplexity"] += time.perf_counter() - t0

        t0 = time.perf_counter()
        export_adapter(result.model, info, c.alpha, staging / shard.id, version)
        scope = None
        if c.scope_gate:
            scope = Scope.of_groups(shard_groups, embedder_for(settings), c.scope_threshold)
            scope.save(staging / shard.id)
        scopes.append(scope)
        trained.append({"id": shard.id, "facts": len(shard.facts), "steps": result.steps,
                        "examples": len(examples), "stopped_early": result.stopped_early, "rescores": result.rescores,
                        "continued": start is not None,
                        "final_loss": result.losses[-1], "tokens": result.tokens})
        model = result.model.unload()  # the bare base model again, for the next shard
        seconds["export"] += time.perf_counter() - t0

    scope = Scope.combine(scopes) if scopes and all(s is not None for s in scopes) else None
    adapters = [staging / s.id / "adapter.gguf" for s in shards]

    # the gate: the retrained shards' facts, and a sample of the carried ones
    t0 = time.perf_counter()
    gate_groups = gate_questions([g for s in changed for g in groups[s.id]], known_before,
                                 synthesize(carried, c.examples_per_fact))
    unseen = [p for p in prompts[c.anchors:] if is_personal(p)][:gate_prompts]
    gate = evaluate(engine, adapters, scope, gate_groups, earlier_ids | {f.id for f in carried}, unlearn_groups,
                    bank, base_bank, c.gate, ppl_drift=max(drifts, key=abs) if drifts else None, scope_on=c.scope_gate,
                    personal=(unseen, cached_answers(settings.cache, key, unseen, _base_answer(engine),
                                                      lambda i, n: progress("base answers (personal, once)", i, n))),
                    absent=(absent_questions(gate_groups, *said, "heldout", 1), said[1]),
                    progress=lambda stage, i, n: progress(f"gate: {stage}", i, n))
    seconds["gate"] = time.perf_counter() - t0
    seconds.update({f"gate: {check}": t for check, t in gate.seconds.items()})
    train_stats = {"train_steps": sum(t["steps"] for t in trained), "train_tokens": sum(t["tokens"] for t in trained),
                   "train_examples": sum(t["examples"] for t in trained),
                   "stopped_early": all(t["stopped_early"] for t in trained),
                   "train_rescores": sum(t["rescores"] for t in trained),
                   "shards_continued": sum(t["continued"] for t in trained),
                   "final_loss": max((t["final_loss"] for t in trained), default=None),
                   "shards": len(shards), "shards_trained": len(trained)}
    metrics = {**gate.metrics, **train_stats}
    manifest = {
        "version": version, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "base_model": {"path": str(engine.model_path), "sha256": engine.base_sha256, "architecture": engine.architecture},
        "facts": [{"id": f.id, "text": f.text, "attribute": f.attribute, "value": f.value} for f in facts],
        "shards": [{"id": s.id, "facts": [f.id for f in s.facts],
                    "trained": version if s.changed else before[s.id].trained} for s in shards],
        "training": trained, "unlearned": [f.id for f in unlearn], "metrics": metrics,
        "config": c.model_dump(mode="json"), "prompt_format": fmt.style if fmt else engine.format.style,
        "scope": {"threshold": c.scope_threshold, "keys": len(scope.keys)} if scope else None,
    }
    return Candidate(staging, version, adapters, scope, gate, metrics, seconds, manifest)


def _base_answer(engine):
    """Answer with the base model alone, restoring whatever adapters were set."""
    def answer(q: str) -> str:
        saved = engine.adapter, engine.scope
        engine.set_adapter(None)
        try:
            return engine.answer(q)
        finally:
            if saved[0] is not None:
                engine.set_adapters(saved[0].paths, version=saved[0].version, scope=saved[1])
    return answer


def consolidate(settings: Settings, memory, engine, progress: Progress | None = None,
                log: Callable[[str], None] = print, detect: Callable[[], object] | None = None,
                gate_prompts: int | None = None, keep: Path | None = None) -> ConsolidationReport:
    """Run one consolidation with `memory` (a memory.Memory) and the live `engine`.

    `detect` brings the facts up to date first (default `memory.detect`; the daemon passes its own,
    which extracts outside its memory lock). Benchmarks: `gate_prompts` as in `build_candidate`;
    `keep` gets a copy of the candidate, published or not (what a rejected adapter would answer)."""
    t_start = time.perf_counter()
    registry = Registry(settings.home)
    stale = registry.clean()
    if stale:
        log(f"removed half-written versions: {', '.join(stale)}")

    (detect or memory.detect)()
    candidates = memory.facts("candidate")
    consolidated = memory.facts("consolidated")
    unlearn = memory.to_unlearn()
    facts = consolidated + candidates
    fact_dicts = [{"id": f.id, "text": f.text, "attribute": f.attribute, "value": f.value, "status": f.status}
                  for f in facts]
    current = registry.current()
    switched = current is not None and not fits(current, engine.base_sha256)  # the user changed models
    if not candidates and not unlearn and not switched:
        return ConsolidationReport(None, False, fact_dicts, reason="nothing to do: no new candidate facts")
    if not facts:  # everything was forgotten: the base model alone is the right answer
        registry.set_current(None)
        engine.set_adapter(None)
        memory.mark_unlearned([f.id for f in unlearn])
        erase_values(settings.home, [f for f in unlearn if f.status == "forgotten"])
        return ConsolidationReport(None, True, [], seconds={"total": time.perf_counter() - t_start},
                                   reason="no facts left: adapter removed", unlearned=[f.id for f in unlearn])

    cand = build_candidate(settings, engine, facts, {f.id for f in consolidated}, unlearn, registry, progress, log,
                           gate_prompts, previous=None if switched else current)
    if keep is not None:
        shutil.copytree(cand.staging, keep)
    report = ConsolidationReport(cand.version, cand.gate.passed, fact_dicts, cand.metrics, cand.seconds,
                                 failures=cand.gate.failures)
    if cand.gate.passed:
        published = registry.commit(cand.staging, cand.manifest)
        registry.set_current(published)
        memory.set_status([f.id for f in candidates], "consolidated", note=f"consolidated into {cand.version}")
        memory.mark_unlearned([f.id for f in unlearn])
        apply_version(engine, settings, published)
        report.unlearned = [f.id for f in unlearn]
        report.reason = f"published {cand.version}"
    else:
        shutil.rmtree(cand.staging, ignore_errors=True)
        apply_version(engine, settings, registry.current())  # the previous adapter stays live
        report.version = None
        report.reason = "gate failed: " + "; ".join(cand.gate.failures)
    report.seconds["total"] = time.perf_counter() - t_start
    _record(settings, report, cand.gate.details)
    if cand.gate.passed:  # the weights no longer hold them: forgotten values leave every record
        erase_values(settings.home, [f for f in unlearn if f.status == "forgotten"])
    return report


def _record(settings: Settings, report: ConsolidationReport, details: dict) -> Path:
    """Keep every run's report (published or not) under $AGENT_HOME/consolidations/."""
    path = settings.home / "consolidations" / f"{time.strftime('%Y%m%dT%H%M%S')}-{report.version or 'rejected'}.json"
    atomic_write_json(path, {**report.to_dict(), "details": details})
    return path
